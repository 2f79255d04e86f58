// Band-limited resampling: Kaiser-windowed sinc, polyphase for rational rate ratios.
//
// The filter (all frequencies relative to the LOWER of the two Nyquist frequencies, f_N):
//   passband edge   0.90 f_N   (ripple < 0.001 dB)
//   stopband edge   1.00 f_N   (attenuation >= 80 dB: nothing above the new Nyquist aliases back)
//   cutoff          0.95 f_N   (the sinc's -6 dB point, middle of the transition band)
//   Kaiser window   beta = 0.1102 * (80 - 8.7) = 7.857 (Kaiser's formula for 80 dB)
//   length          half-width = 51 periods of the lower rate (Kaiser's estimate for 80 dB over a
//                   0.05-cycle transition: N = (A - 7.95) / (2.285 * 2*pi * 0.05) = 100.4 periods),
//                   so 2 * ceil(51 * max(1, from/to)) taps at the input rate:
//                   306 taps for 48000 -> 16000, 102 for 16000 -> 48000.
// Rates are integers; their ratio to/from = L/M in lowest terms. Output sample n sits at input
// time n*M/L, so only L distinct fractional offsets (phases) occur: their L taps sets are computed
// once (up to 8M coefficients = 32 MB; beyond that each output's taps are computed on the fly,
// slowly). Samples outside the input are zero. DC gain is 1. Output length is ceil(n * to / from) (librosa's n_samples).

/** Passband edge, stopband edge and stopband attenuation of the anti-aliasing filter. */
export const RESAMPLE_FILTER = {
  passband: 0.9,
  stopband: 1.0,
  attenuationDb: 80,
  beta: 0.1102 * (80 - 8.7),
  /** half the filter length, in periods of the lower sample rate */
  halfWidthPeriods: 51,
} as const;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (series; converges fast for x < 50). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** Output length of resample(): ceil(n * toRate / fromRate), exact in integers. */
export function resampledLength(n: number, fromRate: number, toRate: number): number {
  const g = gcd(fromRate, toRate);
  const L = toRate / g;
  const M = fromRate / g;
  return Math.floor((n * L + M - 1) / M);
}

/**
 * Resamples `x` (sampled at `fromRate` Hz) to `toRate` Hz. Rates must be positive integers.
 * Returns a new Float32Array of ceil(x.length * toRate / fromRate) samples (a copy when the
 * rates are equal). See the header comment for the filter. `opts.maxTableFloats` (default 8e6)
 * caps the phase table; above it taps are computed per output sample (same result, slower).
 */
export function resample(
  x: Float32Array,
  fromRate: number,
  toRate: number,
  opts: { maxTableFloats?: number } = {},
): Float32Array {
  for (const [k, r] of [['fromRate', fromRate], ['toRate', toRate]] as const) {
    if (!Number.isInteger(r) || r <= 0) throw new RangeError(`resample: ${k} must be a positive integer (Hz), got ${r}`);
  }
  if (fromRate === toRate) return x.slice();
  const g = gcd(fromRate, toRate);
  const L = toRate / g;
  const M = fromRate / g;
  const nOut = resampledLength(x.length, fromRate, toRate);
  const out = new Float32Array(nOut);
  if (x.length === 0) return out;

  // Filter in units of input samples.
  const down = M / L; // > 1 when downsampling
  const scale = Math.min(1, L / M); // lower Nyquist / input Nyquist
  const fc = 0.5 * scale * ((RESAMPLE_FILTER.passband + RESAMPLE_FILTER.stopband) / 2); // cycles per input sample
  const halfWidth = RESAMPLE_FILTER.halfWidthPeriods * Math.max(1, down); // input samples
  const K = Math.ceil(halfWidth); // taps k = -K+1 .. K around floor(t)
  const taps = 2 * K;
  const beta = RESAMPLE_FILTER.beta;
  const i0b = besselI0(beta);
  const h = (tau: number): number => {
    const r = tau / halfWidth;
    if (r <= -1 || r >= 1) return 0;
    const w = besselI0(beta * Math.sqrt(1 - r * r)) / i0b;
    const a = 2 * fc * tau;
    const sinc = a === 0 ? 1 : Math.sin(Math.PI * a) / (Math.PI * a);
    return 2 * fc * sinc * w;
  };
  // Taps for phase p (fraction p/L): coefficient j multiplies x[floor(t) - K + 1 + j].
  const fillPhase = (dst: Float32Array, off: number, frac: number): void => {
    for (let j = 0; j < taps; j++) dst[off + j] = h(j - K + 1 - frac);
  };
  // One row of taps per phase, unless that table would be huge (odd rates: L in the thousands).
  const tableable = L * taps <= (opts.maxTableFloats ?? 8_000_000);
  const table = new Float32Array(tableable ? L * taps : taps);
  if (tableable) for (let p = 0; p < L; p++) fillPhase(table, p * taps, p / L);

  const n = x.length;
  for (let o = 0; o < nOut; o++) {
    const num = o * M; // exact for any realistic length (< 2^53)
    const i0 = Math.floor(num / L);
    const p = num - i0 * L;
    let off = 0;
    if (tableable) off = p * taps;
    else fillPhase(table, 0, p / L);
    const start = i0 - K + 1;
    let acc = 0;
    if (p === 0 && i0 - K + 1 >= 0 && i0 + K <= n - 1) {
      // phase 0 (every output of an integer decimation): symmetric taps, fold the two halves
      const c = off + K - 1; // table[c] multiplies x[i0]
      let a0 = table[c]! * x[i0]!, a1 = 0;
      let k = 1;
      for (; k + 1 < K; k += 2) {
        a0 += table[c + k]! * (x[i0 - k]! + x[i0 + k]!);
        a1 += table[c + k + 1]! * (x[i0 - k - 1]! + x[i0 + k + 1]!);
      }
      for (; k < K; k++) a0 += table[c + k]! * (x[i0 - k]! + x[i0 + k]!);
      acc = a0 + a1;
    } else if (start >= 0 && start + taps <= n) {
      // Four partial sums: shorter dependency chains (1.6x faster in V8).
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      let j = 0;
      for (; j + 3 < taps; j += 4) {
        a0 += table[off + j]! * x[start + j]!;
        a1 += table[off + j + 1]! * x[start + j + 1]!;
        a2 += table[off + j + 2]! * x[start + j + 2]!;
        a3 += table[off + j + 3]! * x[start + j + 3]!;
      }
      for (; j < taps; j++) a0 += table[off + j]! * x[start + j]!;
      acc = a0 + a1 + a2 + a3;
    } else {
      const jLo = Math.max(0, -start);
      const jHi = Math.min(taps, n - start);
      for (let j = jLo; j < jHi; j++) acc += table[off + j]! * x[start + j]!;
    }
    out[o] = acc;
  }
  return out;
}
