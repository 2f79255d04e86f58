// Short-time power spectrum with librosa.stft semantics (center=True, pad_mode='constant').
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

/** The non-zero span [start, end) of a (zero-padded) window: the samples a frame really uses. */
export function windowSpan(w: ArrayLike<number>): { start: number; end: number } {
  let start = 0;
  while (start < w.length && w[start] === 0) start++;
  let end = w.length;
  while (end > start && w[end - 1] === 0) end--;
  return { start, end };
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

  constructor(config: StftConfig) {
    const { nFft, winLength, hopLength } = config;
    if (!(hopLength > 0 && Number.isInteger(hopLength))) throw new RangeError(`hop_length must be a positive integer, got ${hopLength}`);
    this.config = { ...config };
    this.fft = new RealFft(nFft);
    this.bins = this.fft.bins;
    this.window = paddedHannWindow(winLength, nFft);
    this.frame = new Float64Array(nFft);
    const span = windowSpan(this.window);
    this.winStart = span.start;
    this.winEnd = span.end;
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
    const s = this.winStart;
    const e = this.winEnd;
    // The window indices whose input sample lies inside the signal: no per-sample range checks.
    const lo = Math.max(s, -base);
    const hi = Math.min(e, x.length - base);
    for (let i = s; i < Math.min(lo, e); i++) frame[i] = 0;
    for (let i = lo; i < hi; i++) frame[i] = x[base + i]! * w[i]!;
    for (let i = Math.max(hi, s); i < e; i++) frame[i] = 0;
    return this.fft.powerSpectrum(frame, out);
  }

  /** Full power spectrogram, shape [bins, frames] row-major, float64 (allocates; for tests/tools). */
  power(x: ArrayLike<number>): { data: Float64Array; bins: number; frames: number } {
    const frames = frameCount(x.length, this.config.hopLength);
    const data = new Float64Array(this.bins * frames);
    const col = new Float64Array(this.bins);
    for (let t = 0; t < frames; t++) {
      this.frameInto(x, t, col);
      for (let k = 0; k < this.bins; k++) data[k * frames + t] = col[k]!;
    }
    return { data, bins: this.bins, frames };
  }
}
