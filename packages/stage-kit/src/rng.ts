// Seeded PRNG: sfc32 (Chris Doty-Humphrey's Small Fast Counter, passes PractRand/BigCrush),
// state seeded by splitmix32 from the seed, so nearby seeds give unrelated streams.

export interface Rng {
  /** Uniform double in [0, 1), 53-bit resolution. */
  next(): number;
  /** Uniform 32-bit unsigned integer. */
  uint32(): number;
  /** Uniform double in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Standard normal N(0, 1) (Box-Muller, both values used). */
  normal(): number;
  /** Uniform integer in [0, n) (unbiased, rejection sampling); n a positive integer <= 2^32. */
  int(n: number): number;
  /** Fisher-Yates shuffle in place; returns `arr`. */
  shuffle<T>(arr: T[]): T[];
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A deterministic generator for `seed` (any finite number; integers up to 2^53 are distinct seeds). */
export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed)) throw new RangeError(`createRng: seed must be a finite number, got ${seed}`);
  const lo = Math.trunc(seed) >>> 0;
  const hi = Math.floor(Math.trunc(seed) / 2 ** 32) >>> 0;
  const sm = { s: lo ^ Math.imul(hi, 0x27d4eb2d) };
  let a = splitmix32(sm);
  let b = splitmix32(sm);
  let c = splitmix32(sm);
  let d = splitmix32(sm);
  const uint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) uint32(); // warm up, as recommended for sfc32
  const next = (): number => ((uint32() >>> 5) * 67108864 + (uint32() >>> 6)) / 9007199254740992;
  const int = (n: number): number => {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new RangeError(`rng.int: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n); // reject the top partial block: no modulo bias
    let x = uint32();
    while (x >= limit) x = uint32();
    return x % n;
  };
  let spare: number | null = null;
  // Closures, not `this`: methods may be passed around detached.
  return {
    next,
    uint32,
    uniform: (lo2, hi2) => lo2 + (hi2 - lo2) * next(),
    normal() {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      const u1 = 1 - next(); // (0, 1]: log is finite
      const u2 = next();
      const r = Math.sqrt(-2 * Math.log(u1));
      spare = r * Math.sin(2 * Math.PI * u2);
      return r * Math.cos(2 * Math.PI * u2);
    },
    int,
    shuffle<T>(arr: T[]): T[] {
      for (let i = arr.length - 1; i > 0; i--) {
        const j = int(i + 1);
        const t = arr[i]!;
        arr[i] = arr[j]!;
        arr[j] = t;
      }
      return arr;
    },
  };
}
