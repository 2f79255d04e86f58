// batchGrads: one pass = tf.variableGrads; micro-batches = the same mean-loss gradient (exact for
// layers without batch statistics), outputs in row order, no leaked tensors.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, batchGrads } from '../src/index.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function tinyModel(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [6], units: 5, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
  m.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
  return m;
}

const labels = Int32Array.from([0, 2, 1, 1, 0, 2, 2]);
const ce = (p: tf.Tensor, s: number, e: number): tf.Scalar =>
  tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(tf.tensor1d(labels.slice(s, e), 'int32'), 3), tf.log(p)), -1))) as tf.Scalar);

describe('batchGrads', () => {
  it('micro-batches give the full-batch mean loss, gradient and outputs', async () => {
    const m = tinyModel();
    const params = m.trainableWeights.map((w) => w.read() as tf.Variable);
    const x = tf.randomNormal([7, 6], 0, 1, 'float32', 3);
    const full = await batchGrads(m, x, ce, params);
    const ref = tf.variableGrads(() => ce(m.apply(x) as tf.Tensor, 0, 7), params);
    expect(full.value.dataSync()[0]).toBeCloseTo(ref.value.dataSync()[0]!, 6);
    const before = tf.memory().numTensors;
    const micro = await batchGrads(m, x, ce, params, 3); // passes of 3, 3, 1 rows
    expect(tf.memory().numTensors - before).toBe(1 + params.length); // value + one gradient per param
    expect(micro.value.dataSync()[0]).toBeCloseTo(full.value.dataSync()[0]!, 5);
    expect(micro.probs.length).toBe(full.probs.length);
    for (let i = 0; i < full.probs.length; i++) expect(micro.probs[i]).toBeCloseTo(full.probs[i]!, 6);
    for (const p of params) {
      const a = full.grads[p.name]!.dataSync();
      const b = micro.grads[p.name]!.dataSync();
      const r = ref.grads[p.name]!.dataSync();
      expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - r[i]!)))).toBe(0);
      expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)))).toBeLessThan(1e-6);
    }
    await expect(batchGrads(m, x, ce, params, 0)).rejects.toThrow(/microBatch/);
  });
});
