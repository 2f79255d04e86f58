// Pure core of the augment stage: AWGN replicas of training clips at seeded, uniformly drawn SNRs.
import { addAwgn, signalPower } from '@ser/audio';
import { createRng } from '@ser/stage-kit';
import type { TensorSchema } from '@ser/tensor-io';

export interface AugmentParams {
  /** Noisy replicas per training clip (>= 0). */
  copies: number;
  /** SNR range in dB: each copy draws U[lo, hi). */
  snrDb: [number, number];
  seed: number;
}

/** One output row's tensor and its augment labels. */
export interface AugmentedCopy {
  /** 0 = the clean clip, 1..copies = noisy. */
  copy: number;
  /** Drawn (= achieved) SNR in dB; NaN for the clean row; +Infinity for a silent clip (no noise added). */
  snrDb: number;
  tensor: Float32Array;
}

/** cyrb53: a fast, well-mixed 53-bit string hash (public domain, bryc). */
export function hash53(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * The RNG seed of one noisy copy: a hash of (seed, clip id, copy). Each copy's SNR and noise
 * depend only on these three, not on row order or on which other clips are in train.
 */
export function copySeed(seed: number, id: string, copy: number): number {
  return hash53(`augment\u0000${seed}\u0000${id}\u0000${copy}`);
}

/**
 * The clean clip (copy 0, snr NaN) followed by `copies` noisy replicas. Copy c draws its SNR
 * U[lo, hi) and then its noise from createRng(copySeed(seed, id, c)); the noise is scaled so
 * that the achieved SNR equals the drawn one (audio.addAwgn). A silent clip gets no noise:
 * its copies equal the clean clip and carry snr_db = +Infinity.
 * @param x the clip, shape [samples]
 */
export function augmentClip(x: Float32Array, id: string, p: AugmentParams): AugmentedCopy[] {
  const out: AugmentedCopy[] = [{ copy: 0, snrDb: NaN, tensor: x }];
  const silent = signalPower(x) === 0;
  for (let c = 1; c <= p.copies; c++) {
    const rng = createRng(copySeed(p.seed, id, c));
    const snr = rng.uniform(p.snrDb[0], p.snrDb[1]);
    out.push({ copy: c, snrDb: silent ? Infinity : snr, tensor: addAwgn(x, snr, rng) });
  }
  return out;
}

/** The untouched row of a val/test clip. */
export function cleanCopy(x: Float32Array): AugmentedCopy {
  return { copy: 0, snrDb: NaN, tensor: x };
}

/**
 * Output schema: the input's columns plus `copy` (int32) and `snr_db` (float32), same shape;
 * metadata copied plus `augment` = JSON {copies, snr_db, seed}.
 */
export function augmentSchema(input: TensorSchema, p: AugmentParams): TensorSchema {
  return {
    columns: [...input.columns, { name: 'copy', type: 'int32' }, { name: 'snr_db', type: 'float32' }],
    shape: input.shape,
    metadata: { ...input.metadata, augment: JSON.stringify({ copies: p.copies, snr_db: p.snrDb, seed: p.seed }) },
  };
}
