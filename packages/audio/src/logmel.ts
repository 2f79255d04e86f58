// Log-mel spectrogram = librosa.power_to_db(librosa.feature.melspectrogram(...)), reusable buffers.
import { frameCount, paddedHannWindow, windowSpan } from './stft.ts';
import { melFilterbank, type MelFilterbank } from './mel.ts';
import { dbReference, type DbRef } from './db.ts';
import { MelKernel } from './logmel-kernel.ts';

export interface LogMelConfig {
  sampleRate: number; // Hz
  nFft: number; // FFT size, power of two
  winLength: number; // periodic Hann length, <= nFft (zero-padded centred to nFft)
  hopLength: number; // samples
  nMels: number;
  fmin: number; // Hz
  fmax: number; // Hz, <= sampleRate / 2
  ref: DbRef; // 'max' or a fixed reference power
  amin: number; // > 0
  topDb: number | null; // dB below the peak to clip at, or null
}

/**
 * Precomputes the window, FFT tables and sparse mel bands once; `extract` then allocates only the
 * output (the kernel's memory grows when a longer signal comes), nothing per frame.
 * Maths in float64 (power, mel sums, dB), output float32. Window, FFT, power and mel run in the
 * wasm kernel (logmel-kernel.ts), bit-identical to PowerStft + the band sums in JavaScript.
 */
export class LogMelExtractor {
  readonly config: LogMelConfig;
  readonly filterbank: MelFilterbank;
  private readonly kernel: MelKernel;
  private melOut: Float64Array = new Float64Array(0); // mel power, [nMels, frames] (melPower only)

  constructor(config: LogMelConfig) {
    if (!(config.amin > 0)) throw new RangeError(`amin must be > 0, got ${config.amin}`);
    if (config.topDb !== null && !(config.topDb >= 0)) throw new RangeError(`top_db must be >= 0, got ${config.topDb}`);
    if (!(config.hopLength > 0 && Number.isInteger(config.hopLength))) throw new RangeError(`hop_length must be a positive integer, got ${config.hopLength}`);
    this.config = { ...config };
    this.filterbank = melFilterbank(config);
    const { bands } = this.filterbank;
    const off = new Int32Array(bands.length + 1);
    bands.forEach((b, m) => (off[m + 1] = off[m]! + b.weights.length));
    const weights = new Float64Array(off[bands.length]!);
    bands.forEach((b, m) => weights.set(b.weights, off[m]));
    const window = paddedHannWindow(config.winLength, config.nFft);
    const span = windowSpan(window);
    this.kernel = new MelKernel({
      nFft: config.nFft,
      hopLength: config.hopLength,
      window,
      winStart: span.start,
      winEnd: span.end,
      bands: { start: Int32Array.from(bands, (b) => b.start), off, weights },
    });
  }

  /** Frames for a signal of `samples` samples (center=True): 1 + floor(samples / hop). */
  frames(samples: number): number {
    return frameCount(samples, this.config.hopLength);
  }

  /** Mel power of every frame, frame-major [frames, nMels] (a view the next call reuses). */
  private melByFrame(x: ArrayLike<number>): Float64Array {
    return this.kernel.melByFrame(x, this.frames(x.length));
  }

  /**
   * Mel power spectrogram S (librosa.feature.melspectrogram, power 2), shape [nMels, frames]
   * row-major, float64. The returned array is a view on an internal buffer reused by the next call.
   */
  melPower(x: ArrayLike<number>): Float64Array {
    const nMels = this.config.nMels;
    const frames = this.frames(x.length);
    const byFrame = this.melByFrame(x);
    if (this.melOut.length < nMels * frames) this.melOut = new Float64Array(nMels * frames);
    const mel = this.melOut.subarray(0, nMels * frames);
    for (let m = 0; m < nMels; m++) {
      const row = m * frames;
      for (let t = 0; t < frames; t++) mel[row + t] = byFrame[t * nMels + m]!;
    }
    return mel;
  }

  /**
   * Log-mel in dB (librosa.power_to_db of melPower), shape [nMels, frames] row-major, float32
   * (into `out` if given). The dB pass runs in the wasm kernel and also transposes its frame-major
   * mel power.
   */
  extract(x: ArrayLike<number>, out?: Float32Array): Float32Array {
    const nMels = this.config.nMels;
    const frames = this.frames(x.length);
    const size = nMels * frames;
    const dst = out ?? new Float32Array(size);
    if (dst.length !== size) throw new RangeError(`out has length ${dst.length}, need ${size}`);
    const s = this.melByFrame(x);
    const { ref, amin, topDb } = this.config;
    const sMax = this.kernel.maxMel();
    const refDb = 10 * Math.log10(Math.max(amin, ref === 'max' ? sMax : dbReference(s, ref)));
    // dB is monotonic in S, so the peak dB comes from the peak power and the top_db floor can be
    // decided in the power domain: values safely below it skip the log (often half of them).
    const maxDb = 10 * Math.log10(Math.max(amin, sMax)) - refDb;
    const floor = topDb === null ? -Infinity : maxDb - topDb;
    // max(amin, p) < cut  <=>  p < cut and amin < cut.
    const thr = topDb === null ? -Infinity : 10 ** ((floor + refDb) / 10) * (1 - 1e-9);
    const cut = thr > amin ? thr : -Infinity;
    // In the kernel: max(floor, 10 log10(max(amin, p)) - refDb) with the log bit-identical to Math.log10.
    this.kernel.toDb(dst, amin, refDb, floor, cut);
    return dst;
  }
}
