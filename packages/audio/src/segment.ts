// A fixed analysis window, librosa.load(offset=, duration=) semantics, zero-padded to full length.

/** Sample index where a window at `offsetSeconds` starts: int(offset * sr), as librosa/soundfile. */
export function windowStart(sampleRate: number, offsetSeconds: number): number {
  return Math.trunc(offsetSeconds * sampleRate);
}

/** Samples in a `durationSeconds` window: int(duration * sr), as librosa/soundfile. */
export function windowLength(sampleRate: number, durationSeconds: number): number {
  return Math.trunc(durationSeconds * sampleRate);
}

/**
 * The window `x[int(offset*sr) : int(offset*sr) + int(duration*sr)]` (what librosa.load(offset,
 * duration) returns at the file's own rate: soundfile seeks to int(offset*sr) and reads
 * int(duration*sr) frames, fewer at the end of the file), zero-padded at the end to exactly
 * int(duration*sr) samples. A start past the end gives all zeros.
 * @param x mono signal, shape [samples]
 * @returns a new Float32Array of shape [int(durationSeconds * sampleRate)]
 */
export function segmentWindow(x: Float32Array, sampleRate: number, offsetSeconds: number, durationSeconds: number): Float32Array {
  if (!(sampleRate > 0) || !Number.isFinite(sampleRate)) throw new RangeError(`segmentWindow: sampleRate must be > 0, got ${sampleRate}`);
  if (!(offsetSeconds >= 0) || !Number.isFinite(offsetSeconds)) throw new RangeError(`segmentWindow: offset must be >= 0 s, got ${offsetSeconds}`);
  if (!(durationSeconds > 0) || !Number.isFinite(durationSeconds)) throw new RangeError(`segmentWindow: duration must be > 0 s, got ${durationSeconds}`);
  const start = windowStart(sampleRate, offsetSeconds);
  const n = windowLength(sampleRate, durationSeconds);
  if (n < 1) throw new RangeError(`segmentWindow: duration ${durationSeconds} s is under one sample at ${sampleRate} Hz`);
  const out = new Float32Array(n); // zeros: the padding
  if (start < x.length) out.set(x.subarray(start, Math.min(x.length, start + n)));
  return out;
}
