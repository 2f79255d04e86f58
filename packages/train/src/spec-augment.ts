// SpecAugment-style masking of training inputs (Park et al. 2019, without time warping), applied
// to a batch buffer in place before it becomes a tensor. Seeded: the caller passes a generator
// derived from (seed, epoch), so masks are reproducible and a resumed run draws the same ones.

export interface SpecAugmentConfig {
  /** Frequency masks per row, each `f` consecutive mel bands with f uniform in [0, freq_width]. */
  freq_masks: number;
  freq_width: number;
  /** Time masks per row, each `t` consecutive frames with t uniform in [0, time_width]. */
  time_masks: number;
  time_width: number;
}

/**
 * Masks `rows` rows of `buf` (row-major [rows, nMels, frames]) in place. A masked value is set
 * to `fill` at the same position (the scaler's mean): the model standardises its input, so a
 * masked cell reaches the network as 0, as torchaudio's masks on standardised features.
 * Draws per row, in order: for each frequency mask (width, start), then for each time mask.
 */
export function specAugment(
  buf: Float32Array,
  rows: number,
  nMels: number,
  frames: number,
  fill: Float32Array,
  cfg: SpecAugmentConfig,
  rand: () => number,
): void {
  const size = nMels * frames;
  if (fill.length !== size) throw new Error(`specAugment: fill has ${fill.length} values, rows have ${size}`);
  const draw = (maxWidth: number, extent: number): [number, number] => {
    const width = Math.min(extent, Math.floor(rand() * (maxWidth + 1)));
    const start = Math.floor(rand() * (extent - width + 1));
    return [start, width];
  };
  for (let r = 0; r < rows; r++) {
    const o = r * size;
    for (let k = 0; k < cfg.freq_masks; k++) {
      const [m0, w] = draw(cfg.freq_width, nMels);
      for (let m = m0; m < m0 + w; m++) buf.set(fill.subarray(m * frames, (m + 1) * frames), o + m * frames);
    }
    for (let k = 0; k < cfg.time_masks; k++) {
      const [t0, w] = draw(cfg.time_width, frames);
      for (let m = 0; m < nMels; m++) {
        const row = o + m * frames;
        for (let t = t0; t < t0 + w; t++) buf[row + t] = fill[m * frames + t]!;
      }
    }
  }
}
