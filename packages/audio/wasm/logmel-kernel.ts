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

@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 4);
}

/** fft.js's _realTransform4 (forward) on both lanes: data -> spec. */
function realTransform4(): void {
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
      v128.store(at(specPtr, outOff), f64x2.add(T0r, T2r));
      v128.store(at(specPtr, outOff + 1), zero);
      v128.store(at(specPtr, outOff + 2), T1r);
      v128.store(at(specPtr, outOff + 3), f64x2.neg(T3r));
      v128.store(at(specPtr, outOff + 4), f64x2.sub(T0r, T2r));
      v128.store(at(specPtr, outOff + 5), zero);
      v128.store(at(specPtr, outOff + 6), T1r);
      v128.store(at(specPtr, outOff + 7), T3r);
    }
  }
  for (step >>= 2; step >= 2; step >>= 2) {
    len = (size / step) << 1;
    const halfLen = len >>> 1;
    const quarterLen = halfLen >>> 1;
    const hquarterLen = quarterLen >>> 1;
    for (let outOff = 0; outOff < size; outOff += len) {
      for (let i = 0, k = 0; i <= hquarterLen; i += 2, k += step) {
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
        const tBr = f64x2.splat(load<f64>(tablePtr + (<usize>k << 3)));
        const tBi = f64x2.splat(load<f64>(tablePtr + (<usize>(k + 1) << 3)));
        const MBr = f64x2.sub(f64x2.mul(Br, tBr), f64x2.mul(Bi, tBi));
        const MBi = f64x2.add(f64x2.mul(Br, tBi), f64x2.mul(Bi, tBr));
        const tCr = f64x2.splat(load<f64>(tablePtr + (<usize>(2 * k) << 3)));
        const tCi = f64x2.splat(load<f64>(tablePtr + (<usize>(2 * k + 1) << 3)));
        const MCr = f64x2.sub(f64x2.mul(Cr, tCr), f64x2.mul(Ci, tCi));
        const MCi = f64x2.add(f64x2.mul(Cr, tCi), f64x2.mul(Ci, tCr));
        const tDr = f64x2.splat(load<f64>(tablePtr + (<usize>(3 * k) << 3)));
        const tDi = f64x2.splat(load<f64>(tablePtr + (<usize>(3 * k + 1) << 3)));
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
        v128.store(at(specPtr, A), f64x2.add(T0r, T2r));
        v128.store(at(specPtr, A + 1), f64x2.add(T0i, T2i));
        v128.store(at(specPtr, B), f64x2.add(T1r, T3i));
        v128.store(at(specPtr, B + 1), f64x2.sub(T1i, T3r));
        if (i == 0) {
          v128.store(at(specPtr, C), f64x2.sub(T0r, T2r));
          v128.store(at(specPtr, C + 1), f64x2.sub(T0i, T2i));
          continue;
        }
        if (i == hquarterLen) continue; // do not overwrite ourselves
        // fft.js's mirrored ("flipped") outputs.
        const SA = outOff + quarterLen - i;
        const SB = outOff + halfLen - i;
        v128.store(at(specPtr, SA), f64x2.add(T1r, f64x2.neg(T3i)));
        v128.store(at(specPtr, SA + 1), f64x2.add(f64x2.neg(T1i), f64x2.neg(T3r)));
        v128.store(at(specPtr, SB), f64x2.add(T0r, f64x2.neg(T2r)));
        v128.store(at(specPtr, SB + 1), f64x2.sub(f64x2.neg(T0i), f64x2.neg(T2i)));
      }
    }
  }
}

/** |X|^2 of bins 0..nFft/2 (re * re + im * im) and the sparse mel sums, for both lanes. */
function powerAndMel(outPtr: usize, t: i32, both: bool): void {
  for (let k = 0; k < bins; k++) {
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
      acc = f64x2.add(acc, f64x2.mul(f64x2.splat(load<f64>(bandWeightPtr + (<usize>j << 3))), v128.load(at(powerPtr, k + j))));
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
  for (let t = 0; t < frames; t += 2) {
    const both = t + 1 < frames;
    fillLane(xPtr, len, isF32, t, 0);
    fillLane(xPtr, len, isF32, both ? t + 1 : t, 1);
    realTransform4();
    powerAndMel(outPtr, t, both);
  }
}
