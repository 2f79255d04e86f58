// Additive white Gaussian noise at an exact signal-to-noise ratio.

/** The part of a seeded RNG that AWGN needs (e.g. @ser/stage-kit's createRng). */
export interface NormalSource {
  /** A standard normal draw N(0, 1). */
  normal(): number;
}

/** Mean power mean(x^2) over all samples (float64 accumulation); 0 for an empty signal. */
export function signalPower(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return x.length > 0 ? s / x.length : 0;
}

/** SNR in dB of `noisy` against `clean` (same length): 10 log10(P(clean) / P(noisy - clean)). */
export function measuredSnrDb(clean: ArrayLike<number>, noisy: ArrayLike<number>): number {
  let ps = 0;
  let pn = 0;
  for (let i = 0; i < clean.length; i++) {
    const c = clean[i]!;
    const d = noisy[i]! - c;
    ps += c * c;
    pn += d * d;
  }
  return 10 * Math.log10(ps / pn);
}

/**
 * `x + g * n`, n ~ N(0, 1) white noise drawn from `rng`, with g chosen from the powers of this
 * very noise draw and of x so that 10 log10(P(x) / P(g n)) = snrDb exactly (not only in
 * expectation): g = sqrt(P(x) / (P(n) * 10^(snrDb / 10))). This is the paper's "normalise the
 * signal and the noise, then scale the noise": x / sqrt(P(x)) and n / sqrt(P(n)) have unit power,
 * and scaling the normalised noise by 10^(-snrDb/20) relative to the signal is the same g.
 * A silent x (P(x) = 0) has no defined SNR: it is returned unchanged (a copy), no noise added.
 * @param x signal, shape [samples]; not modified
 * @returns a new Float32Array, shape [samples]
 */
export function addAwgn(x: Float32Array, snrDb: number, rng: NormalSource): Float32Array {
  if (!Number.isFinite(snrDb)) throw new RangeError(`addAwgn: snrDb must be finite, got ${snrDb}`);
  const out = new Float32Array(x.length);
  const ps = signalPower(x);
  if (ps === 0 || x.length === 0) {
    out.set(x);
    return out;
  }
  const noise = new Float64Array(x.length);
  let pn = 0;
  for (let i = 0; i < noise.length; i++) {
    const v = rng.normal();
    noise[i] = v;
    pn += v * v;
  }
  pn /= noise.length;
  const g = Math.sqrt(ps / (pn * 10 ** (snrDb / 10)));
  for (let i = 0; i < x.length; i++) out[i] = x[i]! + g * noise[i]!;
  return out;
}
