// Log-mel spectrogram = librosa.power_to_db(librosa.feature.melspectrogram(...)), reusable buffers.
import { PowerStft, frameCount } from './stft.ts';
import { melFilterbank, type MelFilterbank } from './mel.ts';
import { powerToDb, type DbRef } from './db.ts';

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
 * output (and grows the mel buffer when a longer signal comes), nothing per frame.
 * Maths in float64 (power, mel sums, dB), output float32.
 */
export class LogMelExtractor {
  readonly config: LogMelConfig;
  readonly filterbank: MelFilterbank;
  private readonly stft: PowerStft;
  private readonly power: Float64Array; // one frame's power spectrum
  private mel: Float64Array = new Float64Array(0); // [nMels, frames] mel power of the last signal

  constructor(config: LogMelConfig) {
    this.config = { ...config };
    this.stft = new PowerStft({ nFft: config.nFft, winLength: config.winLength, hopLength: config.hopLength });
    this.filterbank = melFilterbank(config);
    this.power = new Float64Array(this.stft.bins);
  }

  /** Frames for a signal of `samples` samples (center=True): 1 + floor(samples / hop). */
  frames(samples: number): number {
    return frameCount(samples, this.config.hopLength);
  }

  /**
   * Mel power spectrogram S (librosa.feature.melspectrogram, power 2), shape [nMels, frames]
   * row-major, float64. The returned array is a view on an internal buffer reused by the next call.
   */
  melPower(x: ArrayLike<number>): Float64Array {
    const { nMels } = this.config;
    const frames = this.frames(x.length);
    const size = nMels * frames;
    if (this.mel.length < size) this.mel = new Float64Array(size);
    const mel = this.mel.subarray(0, size);
    const { bands } = this.filterbank;
    const power = this.power;
    for (let t = 0; t < frames; t++) {
      this.stft.frameInto(x, t, power);
      for (let m = 0; m < nMels; m++) {
        const { start, weights } = bands[m];
        let acc = 0;
        for (let j = 0; j < weights.length; j++) acc += weights[j] * power[start + j];
        mel[m * frames + t] = acc;
      }
    }
    return mel;
  }

  /** Log-mel in dB, shape [nMels, frames] row-major, as float32 (into `out` if given). */
  extract(x: ArrayLike<number>, out?: Float32Array): Float32Array {
    const s = this.melPower(x);
    const dst = out ?? new Float32Array(s.length);
    if (dst.length !== s.length) throw new RangeError(`out has length ${dst.length}, need ${s.length}`);
    const { ref, amin, topDb } = this.config;
    return powerToDb(s, { ref, amin, topDb }, dst);
  }
}
