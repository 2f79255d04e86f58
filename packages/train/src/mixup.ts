// Mixup (Zhang et al. 2018) on a training batch buffer, in place, before it becomes a tensor:
// row i becomes lam_i * row i + (1 - lam_i) * row p(i), p a seeded permutation of the batch, and
// its target the same mixture of the two rows' (smoothed) one-hot labels. Seeded like the
// SpecAugment masks: the caller passes a generator derived from (seed, epoch).

/** A batch's training targets: each row's class, and with mixup the class it was mixed with. */
export interface Targets {
  /** Class of each row (with mixup: of its larger share; training accuracy counts against it). */
  y: Int32Array;
  /** Mixup only: the class of the row that row i was mixed with. */
  y2?: Int32Array;
  /** Mixup only: row i's share of itself, in [0.5, 1] (1 - lam of row y2). */
  lam?: Float32Array;
}

/** Rows [from, to) of `t` (views, no copy). */
export function sliceTargets(t: Targets, from: number, to: number): Targets {
  return t.y2 && t.lam ? { y: t.y.subarray(from, to), y2: t.y2.subarray(from, to), lam: t.lam.subarray(from, to) } : { y: t.y.subarray(from, to) };
}

/** A standard normal draw (Box-Muller, one of the pair) from uniform draws in [0, 1). */
function normal(rand: () => number): number {
  const u = 1 - rand(); // (0, 1]: log(u) is finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** A Gamma(shape, 1) draw, shape > 0 (Marsaglia & Tsang 2000; shape < 1 by the u^(1/shape) boost). */
export function sampleGamma(shape: number, rand: () => number): number {
  if (!(shape > 0)) throw new Error(`sampleGamma: shape must be > 0, got ${shape}`);
  if (shape < 1) return sampleGamma(shape + 1, rand) * Math.pow(1 - rand(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal(rand);
    const t = 1 + c * x;
    if (t <= 0) continue;
    const v = t * t * t;
    const u = 1 - rand();
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A Beta(a, b) draw in [0, 1] from two Gamma draws. */
export function sampleBeta(a: number, b: number, rand: () => number): number {
  const x = sampleGamma(a, rand);
  const y = sampleGamma(b, rand);
  return x + y > 0 ? x / (x + y) : 0.5;
}

/**
 * Mixes `rows` rows of `buf` (row-major, `rowSize` values each) in place with mixup of strength
 * `alpha` (> 0): lam_i ~ Beta(alpha, alpha), folded to max(lam, 1 - lam) so that each row keeps
 * the larger share of itself; partner p(i) from a seeded permutation of the batch. Returns the
 * targets: y (unchanged classes), y2[i] = y[p(i)], lam. Draws, in order: the permutation, then
 * one lam per row.
 */
export function mixup(buf: Float32Array, y: Int32Array, rows: number, rowSize: number, alpha: number, rand: () => number): Required<Targets> {
  if (!(alpha > 0)) throw new Error(`mixup: alpha must be > 0, got ${alpha}`);
  if (buf.length !== rows * rowSize || y.length !== rows) throw new Error(`mixup: expected ${rows} rows of ${rowSize} values and ${rows} labels`);
  const partner = new Int32Array(rows);
  for (let i = 0; i < rows; i++) partner[i] = i;
  for (let i = rows - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = partner[i]!;
    partner[i] = partner[j]!;
    partner[j] = t;
  }
  const lam = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    const l = sampleBeta(alpha, alpha, rand);
    lam[i] = Math.max(l, 1 - l);
  }
  const src = buf.slice();
  const y2 = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const p = partner[i]!;
    y2[i] = y[p]!;
    const l = lam[i]!;
    const a = i * rowSize;
    const b = p * rowSize;
    for (let k = 0; k < rowSize; k++) buf[a + k] = l * src[a + k]! + (1 - l) * src[b + k]!;
  }
  return { y: y.slice(), y2, lam };
}
