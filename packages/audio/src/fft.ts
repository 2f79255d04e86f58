// Real-input FFT for power spectra. Wraps fft.js (radix-4, float64 arithmetic, precomputed twiddle
// tables): correct to ~1e-15 relative and several times faster than a naive radix-2 in JS.
import FFT from 'fft.js';

/**
 * A real FFT of fixed size `n` (a power of two >= 4) with its own buffers: no allocation per call.
 * `powerSpectrum(frame, out)` writes |X[k]|^2 for k = 0..n/2 (n/2 + 1 bins) into `out`.
 */
export class RealFft {
  readonly size: number;
  readonly bins: number;
  private readonly fft: FFT;
  private readonly spectrum: number[];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 4 || (size & (size - 1)) !== 0) {
      throw new RangeError(`FFT size must be a power of two >= 4, got ${size}`);
    }
    this.size = size;
    this.bins = size / 2 + 1;
    this.fft = new FFT(size);
    this.spectrum = this.fft.createComplexArray();
  }

  /**
   * Complex spectrum of a real frame (length `size`), interleaved [re0, im0, re1, im1, ...]; only
   * bins 0..size/2 are valid. The returned array is reused by the next call.
   */
  transform(frame: ArrayLike<number>): ArrayLike<number> {
    if (frame.length !== this.size) throw new RangeError(`frame length ${frame.length} != FFT size ${this.size}`);
    this.fft.realTransform(this.spectrum, frame);
    return this.spectrum;
  }

  /**
   * fft.js's precomputed tables for this size (twiddles [cos, -sin] interleaved, the first pass's
   * digit reversal and its width), so that another implementation of the same transform (the wasm
   * log-mel kernel) uses exactly these values.
   */
  tables(): { table: Float64Array; bitrev: Int32Array; width: number } {
    const f = this.fft as unknown as { table: number[]; _bitrev: number[]; _width: number };
    return { table: Float64Array.from(f.table), bitrev: Int32Array.from(f._bitrev), width: f._width };
  }

  /** |X[k]|^2 for k = 0..size/2 into `out` (length >= bins). */
  powerSpectrum(frame: ArrayLike<number>, out: Float64Array): Float64Array {
    const s = this.transform(frame);
    for (let k = 0; k < this.bins; k++) {
      const re = s[2 * k]!;
      const im = s[2 * k + 1]!;
      out[k] = re * re + im * im;
    }
    return out;
  }
}

/** Reference O(n^2) DFT power spectrum (float64), for tests only. */
export function naiveDftPower(frame: ArrayLike<number>): Float64Array {
  const n = frame.length;
  const out = new Float64Array(Math.floor(n / 2) + 1);
  for (let k = 0; k < out.length; k++) {
    let re = 0;
    let im = 0;
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * ((k * t) % n)) / n;
      re += frame[t]! * Math.cos(a);
      im += frame[t]! * Math.sin(a);
    }
    out[k] = re * re + im * im;
  }
  return out;
}
