import { describe, expect, it, vi } from 'vitest';
// Plain tfjs on the cpu backend, as core.test.ts.
vi.mock('@ser/model', () => import('./plain-model.ts'));
const { tf } = await import('@ser/model');
import {
  crossEntropy,
  decodeState,
  emaDecayAt,
  emaUpdate,
  encodeState,
  evaluateSplit,
  mixedCrossEntropy,
  mixup,
  mulberry32,
  readWeights,
  sampleBeta,
  train,
  writeWeights,
  type TrainConfig,
} from '../src/core.ts';
import { tinyDenseModel, twoClassSet } from './dense-fixture.ts';

await tf.setBackend('cpu');

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const variance = (a: number[]) => {
  const m = mean(a);
  return a.reduce((s, v) => s + (v - m) ** 2, 0) / (a.length - 1);
};

describe('sampleBeta', () => {
  it.each([
    [0.4, 0.4],
    [2, 5],
    [0.2, 1.5],
  ])('Beta(%s, %s) draws lie in [0, 1] with the distribution mean and variance', (a, b) => {
    const rand = mulberry32(1);
    const draws = Array.from({ length: 40000 }, () => sampleBeta(a, b, rand));
    expect(draws.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(mean(draws)).toBeCloseTo(a / (a + b), 2);
    expect(variance(draws)).toBeCloseTo((a * b) / ((a + b) ** 2 * (a + b + 1)), 2);
  });
});

describe('mixup', () => {
  const rows = 6;
  const rowSize = 5;
  const batch = () => Float32Array.from({ length: rows * rowSize }, (_, i) => Math.floor(i / rowSize) * 10 + (i % rowSize));
  const y = Int32Array.from([0, 1, 2, 3, 4, 5]);

  it('makes each row lam x itself + (1 - lam) x its partner, lam in [0.5, 1], and names the partner class', () => {
    const src = batch();
    const buf = src.slice();
    const t = mixup(buf, y, rows, rowSize, 0.4, mulberry32(3));
    expect(Array.from(t.y)).toEqual(Array.from(y));
    let mixedRows = 0;
    for (let i = 0; i < rows; i++) {
      const lam = t.lam[i]!;
      expect(lam).toBeGreaterThanOrEqual(0.5);
      expect(lam).toBeLessThanOrEqual(1);
      const p = t.y2[i]!; // the classes are the row indices: y2 names the partner row
      for (let k = 0; k < rowSize; k++) expect(buf[i * rowSize + k]).toBeCloseTo(lam * src[i * rowSize + k]! + (1 - lam) * src[p * rowSize + k]!, 4);
      if (p !== i && lam < 0.999) mixedRows++;
    }
    expect(mixedRows).toBeGreaterThan(0);
    // Every row is some row's partner once (a permutation).
    expect([...t.y2].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('is a function of the generator: same seed, same bytes; another seed, other mixtures', () => {
    const run = (seed: number) => {
      const buf = batch();
      const t = mixup(buf, y, rows, rowSize, 0.4, mulberry32(seed));
      return [Array.from(buf), Array.from(t.y2), Array.from(t.lam)];
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it('refuses alpha <= 0 and a buffer of the wrong size', () => {
    expect(() => mixup(batch(), y, rows, rowSize, 0, mulberry32(1))).toThrow(/alpha must be > 0/);
    expect(() => mixup(batch(), y, rows, rowSize + 1, 0.2, mulberry32(1))).toThrow(/expected 6 rows of 6 values/);
  });
});

describe('mixedCrossEntropy', () => {
  const probs = tf.tensor2d([
    [0.2, 0.5, 0.3],
    [0.1, 0.1, 0.8],
  ]);
  it('is lam x CE(y) + (1 - lam) x CE(y2) per row, with label smoothing', () => {
    const y = Int32Array.from([1, 2]);
    const y2 = Int32Array.from([0, 1]);
    const lam = Float32Array.from([0.7, 0.5]);
    const got = mixedCrossEntropy(probs, { y, y2, lam }, 3, 0.1).dataSync()[0]!;
    const row = (r: number, c: number) => crossEntropy(tf.slice(probs, r, 1), Int32Array.from([c]), 3, 0.1).dataSync()[0]!;
    const want = (0.7 * row(0, 1) + 0.3 * row(0, 0) + 0.5 * row(1, 2) + 0.5 * row(1, 1)) / 2;
    expect(got).toBeCloseTo(want, 6);
    // lam = 1 is the plain loss.
    expect(mixedCrossEntropy(probs, { y, y2, lam: Float32Array.from([1, 1]) }, 3, 0.1).dataSync()[0]).toBeCloseTo(crossEntropy(probs, y, 3, 0.1).dataSync()[0]!, 6);
  });
});

describe('weight moving average', () => {
  it('warms its decay up over the first steps, then holds it', () => {
    expect(emaDecayAt(0.995, 0)).toBeCloseTo(0.1, 12);
    expect(emaDecayAt(0.995, 10)).toBeCloseTo(11 / 20, 12);
    expect(emaDecayAt(0.995, 5000)).toBe(0.995);
  });

  it('moves each value by (1 - decay) of its gap and leaves unchanged weights exact', () => {
    const avg = [Float32Array.from([1, 2]), Float32Array.from([0.1234567])];
    emaUpdate(avg, [Float32Array.from([3, 2]), Float32Array.from([0.1234567])], 0.75);
    expect(Array.from(avg[0]!)).toEqual([1.5, 2]);
    expect(avg[1]![0]).toBe(Math.fround(0.1234567));
    expect(() => emaUpdate(avg, [Float32Array.from([1])], 0.5)).toThrow(/2 averages for 1 weights/);
  });
});

describe('train() with mixup and a weight average', () => {
  const ds = twoClassSet();
  const make = () => tinyDenseModel({ dropout: false });
  const cfg: TrainConfig = {
    optimizer: 'adamw', betas: [0.9, 0.999], eps: 1e-8, schedule: 'onecycle', warmup: 0.2, lr: 0.05, momentum: 0, weightDecay: 0.01,
    labelSmoothing: 0.1, mixup: 0.4, ema: 0.9, batchSize: 5, maxEpochs: 6, patience: 50, seed: 11, evalBatchSize: 7,
  };
  const bytes = (ws: Float32Array[]) => ws.map((w) => Buffer.from(w.buffer, w.byteOffset, w.byteLength).toString('base64'));

  it('validates the averaged weights, keeps them as the best, and trains the live ones', async () => {
    const model = make();
    const { state } = await train(model, ds, ds, cfg, null, () => {});
    const live = await readWeights(model);
    expect(bytes(state.weights)).toEqual(bytes(live));
    expect(state.ema).toHaveLength(live.length);
    expect(bytes(state.ema)).not.toEqual(bytes(live));
    // The best epoch's validation loss is that of its averaged weights, restored.
    writeWeights(model, state.bestWeights);
    expect((await evaluateSplit(model, ds, 7)).loss).toBeCloseTo(state.early.bestLoss, 6);
    // Mixup changes the training (same seed, no mixup: other weights); the average is off without ema.
    const plain = await train(make(), ds, ds, { ...cfg, mixup: 0, ema: 0 }, null, () => {});
    expect(bytes(plain.state.weights)).not.toEqual(bytes(live));
    expect(plain.state.ema).toEqual([]);
  });

  it('resumes from a checkpoint to the same bytes as an uninterrupted run', async () => {
    let saved: Uint8Array | null = null;
    const full = await train(make(), ds, ds, cfg, null, (s) => {
      if (s.epoch === 2) saved = encodeState(s, 'k');
    });
    const resumed = decodeState(saved!, 'k')!;
    expect(resumed.ema).toHaveLength(full.state.ema.length);
    const rest = await train(make(), ds, ds, cfg, resumed, () => {});
    expect(rest.state.history).toEqual(full.state.history);
    expect(bytes(rest.state.ema)).toEqual(bytes(full.state.ema));
    expect(bytes(rest.state.bestWeights)).toEqual(bytes(full.state.bestWeights));
    expect(bytes(rest.state.weights)).toEqual(bytes(full.state.weights));
  });
});
