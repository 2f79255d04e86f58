// Short-time power spectrum with librosa.stft semantics (center=True, pad_mode='constant').
import FFT from 'fft.js';
import { RealFft } from './fft.ts';

/** Number of STFT frames for `samples` input samples with center=True: 1 + floor(samples / hop). */
export function frameCount(samples: number, hop: number): number {
  return 1 + Math.floor(samples / hop);
}

/**
 * Periodic Hann window of `winLength` (scipy.signal.get_window('hann', N, fftbins=True)),
 * zero-padded centred to `nFft` (librosa.util.pad_center): length nFft, float64.
 */
export function paddedHannWindow(winLength: number, nFft: number): Float64Array {
  if (winLength > nFft) throw new RangeError(`win_length ${winLength} > n_fft ${nFft}`);
  const w = new Float64Array(nFft);
  const left = Math.floor((nFft - winLength) / 2);
  for (let n = 0; n < winLength; n++) w[left + n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / winLength);
  return w;
}

export interface StftConfig {
  nFft: number; // FFT size (power of two)
  winLength: number; // samples of Hann window, <= nFft
  hopLength: number; // samples between frames
}

/**
 * Power STFT |X|^2 (power 2) with precomputed window and reused buffers.
 * Frame t covers input samples [t*hop - nFft/2, t*hop + nFft/2) (zeros outside the signal).
 * Only the window's non-zero span is copied, so the zero padding costs nothing.
 */
export class PowerStft {
  readonly config: StftConfig;
  readonly bins: number;
  private readonly fft: RealFft;
  private readonly window: Float64Array;
  private readonly frame: Float64Array;
  private readonly winStart: number; // first non-zero window index
  private readonly winEnd: number; // one past the last non-zero window index
  private readonly cfft: FFT; // complex FFT for two real frames at once
  private readonly pairIn: Float64Array; // interleaved [a0, b0, a1, b1, ...]
  private readonly pairOut: Float64Array;

  constructor(config: StftConfig) {
    const { nFft, winLength, hopLength } = config;
    if (!(hopLength > 0 && Number.isInteger(hopLength))) throw new RangeError(`hop_length must be a positive integer, got ${hopLength}`);
    this.config = { ...config };
    this.fft = new RealFft(nFft);
    this.bins = this.fft.bins;
    this.window = paddedHannWindow(winLength, nFft);
    this.frame = new Float64Array(nFft);
    let s = 0;
    while (s < nFft && this.window[s] === 0) s++;
    let e = nFft;
    while (e > s && this.window[e - 1] === 0) e--;
    this.winStart = s;
    this.winEnd = e;
    this.cfft = new FFT(nFft);
    this.pairIn = new Float64Array(2 * nFft);
    this.pairOut = new Float64Array(2 * nFft);
  }

  /** Windowed frame starting at input index `base` into pairIn's real (off 0) or imaginary (1) lane. */
  private fillInterleaved(x: ArrayLike<number>, base: number, off: number): void {
    const buf = this.pairIn;
    const w = this.window;
    const s = this.winStart;
    const e = this.winEnd;
    // The window indices whose input sample lies inside the signal: no per-sample range checks.
    const lo = Math.max(s, -base);
    const hi = Math.min(e, x.length - base);
    for (let i = s; i < Math.min(lo, e); i++) buf[2 * i + off] = 0;
    for (let i = lo; i < hi; i++) buf[2 * i + off] = x[base + i] * w[i];
    for (let i = Math.max(hi, s); i < e; i++) buf[2 * i + off] = 0;
  }

  /**
   * Power spectra of frames t (into outA) and t+1 (into outB) with ONE complex FFT of
   * a + i*b: A[k] = (Z[k] + conj Z[N-k]) / 2, B[k] = (Z[k] - conj Z[N-k]) / 2i. About a third
   * cheaper than two real FFTs; the cross-talk is at float64 rounding level of the louder frame.
   */
  framePairInto(x: ArrayLike<number>, t: number, outA: Float64Array, outB: Float64Array): void {
    const { nFft, hopLength } = this.config;
    const buf = this.pairIn;
    const baseA = t * hopLength - (nFft >> 1);
    this.fillInterleaved(x, baseA, 0);
    this.fillInterleaved(x, baseA + hopLength, 1);
    this.cfft.transform(this.pairOut, buf);
    const z = this.pairOut;
    const half = nFft >> 1;
    for (let k = 0; k <= half; k++) {
      const nk = k === 0 ? 0 : nFft - k;
      const zr = z[2 * k];
      const zi = z[2 * k + 1];
      const nr = z[2 * nk];
      const ni = z[2 * nk + 1];
      const ar = zr + nr;
      const ai = zi - ni;
      const br = zr - nr;
      const bi = zi + ni;
      outA[k] = 0.25 * (ar * ar + ai * ai);
      outB[k] = 0.25 * (br * br + bi * bi);
    }
  }

  /**
   * Power spectrum of frame `t` of `x` into `out` (length >= bins), float64.
   * Samples outside [0, x.length) are zero (center=True, constant padding).
   */
  frameInto(x: ArrayLike<number>, t: number, out: Float64Array): Float64Array {
    const { nFft, hopLength } = this.config;
    const frame = this.frame;
    const w = this.window;
    const base = t * hopLength - (nFft >> 1); // input index of frame[0]
    const n = x.length;
    for (let i = this.winStart; i < this.winEnd; i++) {
      const j = base + i;
      frame[i] = j >= 0 && j < n ? x[j] * w[i] : 0;
    }
    return this.fft.powerSpectrum(frame, out);
  }

  /** Full power spectrogram, shape [bins, frames] row-major, float64 (allocates; for tests/tools). */
  power(x: ArrayLike<number>): { data: Float64Array; bins: number; frames: number } {
    const frames = frameCount(x.length, this.config.hopLength);
    const data = new Float64Array(this.bins * frames);
    const col = new Float64Array(this.bins);
    for (let t = 0; t < frames; t++) {
      this.frameInto(x, t, col);
      for (let k = 0; k < this.bins; k++) data[k * frames + t] = col[k];
    }
    return { data, bins: this.bins, frames };
  }
}
