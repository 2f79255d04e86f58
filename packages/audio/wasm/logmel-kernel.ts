// AssemblyScript source of the log-mel kernel (packages/audio/src/logmel-kernel.ts loads it):
// window -> real FFT -> power -> sparse mel product for two STFT frames at a time, one frame per
// f64x2 lane. Each lane performs exactly the float64 operations of the JavaScript path (fft.js's
// radix-4 real transform, whose `inv * x` factors are 1 in the forward direction; the power sum;
// the mel sum in band order), so the results are bit-identical to it: wasm has no fused or
// reassociated float arithmetic. Build: npm run build:wasm -w packages/audio.
//
// The host lays out every buffer in this module's memory and passes byte offsets to `configure`.

let nFft: i32 = 0; // FFT size (power of two)
let hop: i32 = 0; // samples between frames
let winPtr: usize = 0; // f64[nFft]: window, zero-padded centred
let winStart: i32 = 0; // first non-zero window index
let winEnd: i32 = 0; // one past the last non-zero window index
let tablePtr: usize = 0; // f64[2 nFft]: fft.js's twiddle table
let bitrevPtr: usize = 0; // i32[1 << width]: fft.js's first-pass digit reversal
let width: i32 = 0; // fft.js's _width
let dataPtr: usize = 0; // f64x2[nFft]: the two windowed frames, interleaved
let specPtr: usize = 0; // f64x2[2 nFft]: the two spectra, [re, im] per bin
let powerPtr: usize = 0; // f64x2[bins]: the two power spectra
let bins: i32 = 0; // nFft / 2 + 1
let nMels: i32 = 0;
let bandStartPtr: usize = 0; // i32[nMels]: first FFT bin of band m
let bandOffPtr: usize = 0; // i32[nMels + 1]: band m's weights are [off[m], off[m + 1])
let bandWeightPtr: usize = 0; // f64[off[nMels]]

export function configure(
  nFft_: i32, hop_: i32, winPtr_: usize, winStart_: i32, winEnd_: i32,
  tablePtr_: usize, bitrevPtr_: usize, width_: i32, dataPtr_: usize, specPtr_: usize, powerPtr_: usize,
  nMels_: i32, bandStartPtr_: usize, bandOffPtr_: usize, bandWeightPtr_: usize,
): void {
  nFft = nFft_; hop = hop_; winPtr = winPtr_; winStart = winStart_; winEnd = winEnd_;
  tablePtr = tablePtr_; bitrevPtr = bitrevPtr_; width = width_; dataPtr = dataPtr_; specPtr = specPtr_; powerPtr = powerPtr_;
  bins = (nFft_ >> 1) + 1;
  nMels = nMels_; bandStartPtr = bandStartPtr_; bandOffPtr = bandOffPtr_; bandWeightPtr = bandWeightPtr_;
}

/** Frame t of the signal (f32 when isF32, else f64; `len` samples at xPtr) into lane `lane` of data. */
function fillLane(xPtr: usize, len: i32, isF32: bool, t: i32, lane: i32): void {
  const base = t * hop - (nFft >> 1); // input index of frame[0]
  const lo = max(winStart, -base);
  const hi = min(winEnd, len - base);
  const d = dataPtr + (<usize>lane << 3);
  for (let i = winStart; i < min(lo, winEnd); i++) store<f64>(d + (<usize>i << 4), 0.0);
  if (isF32) {
    for (let i = lo; i < hi; i++) {
      store<f64>(d + (<usize>i << 4), <f64>load<f32>(xPtr + (<usize>(base + i) << 2)) * load<f64>(winPtr + (<usize>i << 3)));
    }
  } else {
    for (let i = lo; i < hi; i++) {
      store<f64>(d + (<usize>i << 4), load<f64>(xPtr + (<usize>(base + i) << 3)) * load<f64>(winPtr + (<usize>i << 3)));
    }
  }
  for (let i = max(hi, winStart); i < winEnd; i++) store<f64>(d + (<usize>i << 4), 0.0);
}

/**
 * fillLane for both lanes of float32 input when neither frame reaches past the signal: frame
 * samples x[base0 + i] and x[base1 + i] times window[i] for the window's non-zero span (the same
 * products as fillLane).
 */
function fillBothF32(xPtr: usize, base0: i32, base1: i32): void {
  const p0 = xPtr + (<usize>base0 << 2);
  const p1 = xPtr + (<usize>base1 << 2);
  for (let i = winStart; i < winEnd; i++) {
    const o = <usize>i;
    const v = f64x2.replace_lane(f64x2.splat(<f64>load<f32>(p0 + (o << 2))), 1, <f64>load<f32>(p1 + (o << 2)));
    v128.store(dataPtr + (o << 4), f64x2.mul(v, v128.load64_splat(winPtr + (o << 3))));
  }
}

@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 4);
}

/** The 8 values a radix-4 butterfly of the first pass writes at outOff (those at +1 and +5 are 0). */
@inline function storeFirstPass(outOff: i32, v0: v128, v2: v128, v3: v128, v4: v128, v6: v128, v7: v128): void {
  const zero = f64x2.splat(0.0);
  v128.store(at(specPtr, outOff), v0);
  v128.store(at(specPtr, outOff + 1), zero);
  v128.store(at(specPtr, outOff + 2), v2);
  v128.store(at(specPtr, outOff + 3), v3);
  v128.store(at(specPtr, outOff + 4), v4);
  v128.store(at(specPtr, outOff + 5), zero);
  v128.store(at(specPtr, outOff + 6), v6);
  v128.store(at(specPtr, outOff + 7), v7);
}

/**
 * fft.js's _realTransform4 (forward) on both lanes: data -> spec, except that the last radix-4
 * pass writes the power spectrum (bins 0..nFft/2) straight into power; returns whether it did
 * (an n_fft of 4 has no such pass).
 */
function realTransform4(): bool {
  const size = nFft << 1;
  let step = 1 << width;
  let len = (size / step) << 1;
  const half = step >>> 1;
  const zero = f64x2.splat(0.0);
  if (len == 4) {
    for (let outOff = 0, t = 0; outOff < size; outOff += len, t++) {
      const off = load<i32>(bitrevPtr + (<usize>t << 2)) >>> 1;
      const evenR = v128.load(at(dataPtr, off));
      const oddR = v128.load(at(dataPtr, off + half));
      v128.store(at(specPtr, outOff), f64x2.add(evenR, oddR));
      v128.store(at(specPtr, outOff + 1), zero);
      v128.store(at(specPtr, outOff + 2), f64x2.sub(evenR, oddR));
      v128.store(at(specPtr, outOff + 3), zero);
    }
  } else if (winStart >= half && winEnd <= 3 * half) {
    // The window fills only the middle half of the frame (win_length <= n_fft / 2, the paper's
    // 512 of 1024): inputs A and D of every butterfly of this pass are 0, so it adds nothing to
    // them. The sums below equal fft.js's exactly but for the sign of a zero (0 + C = C), which no
    // later addition or product turns into another non-zero value, and the power squares away.
    for (let outOff = 0, t = 0; outOff < size; outOff += len, t++) {
      const off = load<i32>(bitrevPtr + (<usize>t << 2)) >>> 1;
      const Br = v128.load(at(dataPtr, off + half));
      const Cr = v128.load(at(dataPtr, off + 2 * half));
      const nCr = f64x2.neg(Cr);
      storeFirstPass(outOff, f64x2.add(Cr, Br), nCr, f64x2.neg(Br), f64x2.sub(Cr, Br), nCr, Br);
    }
  } else {
    for (let outOff = 0, t = 0; outOff < size; outOff += len, t++) {
      const off = load<i32>(bitrevPtr + (<usize>t << 2)) >>> 1;
      const Ar = v128.load(at(dataPtr, off));
      const Br = v128.load(at(dataPtr, off + half));
      const Cr = v128.load(at(dataPtr, off + 2 * half));
      const Dr = v128.load(at(dataPtr, off + 3 * half));
      const T0r = f64x2.add(Ar, Cr);
      const T1r = f64x2.sub(Ar, Cr);
      const T2r = f64x2.add(Br, Dr);
      const T3r = f64x2.sub(Br, Dr);
      storeFirstPass(outOff, f64x2.add(T0r, T2r), T1r, f64x2.neg(T3r), f64x2.sub(T0r, T2r), T1r, T3r);
    }
  }
  // fft.js's radix-4 passes. Within a pass every butterfly reads and writes its own positions, so
  // their order is free: the loop over blocks runs inside the loop over twiddles, which are then
  // loaded once per pass instead of once per block. The last pass (one block spanning the whole
  // spectrum) writes |X|^2 of each bin instead of X.
  for (step >>= 2; step >= 2; step >>= 2) {
    len = (size / step) << 1;
    const last = len == size;
    for (let i = 0, k = 0; i <= len >>> 3; i += 2, k += step) {
      const tw = tablePtr + (<usize>k << 3);
      if (last) butterfly(0, i, len, tw, k, true);
      else for (let outOff = 0; outOff < size; outOff += len) butterfly(outOff, i, len, tw, k, false);
    }
    if (last) return true;
  }
  return false;
}

/** Output position `pos` of a pass (re at pos, im at pos + 1): into spec, or its power into power[pos / 2]. */
@inline function emit(pos: i32, re: v128, im: v128, toPower: bool): void {
  if (toPower) v128.store(at(powerPtr, pos >> 1), f64x2.add(f64x2.mul(re, re), f64x2.mul(im, im)));
  else {
    v128.store(at(specPtr, pos), re);
    v128.store(at(specPtr, pos + 1), im);
  }
}

/** One radix-4 butterfly of fft.js's _realTransform4 on both lanes: block `outOff`, index `i` (twiddle k at tw). */
@inline function butterfly(outOff: i32, i: i32, len: i32, tw: usize, k: i32, toPower: bool): void {
  const halfLen = len >>> 1;
  const quarterLen = halfLen >>> 1;
  const hquarterLen = quarterLen >>> 1;
  const A = outOff + i;
  const B = A + quarterLen;
  const C = B + quarterLen;
  const D = C + quarterLen;
  const Ar = v128.load(at(specPtr, A));
  const Ai = v128.load(at(specPtr, A + 1));
  const Br = v128.load(at(specPtr, B));
  const Bi = v128.load(at(specPtr, B + 1));
  const Cr = v128.load(at(specPtr, C));
  const Ci = v128.load(at(specPtr, C + 1));
  const Dr = v128.load(at(specPtr, D));
  const Di = v128.load(at(specPtr, D + 1));
  const tBr = v128.load64_splat(tw);
  const tBi = v128.load64_splat(tw + 8);
  const tCr = v128.load64_splat(tw + (<usize>k << 3));
  const tCi = v128.load64_splat(tw + (<usize>k << 3) + 8);
  const tDr = v128.load64_splat(tw + (<usize>k << 4));
  const tDi = v128.load64_splat(tw + (<usize>k << 4) + 8);
  const MBr = f64x2.sub(f64x2.mul(Br, tBr), f64x2.mul(Bi, tBi));
  const MBi = f64x2.add(f64x2.mul(Br, tBi), f64x2.mul(Bi, tBr));
  const MCr = f64x2.sub(f64x2.mul(Cr, tCr), f64x2.mul(Ci, tCi));
  const MCi = f64x2.add(f64x2.mul(Cr, tCi), f64x2.mul(Ci, tCr));
  const MDr = f64x2.sub(f64x2.mul(Dr, tDr), f64x2.mul(Di, tDi));
  const MDi = f64x2.add(f64x2.mul(Dr, tDi), f64x2.mul(Di, tDr));
  const T0r = f64x2.add(Ar, MCr);
  const T0i = f64x2.add(Ai, MCi);
  const T1r = f64x2.sub(Ar, MCr);
  const T1i = f64x2.sub(Ai, MCi);
  const T2r = f64x2.add(MBr, MDr);
  const T2i = f64x2.add(MBi, MDi);
  const T3r = f64x2.sub(MBr, MDr);
  const T3i = f64x2.sub(MBi, MDi);
  emit(A, f64x2.add(T0r, T2r), f64x2.add(T0i, T2i), toPower);
  emit(B, f64x2.add(T1r, T3i), f64x2.sub(T1i, T3r), toPower);
  if (i == 0) {
    emit(C, f64x2.sub(T0r, T2r), f64x2.sub(T0i, T2i), toPower);
    return;
  }
  if (i == hquarterLen) return; // do not overwrite ourselves
  // fft.js's mirrored ("flipped") outputs. fft.js computes them with negations; IEEE 754 makes
  // a + (-b) = a - b, (-a) + (-b) = -(a + b) and (-a) - (-b) = b - a exactly (up to the sign of
  // a zero sum, which the power squares away and no product or sum turns into another value).
  emit(outOff + quarterLen - i, f64x2.sub(T1r, T3i), f64x2.neg(f64x2.add(T1i, T3r)), toPower);
  emit(outOff + halfLen - i, f64x2.sub(T0r, T2r), f64x2.sub(T2i, T0i), toPower);
}

/**
 * |X|^2 of bins 0..nFft/2 (re * re + im * im) unless realTransform4 wrote it (`havePower`), and
 * the sparse mel sums, for both lanes.
 */
function powerAndMel(outPtr: usize, t: i32, both: bool, havePower: bool): void {
  if (!havePower) for (let k = 0; k < bins; k++) {
    const re = v128.load(at(specPtr, 2 * k));
    const im = v128.load(at(specPtr, 2 * k + 1));
    v128.store(at(powerPtr, k), f64x2.add(f64x2.mul(re, re), f64x2.mul(im, im)));
  }
  const row0 = outPtr + (<usize>(t * nMels) << 3);
  const row1 = row0 + (<usize>nMels << 3);
  for (let m = 0; m < nMels; m++) {
    const b = load<i32>(bandOffPtr + (<usize>m << 2));
    const e = load<i32>(bandOffPtr + (<usize>(m + 1) << 2));
    const k = load<i32>(bandStartPtr + (<usize>m << 2)) - b;
    let acc = f64x2.splat(0.0);
    for (let j = b; j < e; j++) {
      acc = f64x2.add(acc, f64x2.mul(v128.load64_splat(bandWeightPtr + (<usize>j << 3)), v128.load(at(powerPtr, k + j))));
    }
    store<f64>(row0 + (<usize>m << 3), f64x2.extract_lane(acc, 0));
    if (both) store<f64>(row1 + (<usize>m << 3), f64x2.extract_lane(acc, 1));
  }
}

/**
 * Mel power of every frame of the signal at xPtr (`len` samples, f32 when isF32 else f64),
 * frame-major f64[frames, nMels] at outPtr.
 */
export function melByFrame(xPtr: usize, len: i32, isF32: bool, frames: i32, outPtr: usize): void {
  const half = nFft >> 1;
  for (let t = 0; t < frames; t += 2) {
    const both = t + 1 < frames;
    const t1 = both ? t + 1 : t;
    // Both frames' windows inside the signal (all but the edges): fill both lanes at once.
    if (isF32 && t * hop - half + winStart >= 0 && t1 * hop - half + winEnd <= len) fillBothF32(xPtr, t * hop - half, t1 * hop - half);
    else {
      fillLane(xPtr, len, isF32, t, 0);
      fillLane(xPtr, len, isF32, t1, 1);
    }
    const havePower = realTransform4();
    powerAndMel(outPtr, t, both, havePower);
  }
}

// ---------------------------------------------------------------- power to dB

// fdlibm's __ieee754_log and __ieee754_log10 (Sun, 1993), the functions behind V8's Math.log and
// Math.log10: the same float64 operations in the same order, so every result is bit-identical
// to Math.log10 in JavaScript (the dB pass of logmel.ts, tested on millions of values).
const LN2_HI: f64 = 6.93147180369123816490e-01; // 0x3FE62E42, 0xFEE00000
const LN2_LO: f64 = 1.90821492927058770002e-10; // 0x3DEA39EF, 0x35793C76
const TWO54: f64 = 1.80143985094819840000e+16; // 0x43500000, 0x00000000
const LG1: f64 = 6.666666666666735130e-01;
const LG2: f64 = 3.999999999940941908e-01;
const LG3: f64 = 2.857142874366239149e-01;
const LG4: f64 = 2.222219843214978396e-01;
const LG5: f64 = 1.818357216161805012e-01;
const LG6: f64 = 1.531383769920937332e-01;
const LG7: f64 = 1.479819860511658591e-01;
const IVLN10: f64 = 4.34294481903251816668e-01;
const LOG10_2HI: f64 = 3.01029995663611771306e-01; // 0x3FD34413, 0x509F6000
const LOG10_2LO: f64 = 3.69423907715893078616e-13; // 0x3D59FEF3, 0x11F12B36

@inline function highWord(x: f64): i32 {
  return <i32>(reinterpret<u64>(x) >> 32);
}
@inline function lowWord(x: f64): u32 {
  return <u32>reinterpret<u64>(x);
}
@inline function fromWords(hi: i32, lo: u32): f64 {
  return reinterpret<f64>((<u64><u32>hi << 32) | <u64>lo);
}

function fdlibmLog(x: f64): f64 {
  let hx = highWord(x);
  const lx = lowWord(x);
  let k: i32 = 0;
  if (hx < 0x00100000) {
    if (((hx & 0x7fffffff) | <i32>lx) == 0) return -Infinity;
    if (hx < 0) return NaN;
    k -= 54;
    x *= TWO54;
    hx = highWord(x);
  }
  if (hx >= 0x7ff00000) return x + x;
  k += (hx >> 20) - 1023;
  hx &= 0x000fffff;
  const i = (hx + 0x95f64) & 0x100000;
  x = fromWords(hx | (i ^ 0x3ff00000), lowWord(x)); // normalise x or x/2
  k += i >> 20;
  const f = x - 1.0;
  if ((0x000fffff & (2 + hx)) < 3) {
    // -2**-20 <= f < 2**-20
    if (f == 0.0) {
      if (k == 0) return 0.0;
      const dk = <f64>k;
      return dk * LN2_HI + dk * LN2_LO;
    }
    const R = f * f * (0.5 - 0.33333333333333333 * f);
    if (k == 0) return f - R;
    const dk = <f64>k;
    return dk * LN2_HI - ((R - dk * LN2_LO) - f);
  }
  const s = f / (2.0 + f);
  const dk = <f64>k;
  const z = s * s;
  let ii = hx - 0x6147a;
  const w = z * z;
  const j = 0x6b851 - hx;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  ii |= j;
  const R = t2 + t1;
  if (ii > 0) {
    const hfsq = 0.5 * f * f;
    if (k == 0) return f - (hfsq - s * (hfsq + R));
    return dk * LN2_HI - ((hfsq - (s * (hfsq + R) + dk * LN2_LO)) - f);
  }
  if (k == 0) return f - s * (f - R);
  return dk * LN2_HI - ((s * (f - R) - dk * LN2_LO) - f);
}

/** Math.log10 (fdlibm's __ieee754_log10). */
export function log10(x: f64): f64 {
  let hx = highWord(x);
  let lx = lowWord(x);
  let k: i32 = 0;
  if (hx < 0x00100000) {
    if (((hx & 0x7fffffff) | <i32>lx) == 0) return -Infinity;
    if (hx < 0) return NaN;
    k -= 54;
    x *= TWO54;
    hx = highWord(x);
    lx = lowWord(x);
  }
  if (hx >= 0x7ff00000) return x + x;
  if (hx == 0x3ff00000 && lx == 0) return 0.0;
  k += (hx >> 20) - 1023;
  const i = <i32>(<u32>k >> 31);
  hx = (hx & 0x000fffff) | ((0x3ff - i) << 20);
  const y = <f64>(k + i);
  x = fromWords(hx, lx);
  const z = y * LOG10_2LO + IVLN10 * fdlibmLog(x);
  return z + y * LOG10_2HI;
}

/** The largest of the `n` float64 values at `ptr` (-Infinity when n is 0; NaN is skipped, as `>` does). */
export function maxOf(ptr: usize, n: i32): f64 {
  let m = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = load<f64>(ptr + (<usize>i << 3));
    if (v > m) m = v;
  }
  return m;
}

/** 10 log10(max(amin, p)) - refDb, floored at `floor` (f64 before the f32 store). */
@inline function dbOf(p: f64, amin: f64, refDb: f64, floor: f64): f64 {
  const v = 10.0 * log10(max<f64>(amin, p)) - refDb;
  return v < floor ? floor : v;
}

// The integer steps below work on i32x4 lanes: a float64 lane's high word is i32 lane 1 (lane 0)
// or 3 (lane 1), as fdlibm's __HI(x); lanes 0 and 2 compute garbage that is never used. (i32x4
// shifts and compares are single SSE2 instructions; most i64x2 ones are not.)

/** i32 lanes 1 and 3 of `v` as f64x2 (exact: the values are small integers). */
@inline function highLanesToF64(v: v128): v128 {
  return f64x2.convert_low_i32x4_s(i32x4.shuffle(v, v, 1, 3, 1, 3));
}

/** i32 lanes 1 and 3 of `v` widened to both halves of their f64x2 lane (a mask per float64 lane). */
@inline function highLanesMask(v: v128): v128 {
  return i32x4.shuffle(v, v, 1, 1, 3, 3);
}

/**
 * All-ones in each lane of `x` (f64x2) for which log10x2 computes log10: x positive, normal and
 * finite, and outside fdlibm log's special branch for |f| < 2^-20 after its reduction (which
 * holds x = 1).
 */
@inline function log10x2Handles(x: v128): v128 {
  const normal = v128.and(i32x4.ge_s(x, i32x4.splat(0x00100000)), i32x4.lt_s(x, i32x4.splat(0x7ff00000)));
  // fdlibm's g = (x1's high word) & 0xfffff is hx & 0xfffff (the exponent bits it sets are masked off).
  const f2 = v128.and(i32x4.add(x, i32x4.splat(2)), i32x4.splat(0x000fffff));
  return highLanesMask(v128.and(normal, i32x4.ge_s(f2, i32x4.splat(3))));
}

/**
 * log10 of two values at once (lanes of `x`, each one that log10x2Handles), the float64
 * operations of log10 and fdlibmLog above in the same order per lane, and their integer steps on
 * the high words (i32 lanes 1 and 3).
 */
@inline function log10x2(x: v128): v128 {
  // log10: x = 2^(k + i) * x1, x1 in [1, 2) (k >= 0) or [0.5, 1) (k < 0); i = 1 when k < 0.
  const k = i32x4.sub(i32x4.shr_s(x, 20), i32x4.splat(1023));
  const i = i32x4.shr_u(k, 31);
  // log(x1): its own reduction. x1's high word is g | (0x3ff - i) << 20, so its exponent step
  // gives -i, plus 1 when the mantissa is past sqrt(2) (the 0x95f64 test).
  const g = v128.and(x, i32x4.splat(0x000fffff));
  const up = v128.and(i32x4.add(g, i32x4.splat(0x95f64)), i32x4.splat(0x100000));
  const kk = i32x4.sub(i32x4.shr_u(up, 20), i);
  const nHigh = v128.or(g, v128.xor(up, i32x4.splat(0x3ff00000)));
  // The normalised value: x's low words, the new high words.
  const n = i8x16.shuffle(x, nHigh, 0, 1, 2, 3, 20, 21, 22, 23, 8, 9, 10, 11, 28, 29, 30, 31);
  const f = f64x2.sub(n, f64x2.splat(1.0));
  const s = f64x2.div(f, f64x2.add(f64x2.splat(2.0), f));
  const dk = highLanesToF64(kk);
  const z = f64x2.mul(s, s);
  const w = f64x2.mul(z, z);
  const t1 = f64x2.mul(w, f64x2.add(f64x2.splat(LG2), f64x2.mul(w, f64x2.add(f64x2.splat(LG4), f64x2.mul(w, f64x2.splat(LG6))))));
  const t2 = f64x2.mul(z, f64x2.add(f64x2.splat(LG1), f64x2.mul(w, f64x2.add(f64x2.splat(LG3), f64x2.mul(w, f64x2.add(f64x2.splat(LG5), f64x2.mul(w, f64x2.splat(LG7))))))));
  const R = f64x2.add(t2, t1);
  const hi = f64x2.mul(dk, f64x2.splat(LN2_HI));
  const lo = f64x2.mul(dk, f64x2.splat(LN2_LO));
  // fdlibm's k != 0 forms; with k = 0 they give exactly its k == 0 forms (0 * c = +0 adds nothing,
  // and 0 - (a - f) = f - a exactly).
  const hfsq = f64x2.mul(f64x2.mul(f64x2.splat(0.5), f), f);
  const big = f64x2.sub(hi, f64x2.sub(f64x2.sub(hfsq, f64x2.add(f64x2.mul(s, f64x2.add(hfsq, R)), lo)), f));
  const small = f64x2.sub(hi, f64x2.sub(f64x2.sub(f64x2.mul(s, f64x2.sub(f, R)), lo), f));
  // fdlibm's ((g - 0x6147a) | (0x6b851 - g)) > 0.
  const sel = highLanesMask(i32x4.gt_s(v128.or(i32x4.sub(g, i32x4.splat(0x6147a)), i32x4.sub(i32x4.splat(0x6b851), g)), i32x4.splat(0)));
  const lnx = v128.bitselect(big, small, sel);
  const y = highLanesToF64(i32x4.add(k, i));
  const zz = f64x2.add(f64x2.mul(y, f64x2.splat(LOG10_2LO)), f64x2.mul(f64x2.splat(IVLN10), lnx));
  return f64x2.add(zz, f64x2.mul(y, f64x2.splat(LOG10_2HI)));
}

/**
 * The dB pass of LogMelExtractor.extract: frame-major mel power f64[frames, nMels] at inPtr to
 * f32[nMels, frames] at outPtr, value = max(floor, 10 log10(max(amin, p)) - refDb), and `floor`
 * directly for p < cut (a power that is certainly below the floor: no log needed). Two mel bands
 * at a time (log10x2), bit-identical to the scalar formula.
 */
export function toDb(inPtr: usize, frames: i32, outPtr: usize, amin: f64, refDb: f64, floor: f64, cut: f64): void {
  const flo = <f32>floor;
  const vAmin = f64x2.splat(amin);
  const vCut = f64x2.splat(cut);
  const vFloor = f64x2.splat(floor);
  const vRef = f64x2.splat(refDb);
  const vFlo = f32x4.splat(flo);
  const rowBytes = <usize>frames << 2;
  for (let t = 0; t < frames; t++) {
    const src = inPtr + (<usize>(t * nMels) << 3);
    let m = 0;
    for (; m + 1 < nMels; m += 2) {
      const p = v128.load(src + (<usize>m << 3));
      const o0 = outPtr + (<usize>(m * frames + t) << 2);
      const below = f64x2.lt(p, vCut);
      if (i64x2.all_true(below)) {
        store<f32>(o0, flo);
        store<f32>(o0 + rowBytes, flo);
        continue;
      }
      const x = f64x2.max(vAmin, p);
      let d: v128;
      if (i64x2.all_true(log10x2Handles(x))) {
        const v = f64x2.sub(f64x2.mul(f64x2.splat(10.0), log10x2(x)), vRef);
        d = v128.bitselect(vFloor, v, f64x2.lt(v, vFloor));
      } else {
        d = f64x2(dbOf(f64x2.extract_lane(p, 0), amin, refDb, floor), dbOf(f64x2.extract_lane(p, 1), amin, refDb, floor));
      }
      // The f32 roundings in lanes 0 and 1 (demote rounds as a scalar f64 -> f32 conversion does);
      // `floor` where p < cut.
      const out = v128.bitselect(vFlo, f32x4.demote_f64x2_zero(d), i8x16.shuffle(below, below, 0, 1, 2, 3, 8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11));
      v128.store32_lane(o0, out, 0);
      v128.store32_lane(o0 + rowBytes, out, 1);
    }
    for (; m < nMels; m++) {
      const p = load<f64>(src + (<usize>m << 3));
      store<f32>(outPtr + (<usize>(m * frames + t) << 2), p < cut ? flo : <f32>dbOf(p, amin, refDb, floor));
    }
  }
}

/** log10 of `n` float64 values at inPtr into outPtr, two at a time as toDb does (for tests). */
export function log10Many(inPtr: usize, n: i32, outPtr: usize): void {
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const x = v128.load(inPtr + (<usize>i << 3));
    if (i64x2.all_true(log10x2Handles(x))) {
      v128.store(outPtr + (<usize>i << 3), log10x2(x));
    } else {
      store<f64>(outPtr + (<usize>i << 3), log10(f64x2.extract_lane(x, 0)));
      store<f64>(outPtr + (<usize>(i + 1) << 3), log10(f64x2.extract_lane(x, 1)));
    }
  }
  if (i < n) store<f64>(outPtr + (<usize>i << 3), log10(load<f64>(inPtr + (<usize>i << 3))));
}
