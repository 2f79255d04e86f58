// Log-mel spectrogram = librosa.power_to_db(librosa.feature.melspectrogram(...)), reusable buffers.
import { PowerStft, frameCount } from './stft.ts';
import { melFilterbank, type MelFilterbank } from './mel.ts';
import { dbReference, type DbRef } from './db.ts';

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
 * output (and grows its scratch buffer when a longer signal comes), nothing per frame.
 * Maths in float64 (power, mel sums, dB), output float32.
 */
export class LogMelExtractor {
  readonly config: LogMelConfig;
  readonly filterbank: MelFilterbank;
  private readonly stft: PowerStft;
  private readonly power: Float64Array; // one frame's power spectrum
  // The sparse bands flattened: band m has weights[off[m] .. off[m+1]) for bins start[m]...
  private readonly bandStart: Int32Array;
  private readonly bandOff: Int32Array;
  private readonly bandWeights: Float64Array;
  private scratch: Float64Array = new Float64Array(0); // mel power, frame-major [frames, nMels]
  private melOut: Float64Array = new Float64Array(0); // mel power, [nMels, frames] (melPower only)

  constructor(config: LogMelConfig) {
    if (!(config.amin > 0)) throw new RangeError(`amin must be > 0, got ${config.amin}`);
    if (config.topDb !== null && !(config.topDb >= 0)) throw new RangeError(`top_db must be >= 0, got ${config.topDb}`);
    this.config = { ...config };
    this.stft = new PowerStft({ nFft: config.nFft, winLength: config.winLength, hopLength: config.hopLength });
    this.filterbank = melFilterbank(config);
    this.power = new Float64Array(this.stft.bins);
    const { bands } = this.filterbank;
    this.bandStart = Int32Array.from(bands, (b) => b.start);
    this.bandOff = new Int32Array(bands.length + 1);
    bands.forEach((b, m) => (this.bandOff[m + 1] = this.bandOff[m]! + b.weights.length));
    this.bandWeights = new Float64Array(this.bandOff[bands.length]!);
    bands.forEach((b, m) => this.bandWeights.set(b.weights, this.bandOff[m]));
  }

  /** Frames for a signal of `samples` samples (center=True): 1 + floor(samples / hop). */
  frames(samples: number): number {
    return frameCount(samples, this.config.hopLength);
  }

  /** Mel power of every frame into the scratch buffer, frame-major [frames, nMels]. */
  private melByFrame(x: ArrayLike<number>): Float64Array {
    const nMels = this.config.nMels;
    const frames = this.frames(x.length);
    const size = nMels * frames;
    if (this.scratch.length < size) this.scratch = new Float64Array(size);
    const out = this.scratch;
    const start = this.bandStart;
    const off = this.bandOff;
    const w = this.bandWeights;
    const melInto = (power: Float64Array, base: number) => {
      for (let m = 0; m < nMels; m++) {
        const e = off[m + 1]!;
        const k = start[m]! - off[m]!;
        let acc = 0;
        for (let j = off[m]!; j < e; j++) acc += w[j]! * power[k + j]!;
        out[base + m] = acc;
      }
    };
    for (let t = 0; t < frames; t++) {
      this.stft.frameInto(x, t, this.power);
      melInto(this.power, t * nMels);
    }
    return out;
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
   * (into `out` if given). The dB pass also transposes the frame-major scratch.
   */
  extract(x: ArrayLike<number>, out?: Float32Array): Float32Array {
    const nMels = this.config.nMels;
    const frames = this.frames(x.length);
    const size = nMels * frames;
    const s = this.melByFrame(x).subarray(0, size);
    const dst = out ?? new Float32Array(size);
    if (dst.length !== size) throw new RangeError(`out has length ${dst.length}, need ${size}`);
    const { ref, amin, topDb } = this.config;
    let sMax = -Infinity;
    for (let i = 0; i < size; i++) if (s[i]! > sMax) sMax = s[i]!;
    const refDb = 10 * Math.log10(Math.max(amin, ref === 'max' ? sMax : dbReference(s, ref)));
    // dB is monotonic in S, so the peak dB comes from the peak power and the top_db floor can be
    // decided in the power domain: values safely below it skip the log (often half of them).
    const maxDb = 10 * Math.log10(Math.max(amin, sMax)) - refDb;
    const floor = topDb === null ? -Infinity : maxDb - topDb;
    // max(amin, p) < cut  <=>  p < cut and amin < cut.
    const thr = topDb === null ? -Infinity : 10 ** ((floor + refDb) / 10) * (1 - 1e-9);
    const cut = thr > amin ? thr : -Infinity;
    for (let m = 0; m < nMels; m++) {
      const row = m * frames;
      for (let t = 0; t < frames; t++) {
        const p = s[t * nMels + m]!;
        if (p < cut) {
          dst[row + t] = floor;
        } else {
          const v = 10 * Math.log10(Math.max(amin, p)) - refDb;
          dst[row + t] = v < floor ? floor : v;
        }
      }
    }
    return dst;
  }
}
