// Test helper (`@ser/audio/testing`): the log-mel settings of librosa's reference arrays (the
// paper's, at 48 kHz) and the error measure the tests compare with, shared by audio's own tests
// and the features parity tests.

/** The paper's log-mel settings at 48 kHz; librosa's reference arrays were computed with them. */
export const REF_CONFIG = {
  sampleRate: 48000,
  nFft: 1024,
  winLength: 512,
  hopLength: 256,
  nMels: 128,
  fmin: 0,
  fmax: 24000,
  amin: 1e-10,
  topDb: 80,
} as const;

/** max |a_i - b_i| over the shorter length's indices of `a`. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e;
}
