import { describe, expect, it, vi } from 'vitest';
// The core needs only `tf`, `batchGrads` and `inferBatches` from @ser/model: plain tfjs on the cpu
// backend keeps these tests independent of the model package's layers and backends.
vi.mock('@ser/model', () => import('./plain-model.ts'));
const { tf } = await import('@ser/model');
import {
  decodeState,
  earlyStopUpdate,
  encodeState,
  evaluateSplit,
  initialEarlyStop,
  permutation,
  mulberry32,
  epochSeed,
  sgdStep,
  localGradients,
  train,
  writeWeights,
  type Dataset,
  type TrainConfig,
} from '../src/core.ts';
import { tinyDenseModel, twoClassSet } from './dense-fixture.ts';

await tf.setBackend('cpu');

/** The optimizer settings of the paper (plain SGD, constant rate): spread into each TrainConfig. */
const SGD = { optimizer: 'sgd' as const, betas: [0.9, 0.999] as [number, number], eps: 1e-8, schedule: 'constant' as const, warmup: 0 };

describe('sgdStep (torch.optim.SGD semantics)', () => {
  it('matches a hand-computed two-step update with momentum and weight decay', () => {
    const p = tf.variable(tf.tensor1d([1, -2]));
    const v = tf.variable(tf.zeros([2]));
    const cfg = { lr: 0.1, momentum: 0.8, weightDecay: 0.01 };
    // step 1: d = g + wd*p = [0.5+0.01, 0.1-0.02] = [0.51, 0.08]; v = d; p = p - 0.1*v = [0.949, -2.008]
    sgdStep([p], [tf.tensor1d([0.5, 0.1])], [v], cfg);
    expect(Array.from(v.dataSync())).toEqual([expect.closeTo(0.51, 6), expect.closeTo(0.08, 6)]);
    expect(Array.from(p.dataSync())).toEqual([expect.closeTo(0.949, 6), expect.closeTo(-2.008, 6)]);
    // step 2: d = [-0.2 + 0.00949, 0.3 - 0.02008] = [-0.19051, 0.27992]
    // v = 0.8*[0.51, 0.08] + d = [0.21749, 0.34392]; p = [0.949 - 0.021749, -2.008 - 0.034392]
    sgdStep([p], [tf.tensor1d([-0.2, 0.3])], [v], cfg);
    expect(Array.from(v.dataSync())).toEqual([expect.closeTo(0.21749, 6), expect.closeTo(0.34392, 6)]);
    expect(Array.from(p.dataSync())).toEqual([expect.closeTo(0.927251, 6), expect.closeTo(-2.042392, 6)]);
  });

  it('decays every trainable parameter of a model in train() (two full-batch steps vs. hand maths)', async () => {
    // Dense(2, softmax) without bias on 2-d inputs: dL/dW = X^T (P - Y) / b, computed here in JS.
    const x = [1, 0.5, -1, 2, 0.3, -0.7];
    const y = [0, 1, 1];
    const W0 = [0.2, -0.1, 0.4, 0.3]; // [in=2, out=2] row-major
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [2], units: 2, useBias: false, activation: 'softmax' })],
    });
    writeWeights(model, [Float32Array.from(W0)]);
    const ds: Dataset = { x: Float32Array.from(x), y: Int32Array.from(y), count: 3, rowSize: 2 };
    const cfg: TrainConfig = {
      ...SGD, lr: 0.5, momentum: 0.8, weightDecay: 0.1, batchSize: 3, maxEpochs: 2, patience: 10, seed: 1, evalBatchSize: 8,
    };
    await train(model, ds, ds, cfg, null, () => {});

    const grad = (W: number[]) => {
      const g = [0, 0, 0, 0];
      for (let r = 0; r < 3; r++) {
        const z = [0, 1].map((j) => x[2 * r]! * W[j]! + x[2 * r + 1]! * W[2 + j]!);
        const m = Math.max(...z);
        const e = z.map((v) => Math.exp(v - m));
        const s = e[0]! + e[1]!;
        for (let j = 0; j < 2; j++) {
          const d = e[j]! / s - (y[r] === j ? 1 : 0);
          g[j]! += (x[2 * r]! * d) / 3;
          g[2 + j]! += (x[2 * r + 1]! * d) / 3;
        }
      }
      return g;
    };
    const run = (decayFactor: number) => {
      let W = [...W0];
      let v = [0, 0, 0, 0];
      for (let step = 0; step < 2; step++) {
        const g = grad(W).map((gi, i) => gi + decayFactor * cfg.weightDecay * W[i]!);
        v = v.map((vi, i) => cfg.momentum * vi + g[i]!);
        W = W.map((wi, i) => wi - cfg.lr * v[i]!);
      }
      return W;
    };
    const got = Array.from(model.getWeights()[0]!.dataSync());
    const torch = run(1);
    const l2 = run(2); // what an L2 loss term wd*||W||^2 would do
    got.forEach((w, i) => expect(w).toBeCloseTo(torch[i]!, 5));
    expect(Math.max(...got.map((w, i) => Math.abs(w - l2[i]!)))).toBeGreaterThan(1e-3);
  });
});

describe('early stopping', () => {
  it('tracks the best epoch and stops after `patience` epochs without a strict improvement', () => {
    const losses = [1.0, 0.8, 0.9, 0.8, 0.85, NaN, 0.7, 0.75, 0.71, 0.72];
    let s = initialEarlyStop();
    const stops: number[] = [];
    for (let e = 0; e < losses.length; e++) {
      const u = earlyStopUpdate(s, losses[e]!, e, 3);
      s = u.state;
      if (u.stop) stops.push(e);
    }
    // 0.8 at epoch 1; epochs 2,3,4 do not improve (0.8 is not < 0.8) -> stop at epoch 4
    expect(stops[0]).toBe(4);
    expect(s.bestEpoch).toBe(6);
    expect(s.bestLoss).toBe(0.7);
  });

  it('train() stops early and its best weights reproduce the lowest validation loss', async () => {
    // Train on noise labels, validate on the opposite labels: val loss rises after a few epochs.
    const rand = mulberry32(3);
    const n = 32;
    const x = Float32Array.from({ length: n * 4 }, () => rand() * 2 - 1);
    const y = Int32Array.from({ length: n }, (_, i) => (x[i * 4]! > 0 ? 1 : 0));
    const yv = Int32Array.from(y, (v, i) => (i < n / 2 ? v : 1 - v));
    const trainSet: Dataset = { x, y, count: n, rowSize: 4 };
    const valSet: Dataset = { x, y: yv, count: n, rowSize: 4 };
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2, activation: 'softmax' })] });
    writeWeights(model, [new Float32Array([0.1, -0.1, 0.2, 0, 0, 0.3, -0.2, 0.1]), new Float32Array(2)]);
    const cfg: TrainConfig = {
      ...SGD, lr: 0.3, momentum: 0.8, weightDecay: 1e-3, batchSize: 8, maxEpochs: 200, patience: 4, seed: 9, evalBatchSize: 16,
    };
    const { state } = await train(model, trainSet, valSet, cfg, null, () => {});
    expect(state.stopped).toBe(true);
    expect(state.epoch).toBeLessThan(200);
    expect(state.epoch).toBe(state.early.bestEpoch + 1 + cfg.patience);
    const best = Math.min(...state.history.map((h) => h.val_loss));
    expect(state.early.bestLoss).toBe(best);
    writeWeights(model, state.bestWeights);
    expect((await evaluateSplit(model, valSet, 16)).loss).toBeCloseTo(best, 6);
  });
});

describe('steps per epoch', () => {
  it('trains only stepsPerEpoch batches of a fresh seeded subset each epoch', async () => {
    const n = 24;
    const ds: Dataset = { x: Float32Array.from({ length: n * 2 }, (_, i) => Math.sin(i)), y: Int32Array.from({ length: n }, (_, i) => i % 2), count: n, rowSize: 2 };
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 2, activation: 'softmax' })] });
    const calls: [number, number, number][] = [];
    const infos: { rows: number; loss: number; seconds: number }[] = [];
    const seen: number[] = [];
    const epochLoss: number[] = [];
    const cfg: TrainConfig = {
      ...SGD, lr: 0.1, momentum: 0.8, weightDecay: 0, batchSize: 4, maxEpochs: 2, patience: 5, seed: 1, evalBatchSize: 8, stepsPerEpoch: 2,
    };
    await train(model, ds, ds, cfg, null, (_s, r) => void (seen.push(r.samplesPerSec > 0 ? 1 : 0), epochLoss.push(r.loss)), {
      onBatch: (e, d, t, info) => (calls.push([e, d, t]), infos.push(info)),
    });
    expect(calls).toEqual([[0, 1, 2], [0, 2, 2], [1, 1, 2], [1, 2, 2]]);
    expect(seen).toEqual([1, 1]);
    // Progress info: rows so far in the epoch, the running mean loss (the epoch's loss after its
    // last batch), and growing seconds.
    expect(infos.map((i) => i.rows)).toEqual([4, 8, 4, 8]);
    expect(infos[1]!.loss).toBeCloseTo(epochLoss[0]!, 12);
    expect(infos[3]!.loss).toBeCloseTo(epochLoss[1]!, 12);
    expect(infos[1]!.seconds).toBeGreaterThan(infos[0]!.seconds);
  });
});

describe('micro-batches', () => {
  it('give the same weights as whole batches for a model without BatchNorm or dropout', async () => {
    const n = 20;
    const ds: Dataset = { x: Float32Array.from({ length: n * 3 }, (_, i) => Math.cos(i * 0.7)), y: Int32Array.from({ length: n }, (_, i) => i % 3), count: n, rowSize: 3 };
    const make = () => {
      const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })] });
      return m;
    };
    const cfg: TrainConfig = { ...SGD, lr: 0.1, momentum: 0.8, weightDecay: 1e-3, batchSize: 8, maxEpochs: 2, patience: 5, seed: 2, evalBatchSize: 8 };
    const whole = make();
    await train(whole, ds, ds, cfg, null, () => {});
    const micro = make();
    const firstPasses: number[] = [];
    const local = localGradients(micro, { microBatch: 3 });
    const gradients = { compute: (...a: Parameters<typeof local.compute>) => (firstPasses.push(a[3]), local.compute(...a)), dispose: () => {} };
    await train(micro, ds, ds, { ...cfg, microBatch: 3 }, null, () => {}, { gradients });
    // 20 rows in batches of 8, 8, 4 -> passes of 3 rows: 3 + 3 + 2 = 8 per epoch; each batch's
    // first pass (its dropout step) counts on from the previous epoch's.
    expect(firstPasses).toEqual([0, 3, 6, 8, 11, 14]);
    const a = whole.getWeights().map((w) => Array.from(w.dataSync()));
    const b = micro.getWeights().map((w) => Array.from(w.dataSync()));
    a.forEach((w, i) => w.forEach((v, j) => expect(b[i]![j]!).toBeCloseTo(v, 5)));
  });
});

describe('determinism and checkpoints', () => {
  it('epoch permutations depend only on (seed, epoch)', () => {
    const a = permutation(10, mulberry32(epochSeed(42, 3, 0)));
    const b = permutation(10, mulberry32(epochSeed(42, 3, 0)));
    const c = permutation(10, mulberry32(epochSeed(42, 4, 0)));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect([...a].sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('resuming from an encoded checkpoint gives the same weights as an uninterrupted run', async () => {
    const ds = twoClassSet();
    const make = () => tinyDenseModel({ dropout: true });
    const cfg: TrainConfig = {
      ...SGD, lr: 0.1, momentum: 0.8, weightDecay: 1e-3, batchSize: 5, maxEpochs: 6, patience: 50, seed: 11, evalBatchSize: 7,
    };
    const full = await train(make(), ds, ds, cfg, null, () => {});

    let saved: Uint8Array | null = null;
    await train(make(), ds, ds, { ...cfg, maxEpochs: 3 }, null, (s) => {
      saved = encodeState(s, 'k');
    });
    expect(decodeState(saved!, 'other')).toBeNull();
    // Decode from a Node Buffer at an odd offset in a bigger pool, as readFile can hand it over.
    const pool = Buffer.alloc(saved!.length + 3);
    pool.set(saved!, 3);
    const resumed = decodeState(pool.subarray(3), 'k')!;
    expect(resumed.epoch).toBe(3);
    const rest = await train(make(), ds, ds, cfg, resumed, () => {});
    expect(rest.state.history).toEqual(full.state.history);
    rest.state.weights.forEach((w, i) => expect(Buffer.from(w.buffer, w.byteOffset, w.byteLength)).toEqual(
      Buffer.from(full.state.weights[i]!.buffer, full.state.weights[i]!.byteOffset, full.state.weights[i]!.byteLength)));
  });
});
