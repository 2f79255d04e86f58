// Each custom layer: output shapes, math on small known inputs, getConfig -> fromConfig round trip.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  tf,
  Standardize,
  SeededDropout,
  MultiHeadSelfAttention,
  PositionalEncoding,
  CrossAttention,
  sinusoidalTable,
  BatchNorm,
  LayerNorm,
  Pool2D,
} from '../src/index.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const arr = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/** Rebuilds a layer from its registered class name + getConfig and checks the config survives. */
function roundTrip(layer: tf.layers.Layer): tf.layers.Layer {
  const config = layer.getConfig();
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  const entry = map[layer.getClassName()];
  expect(entry, `${layer.getClassName()} is registered`).toBeDefined();
  const [cls, fromConfig] = entry!;
  const copy = fromConfig(cls, config) as tf.layers.Layer;
  expect(copy.getConfig()).toEqual(config);
  return copy;
}

describe('Standardize', () => {
  it('is identity until filled, then (x - mean) / scale; non-trainable', () => {
    const l = new Standardize({ name: 's' });
    const x = tf.tensor3d([[[1, 2, 3], [4, 5, 6]]]);
    expect(arr(l.apply(x) as tf.Tensor)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(l.trainableWeights).toHaveLength(0);
    expect(l.getWeights().map((w) => w.shape)).toEqual([[2, 3], [2, 3]]);
    l.setWeights([tf.tensor2d([[1, 1, 1], [0, 0, 0]]), tf.tensor2d([[2, 2, 2], [1, 1, 4]])]);
    expect(arr(l.apply(x) as tf.Tensor)).toEqual([0, 0.5, 1, 4, 5, 1.5]);
    const copy = roundTrip(l);
    expect(copy.trainable).toBe(false);
  });
});

describe('SeededDropout', () => {
  const x = tf.ones([4, 50]);
  it('is identity at inference', () => {
    const l = new SeededDropout({ name: 'd', rate: 0.4, seed: 3 });
    expect(arr(l.apply(x) as tf.Tensor).every((v) => v === 1)).toBe(true);
    expect(l.step).toBe(0);
  });
  it('draws a new mask per training call, reproducible from (seed, step), scaled by 1/(1-rate)', () => {
    const a = new SeededDropout({ name: 'd1', rate: 0.4, seed: 3 });
    const b = roundTrip(a) as SeededDropout;
    const a1 = arr(a.apply(x, { training: true }) as tf.Tensor);
    const a2 = arr(a.apply(x, { training: true }) as tf.Tensor);
    const b1 = arr(b.apply(x, { training: true }) as tf.Tensor);
    expect(a1).toEqual(b1); // same seed, same step
    expect(a1).not.toEqual(a2); // next step, new mask
    for (const v of a1) expect([0, 1 / 0.6].some((w) => Math.abs(v - w) < 1e-6)).toBe(true);
    const dropped = a1.filter((v) => v === 0).length / a1.length;
    expect(dropped).toBeGreaterThan(0.25);
    expect(dropped).toBeLessThan(0.55);
    b.step = 1;
    expect(arr(b.apply(x, { training: true }) as tf.Tensor)).toEqual(a2);
    expect(arr(new SeededDropout({ name: 'd2', rate: 0.4, seed: 4 }).apply(x, { training: true }) as tf.Tensor)).not.toEqual(a1);
  });
});

describe('MultiHeadSelfAttention', () => {
  it('maps [B, T, d] to [B, T, d], matches a hand computation (1 head), round-trips', () => {
    const l = new MultiHeadSelfAttention({ name: 'm', heads: 1, seed: 5 });
    const x = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 1);
    const y = l.apply(x) as tf.Tensor;
    expect(y.shape).toEqual([2, 5, 4]);
    const [wq, bq, wk, bk, wv, bv, wo, bo] = l.getWeights() as tf.Tensor2D[];
    const ref = tf.tidy(() => {
      const outs = [0, 1].map((b) => {
        const xb = tf.squeeze(tf.slice(x, [b, 0, 0], [1, 5, 4]), [0]) as tf.Tensor2D;
        const q = tf.add(tf.matMul(xb, wq!), bq!) as tf.Tensor2D;
        const k = tf.add(tf.matMul(xb, wk!), bk!) as tf.Tensor2D;
        const v = tf.add(tf.matMul(xb, wv!), bv!) as tf.Tensor2D;
        const a = tf.softmax(tf.div(tf.matMul(q, k, false, true), 2)) as tf.Tensor2D;
        return tf.add(tf.matMul(tf.matMul(a, v), wo!), bo!);
      });
      return tf.stack(outs);
    });
    const d = arr(tf.abs(tf.sub(y, ref)));
    expect(Math.max(...d)).toBeLessThan(1e-5);
    const copy = roundTrip(l);
    copy.apply(x);
    copy.setWeights(l.getWeights());
    expect(arr(copy.apply(x) as tf.Tensor)).toEqual(arr(y));
  });
  it('splits heads: 2 heads differ from 1 head with the same weights, shapes hold', () => {
    const one = new MultiHeadSelfAttention({ name: 'h1', heads: 1, seed: 5 });
    const two = new MultiHeadSelfAttention({ name: 'h2', heads: 2, seed: 5 });
    const x = tf.randomNormal([1, 6, 4], 0, 1, 'float32', 2);
    const y1 = one.apply(x) as tf.Tensor;
    two.apply(x);
    two.setWeights(one.getWeights());
    const y2 = two.apply(x) as tf.Tensor;
    expect(y2.shape).toEqual([1, 6, 4]);
    expect(arr(y1)).not.toEqual(arr(y2));
    expect(() => new MultiHeadSelfAttention({ name: 'h3', heads: 3, seed: 1 }).apply(x)).toThrow(/divisible/);
  });
});

describe('PositionalEncoding', () => {
  it('sinusoidal adds the fixed table (no weights)', () => {
    const l = new PositionalEncoding({ name: 'p', kind: 'sinusoidal', seed: 1 });
    const y = l.apply(tf.zeros([2, 3, 4])) as tf.Tensor;
    expect(y.shape).toEqual([2, 3, 4]);
    const t = sinusoidalTable(3, 4);
    expect(t[0]).toBe(0);
    expect(t[1]).toBe(1);
    expect(t[4]).toBeCloseTo(Math.sin(1), 6);
    expect(t[6]).toBeCloseTo(Math.sin(1 / 100), 6);
    expect(arr(y).slice(12)).toEqual(Array.from(t));
    expect(l.getWeights()).toHaveLength(0);
    roundTrip(l);
  });
  it('learned has a trainable [T, d] table', () => {
    const l = new PositionalEncoding({ name: 'p2', kind: 'learned', seed: 1 });
    const y = l.apply(tf.zeros([1, 3, 4])) as tf.Tensor;
    expect(l.trainableWeights.map((w) => w.shape)).toEqual([[3, 4]]);
    expect(arr(y)).toEqual(arr(l.getWeights()[0]!));
    roundTrip(l);
    expect(() => new PositionalEncoding({ name: 'p3', kind: 'rope' as 'learned', seed: 1 })).toThrow(/unknown kind/);
  });
});

describe('CrossAttention', () => {
  it('maps [B, D] x [B, T, C] to [B, a]; softmax over time (Eq. 5-9)', () => {
    const l = new CrossAttention({ name: 'c', units: 3, seed: 9 });
    const f = tf.randomNormal([2, 5], 0, 1, 'float32', 3);
    const s = tf.randomNormal([2, 4, 6], 0, 1, 'float32', 4);
    const y = l.apply([f, s]) as tf.Tensor;
    expect(y.shape).toEqual([2, 3]);
    expect(l.computeOutputShape([[null, 5], [null, 4, 6]])).toEqual([null, 3]);
    const [wq, bq, wk, bk, wv, bv] = l.getWeights() as tf.Tensor2D[];
    const ref = tf.tidy(() => {
      const b = 1;
      const fb = tf.slice(f, [b, 0], [1, 5]) as tf.Tensor2D;
      const sb = tf.squeeze(tf.slice(s, [b, 0, 0], [1, 4, 6]), [0]) as tf.Tensor2D;
      const q = tf.add(tf.matMul(fb, wq!), bq!) as tf.Tensor2D; // [1, 3]
      const k = tf.add(tf.matMul(sb, wk!), bk!) as tf.Tensor2D; // [4, 3]
      const v = tf.add(tf.matMul(sb, wv!), bv!) as tf.Tensor2D;
      const alpha = tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(3))) as tf.Tensor2D; // [1, 4]
      expect(tf.sum(alpha).dataSync()[0]).toBeCloseTo(1, 6);
      return tf.matMul(alpha, v);
    });
    const got = arr(y).slice(3);
    arr(ref).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
    roundTrip(l);
  });
});

const maxAbs = (a: tf.Tensor, b: tf.Tensor): number => Math.max(...arr(tf.abs(tf.sub(a, b))));

describe('Pool2D', () => {
  for (const kind of ['max', 'avg'] as const) {
    it(`${kind}: same values and gradient as tf.${kind}Pool (valid, odd sizes cropped)`, () => {
      const l = new Pool2D({ name: `p_${kind}`, kind, poolSize: [2, 4] });
      const x = tf.randomNormal([2, 7, 13, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
      const ref = (t: tf.Tensor) => (kind === 'max' ? tf.maxPool(t as tf.Tensor4D, [2, 4], [2, 4], 'valid') : tf.avgPool(t as tf.Tensor4D, [2, 4], [2, 4], 'valid'));
      const y = l.apply(x) as tf.Tensor;
      expect(y.shape).toEqual([2, 3, 3, 3]);
      expect(l.computeOutputShape([null, 7, 13, 3])).toEqual([null, 3, 3, 3]);
      expect(maxAbs(y, ref(x))).toBe(0);
      const r = tf.randomNormal(y.shape, 0, 1, 'float32', 6);
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(l.apply(t) as tf.Tensor, r)))(x);
      const gRef = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(ref(t), r)))(x);
      expect(g.shape).toEqual(x.shape);
      expect(maxAbs(g, gRef)).toBeLessThan(1e-6);
      roundTrip(l);
    });
  }
});

describe('BatchNorm', () => {
  it('normalizes with batch statistics in training, updates running stats as PyTorch (unbiased var), uses them at inference', () => {
    const l = new BatchNorm({ name: 'bn', momentum: 0.1, epsilon: 1e-5 });
    const x = tf.tensor4d([1, 10, 3, 20, 5, 30, 7, 40], [2, 2, 1, 2]); // channel 0: 1,3,5,7; channel 1: 10..40
    const y = l.apply(x, { training: true }) as tf.Tensor;
    const c0 = [1, 3, 5, 7].map((v) => (v - 4) / Math.sqrt(5 + 1e-5));
    arr(y).filter((_, i) => i % 2 === 0).forEach((v, i) => expect(v).toBeCloseTo(c0[i]!, 5));
    const [gamma, beta, mean, variance] = l.getWeights();
    expect(arr(gamma!)).toEqual([1, 1]);
    expect(arr(beta!)).toEqual([0, 0]);
    expect(arr(mean!)[0]).toBeCloseTo(0.4, 6); // 0.9 * 0 + 0.1 * 4
    expect(arr(variance!)[0]).toBeCloseTo(0.9 + 0.1 * (20 / 3), 5); // unbiased var of 1,3,5,7 = 20/3
    expect(l.trainableWeights).toHaveLength(2);
    const inf = l.apply(x) as tf.Tensor;
    expect(arr(inf)[0]).toBeCloseTo((1 - 0.4) / Math.sqrt(0.9 + 2 / 3 + 1e-5), 5);
    roundTrip(l);
  });
});

describe('BatchNorm training gradient', () => {
  // Reference: the textbook formula written with broadcasting ops, differentiated by tfjs.
  const ref = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = tf.moments(x, axes);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
  };
  const rel = (a: tf.Tensor, b: tf.Tensor): number => maxAbs(a, b) / Math.max(1e-6, tf.max(tf.abs(b)).dataSync()[0]!);
  // C = 3: matMul path (C <= 16); C = 20: broadcasting path.
  for (const C of [3, 20]) {
    it(`matches autodiff of the formula for x, gamma, beta (C = ${C})`, () => {
      const l = new BatchNorm({ name: `bn_grad${C}` });
      const x = tf.randomNormal([2, 5, 4, C], 1, 2, 'float32', 11);
      l.apply(x, { training: true });
      const g = tf.randomNormal([C], 1, 0.3, 'float32', 12);
      const b = tf.randomNormal([C], 0, 0.3, 'float32', 13);
      l.setWeights([g, b, tf.zeros([C]), tf.ones([C])]);
      const r = tf.randomNormal(x.shape, 0, 1, 'float32', 14);
      expect(rel(l.apply(x, { training: true }) as tf.Tensor, ref(x, g, b))).toBeLessThan(1e-5);
      const [gv, bv] = l.trainableWeights.map((w) => w.read() as tf.Variable);
      const ours = tf.variableGrads(() => tf.sum(tf.mul(l.apply(x, { training: true }) as tf.Tensor, r)) as tf.Scalar, [gv!, bv!]);
      const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(l.apply(t, { training: true }) as tf.Tensor, r)))(x);
      const [rx, rg, rb] = tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(ref(a, c, d), r)))([x, g, b]);
      expect(rel(dx, rx!)).toBeLessThan(1e-4);
      expect(rel(ours.grads[gv!.name]!, rg!)).toBeLessThan(1e-4);
      expect(rel(ours.grads[bv!.name]!, rb!)).toBeLessThan(1e-4);
    });
  }
});

describe('LayerNorm', () => {
  it('matches tf.layers.layerNormalization (last axis) in value and gradient', () => {
    const ours = new LayerNorm({ name: 'ln', epsilon: 1e-5 });
    const theirs = tf.layers.layerNormalization({ epsilon: 1e-5 });
    const x = tf.randomNormal([2, 3, 5], 1, 2, 'float32', 7);
    ours.apply(x);
    theirs.apply(x);
    const w = [tf.randomNormal([5], 1, 0.2, 'float32', 8), tf.randomNormal([5], 0, 0.2, 'float32', 9)];
    ours.setWeights(w);
    theirs.setWeights(w);
    expect(maxAbs(ours.apply(x) as tf.Tensor, theirs.apply(x) as tf.Tensor)).toBeLessThan(1e-5);
    const r = tf.randomNormal([2, 3, 5], 0, 1, 'float32', 10);
    const g1 = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(ours.apply(t) as tf.Tensor, r)))(x);
    const g2 = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(theirs.apply(t) as tf.Tensor, r)))(x);
    expect(maxAbs(g1, g2)).toBeLessThan(1e-4);
    roundTrip(ours);
  });
});
