import { describe, expect, it, vi } from 'vitest';
vi.mock('@ser/model', () => import('./plain-model.ts'));
const { tf } = await import('@ser/model');
import {
  clipByGlobalNorm,
  crossEntropy,
  learningRate,
  Optimizer,
  specAugment,
  train,
  TrainingDiverged,
  type Dataset,
  type OptimizerConfig,
  type TrainConfig,
} from '../src/core.ts';

await tf.setBackend('cpu');

// Reference values below were printed by PyTorch 1.13 (torch.optim, OneCycleLR, cross_entropy,
// clip_grad_norm_) for the same inputs.
describe('Adam and AdamW (torch.optim semantics)', () => {
  const run = (optimizer: 'adam' | 'adamw') => {
    const p = tf.variable(tf.tensor1d([1, -2]));
    const cfg: OptimizerConfig = { optimizer, lr: 0.1, momentum: 0, weightDecay: 0.05, betas: [0.9, 0.99], eps: 1e-8 };
    const opt = new Optimizer([p], cfg);
    for (const g of [[0.5, 0.1], [-0.2, 0.3], [0.05, -0.4]]) opt.step([tf.tensor1d(g)], cfg.lr);
    expect(opt.steps).toBe(3);
    return Array.from(p.dataSync());
  };
  it('adam adds the decay to the gradient', () => {
    const [a, b] = run('adam');
    expect(a).toBeCloseTo(0.8113954067230225, 5);
    expect(b).toBeCloseTo(-2.036235809326172, 5);
  });
  it('adamw decays the weights, decoupled from the moments', () => {
    const [a, b] = run('adamw');
    expect(a).toBeCloseTo(0.8189908266067505, 5);
    expect(b).toBeCloseTo(-2.1541824340820312, 5);
  });
  it('restores its moments and step count from a checkpoint', async () => {
    const cfg: OptimizerConfig = { optimizer: 'adamw', lr: 0.1, momentum: 0, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-8 };
    const p1 = tf.variable(tf.tensor1d([0.5]));
    const a = new Optimizer([p1], cfg);
    a.step([tf.tensor1d([0.3])], 0.1);
    const p2 = tf.variable(tf.tensor1d(Array.from(p1.dataSync())));
    const b = new Optimizer([p2], cfg);
    b.load(await a.read(), a.steps);
    a.step([tf.tensor1d([-0.1])], 0.1);
    b.step([tf.tensor1d([-0.1])], 0.1);
    expect(Array.from(p2.dataSync())).toEqual(Array.from(p1.dataSync()));
    expect(() => b.load([], 1)).toThrow(/0 optimizer buffers, adamw needs 2/);
  });
});

describe('learning-rate schedules', () => {
  it('onecycle follows torch OneCycleLR (pct_start 0.2, 20 steps, max_lr 0.01)', () => {
    const torch = [
      0.0004, 0.0028, 0.0076, 0.01, 0.009903926786310545, 0.009619399184965783, 0.009157351432120481, 0.008535539763797114,
      0.00777786005369335, 0.006913429508156802, 0.005975467708274201, 0.00500002, 0.0040245722917257995, 0.003086610491843199,
      0.002222179946306651, 0.0014645002362028865, 0.0008426885678795193, 0.0003806408150342165, 9.611321368945592e-5, 4e-8,
    ];
    torch.forEach((v, i) => expect(learningRate(i, 20, 0.01, { schedule: 'onecycle', warmup: 0.2 })).toBeCloseTo(v, 12));
  });
  it('cosine warms up linearly, peaks, and decays to 0 at the last step; constant is constant', () => {
    const lr = (s: number) => learningRate(s, 10, 1, { schedule: 'cosine', warmup: 0.2 });
    expect([lr(0), lr(1), lr(2)]).toEqual([0.5, 1, 1]);
    expect(lr(9)).toBeCloseTo(0, 12);
    expect(lr(5)).toBeGreaterThan(lr(6));
    expect(learningRate(7, 10, 0.3, { schedule: 'constant', warmup: 0.5 })).toBe(0.3);
  });
});

describe('loss and gradients', () => {
  it('label smoothing matches torch cross_entropy(label_smoothing=0.1)', () => {
    const probs = tf.tensor2d([
      [0.23122389614582062, 0.6285316944122314, 0.14024437963962555],
      [0.14822545647621155, 0.04039615020155907, 0.8113784193992615],
    ]);
    expect(crossEntropy(probs, Int32Array.from([1, 2]), 3, 0.1).dataSync()[0]).toBeCloseTo(0.4566947817802429, 5);
  });
  it('clips the global norm as clip_grad_norm_', async () => {
    const { grads, norm } = await clipByGlobalNorm([tf.tensor1d([3, 4]), tf.tensor1d([12])], 1);
    expect(norm).toBeCloseTo(13, 5);
    expect(Array.from(grads[0]!.dataSync())).toEqual([expect.closeTo(0.23076921701431274, 6), expect.closeTo(0.307692289352417, 6)]);
    expect(grads[1]!.dataSync()[0]).toBeCloseTo(0.923076868057251, 6);
    const small = [tf.tensor1d([0.1])];
    expect((await clipByGlobalNorm(small, 1)).grads).toBe(small); // under the limit: untouched
  });
});

describe('specAugment', () => {
  const fill = Float32Array.from({ length: 4 * 6 }, (_, i) => -100 - i);
  it('replaces whole mel bands and whole frames by the fill values, reproducibly', () => {
    const mask = (seed: number) => {
      const buf = new Float32Array(2 * 24).fill(7);
      let s = seed;
      const rand = () => ((s = (s * 16807) % 2147483647) / 2147483647);
      specAugment(buf, 2, 4, 6, fill, { freq_masks: 1, freq_width: 2, time_masks: 1, time_width: 3 }, rand);
      return buf;
    };
    const a = mask(3);
    expect(Array.from(mask(3))).toEqual(Array.from(a));
    let maskedCells = 0;
    for (let r = 0; r < 2; r++) {
      for (let m = 0; m < 4; m++) {
        for (let t = 0; t < 6; t++) {
          const v = a[r * 24 + m * 6 + t]!;
          expect(v === 7 || v === fill[m * 6 + t]).toBe(true); // masked cells take the fill at their own position
          if (v !== 7) maskedCells++;
        }
      }
      // A masked band is masked across all frames, a masked frame across all bands.
      const band = (m: number) => Array.from({ length: 6 }, (_, t) => a[r * 24 + m * 6 + t] !== 7);
      for (let m = 0; m < 4; m++) {
        const b = band(m);
        const frames = Array.from({ length: 6 }, (_, t) => Array.from({ length: 4 }, (_, mm) => a[r * 24 + mm * 6 + t] !== 7).every(Boolean));
        b.forEach((masked, t) => expect(masked).toBe(b.every(Boolean) || frames[t]!));
      }
    }
    expect(maskedCells).toBeGreaterThan(0);
    const none = new Float32Array(24).fill(7);
    specAugment(none, 1, 4, 6, fill, { freq_masks: 0, freq_width: 5, time_masks: 0, time_width: 5 }, Math.random);
    expect(none.every((v) => v === 7)).toBe(true);
  });
});

describe('train() with the CPU recipe pieces', () => {
  const n = 32;
  const ds: Dataset = {
    x: Float32Array.from({ length: n * 6 }, (_, i) => Math.sin(i * 1.3)),
    y: Int32Array.from({ length: n }, (_, i) => i % 2),
    count: n,
    rowSize: 6,
  };
  const make = () =>
    tf.sequential({
      layers: [
        tf.layers.reshape({ inputShape: [2, 3], targetShape: [6] }),
        tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
      ],
    });
  const cfg: TrainConfig = {
    optimizer: 'adamw', lr: 0.01, momentum: 0, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-8,
    schedule: 'onecycle', warmup: 0.2, labelSmoothing: 0.1, clipGradNorm: 1,
    specAugment: { freq_masks: 1, freq_width: 1, time_masks: 1, time_width: 1 },
    batchSize: 8, maxEpochs: 3, patience: 5, seed: 3, evalBatchSize: 16,
  };
  it('is deterministic and records the learning rate per epoch', async () => {
    const fill = new Float32Array(6);
    const a = await train(make(), ds, ds, cfg, null, () => {}, { maskFill: fill });
    const b = await train(make(), ds, ds, cfg, null, () => {}, { maskFill: fill });
    expect(b.state.history).toEqual(a.state.history);
    expect(a.state.history.map((h) => h.lr)).toEqual([1, 2, 3].map((e) => learningRate(e * 4 - 1, 12, 0.01, cfg)));
    expect(a.state.optimizerSteps).toBe(12);
    await expect(train(make(), ds, ds, cfg, null, () => {})).rejects.toThrow(/maskFill/);
  });
  it('stops with TrainingDiverged naming the epoch and batch when the loss is not finite', async () => {
    const bad: Dataset = { ...ds, x: ds.x.map((v, i) => (i === 20 ? NaN : v)) };
    const err = await train(make(), bad, ds, { ...cfg, specAugment: null }, null, () => {}).catch((e) => e);
    expect(err).toBeInstanceOf(TrainingDiverged);
    expect(err.epoch).toBe(1);
    expect(err.message).toMatch(/loss NaN at epoch 1, batch \d/);
  });
});
