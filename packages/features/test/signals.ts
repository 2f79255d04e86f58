// The shared reference's synthetic signals, regenerated in float64 from the formulas in
// fixtures/manifest.json (librosa computed S from these float64 arrays).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { decodeNpy, type NpyArray } from '../src/npy.ts';

export const SR = 48000;
export const N = 144000; // 3 s

export function chirp(): Float64Array {
  const y = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    const t = n / SR;
    y[n] = 0.5 * Math.sin(2 * Math.PI * (50 * t + ((20000 - 50) / (2 * 3)) * t * t));
  }
  return y;
}

export function tonesGaps(): Float64Array {
  const y = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    const t = n / SR;
    if ((t >= 0.5 && t < 1.5) || (t >= 2.0 && t < 2.5)) {
      y[n] = 0.3 * Math.sin(2 * Math.PI * 220 * t) + 0.2 * Math.sin(2 * Math.PI * 1000 * t) + 0.1 * Math.sin(2 * Math.PI * 5000 * t);
    }
  }
  return y;
}

export function xorshiftNoise(): Float64Array {
  const y = new Float64Array(N);
  let s = 12345;
  for (let n = 0; n < N; n++) {
    s = (s ^ (s << 13)) >>> 0;
    s = (s ^ (s >>> 17)) >>> 0;
    s = (s ^ (s << 5)) >>> 0;
    y[n] = 0.1 * (2 * (s / 2 ** 32) - 1);
  }
  return y;
}

export const SIGNALS = { chirp, tones_gaps: tonesGaps, noise: xorshiftNoise } satisfies Record<string, () => Float64Array>;

const FIXTURES = new URL('./fixtures/', import.meta.url);

export function fixture(name: string): NpyArray {
  return decodeNpy(gunzipSync(readFileSync(new URL(`${name}.npy.gz`, FIXTURES))), name);
}

export function manifest(): { signals: Record<string, { y_first8: number[]; S_shape: number[] }> } {
  return JSON.parse(readFileSync(new URL('manifest.json', FIXTURES), 'utf8'));
}

// librosa's settings for every reference array, and the error measure: one copy, in @ser/audio/testing.
export { REF_CONFIG, maxAbsDiff } from '@ser/audio/testing';

/** Max relative error of `got` vs `want` over entries where want > floor. */
export function maxRelErr(got: ArrayLike<number>, want: ArrayLike<number>, floor = 0): number {
  let e = 0;
  for (let i = 0; i < want.length; i++) if (want[i]! > floor) e = Math.max(e, Math.abs(got[i]! - want[i]!) / want[i]!);
  return e;
}
