// Mel filterbank with librosa.filters.mel defaults (htk=False: Slaney scale; norm='slaney'),
// stored as sparse bands because each triangle covers only a few FFT bins.

const F_SP = 200 / 3; // Hz per mel below 1 kHz (Slaney)
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP; // 15
const LOGSTEP = Math.log(6.4) / 27;

/** Hz -> mel, Slaney scale (librosa.hz_to_mel, htk=False); `htk` selects 2595*log10(1+f/700). */
export function hzToMel(hz: number, htk = false): number {
  if (htk) return 2595 * Math.log10(1 + hz / 700);
  return hz >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOGSTEP : hz / F_SP;
}

/** mel -> Hz, inverse of hzToMel. */
export function melToHz(mel: number, htk = false): number {
  if (htk) return 700 * (10 ** (mel / 2595) - 1);
  return mel >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOGSTEP * (mel - MIN_LOG_MEL)) : F_SP * mel;
}

/** numpy.linspace(start, stop, num) element i, bit-for-bit (step * i + start, last = stop). */
function linspaceAt(start: number, stop: number, num: number, i: number): number {
  if (num === 1) return start;
  if (i === num - 1) return stop;
  return i * ((stop - start) / (num - 1)) + start;
}

/** One mel band: weights for FFT bins start .. start + weights.length - 1. */
export interface MelBand {
  start: number;
  weights: Float64Array;
}

export interface MelFilterbank {
  nMels: number;
  bins: number; // 1 + nFft / 2
  bands: MelBand[];
}

export interface MelConfig {
  sampleRate: number; // Hz
  nFft: number;
  nMels: number;
  fmin: number; // Hz
  fmax: number; // Hz, <= sampleRate / 2
}

/**
 * librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk=False, norm='slaney', dtype=float32):
 * triangles between mel-spaced edges, each scaled by 2 / (upper edge - lower edge) Hz.
 * Weights are rounded to float32 the way librosa does (float32 triangle, then float32 * enorm),
 * held in float64 for the product with the float64 power spectrum (as numpy promotes).
 */
export function melFilterbank(cfg: MelConfig): MelFilterbank {
  const { sampleRate, nFft, nMels, fmin, fmax } = cfg;
  const bins = 1 + Math.floor(nFft / 2);
  const fftFreqs = new Float64Array(bins);
  for (let k = 0; k < bins; k++) fftFreqs[k] = linspaceAt(0, sampleRate / 2, bins, k);
  const minMel = hzToMel(fmin);
  const maxMel = hzToMel(fmax);
  const melF = new Float64Array(nMels + 2);
  for (let i = 0; i < nMels + 2; i++) melF[i] = melToHz(linspaceAt(minMel, maxMel, nMels + 2, i));
  const bands: MelBand[] = [];
  for (let i = 0; i < nMels; i++) {
    const fdiffLo = melF[i + 1]! - melF[i]!;
    const fdiffHi = melF[i + 2]! - melF[i + 1]!;
    const enorm = 2 / (melF[i + 2]! - melF[i]!);
    const row = new Float64Array(bins);
    let first = -1;
    let last = -1;
    for (let k = 0; k < bins; k++) {
      const lower = -(melF[i]! - fftFreqs[k]!) / fdiffLo;
      const upper = (melF[i + 2]! - fftFreqs[k]!) / fdiffHi;
      const w = Math.max(0, Math.min(lower, upper));
      if (w > 0) {
        row[k] = Math.fround(Math.fround(w) * enorm);
        if (first < 0) first = k;
        last = k;
      }
    }
    // An empty band (too many mels for n_fft) stays all-zero, as librosa (which only warns).
    bands.push(first < 0 ? { start: 0, weights: new Float64Array(0) } : { start: first, weights: row.slice(first, last + 1) });
  }
  return { nMels, bins, bands };
}

/** Dense [nMels, bins] row-major copy of a filterbank (for tests and tools). */
export function melFilterbankDense(fb: MelFilterbank): Float64Array {
  const out = new Float64Array(fb.nMels * fb.bins);
  fb.bands.forEach((b, m) => out.set(b.weights, m * fb.bins + b.start));
  return out;
}

/** Mel energies of one power spectrum: out[m] = sum_k band_m[k] * power[k]. */
export function applyMel(fb: MelFilterbank, power: Float64Array, out: Float64Array): Float64Array {
  for (let m = 0; m < fb.nMels; m++) {
    const { start, weights } = fb.bands[m]!;
    let acc = 0;
    for (let j = 0; j < weights.length; j++) acc += weights[j]! * power[start + j]!;
    out[m] = acc;
  }
  return out;
}
