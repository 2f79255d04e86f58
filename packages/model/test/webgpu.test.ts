// The webgpu backend (Dawn through the `webgpu` package) against cpu and wasm: every custom layer
// forward and backward, the demo network's first SGD steps, and a model trained on webgpu loading
// on wasm. On a machine without a GPU this runs on SwiftShader (webgpu-env.ts); slow, so small.
// WEBGPU_REPORT=1 prints the errors.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deepMerge } from '@ser/stage-kit';
import {
  tf,
  selectBackend,
  buildModel,
  batchGrads,
  modelConfigFrom,
  inputShapeFrom,
  saveModel,
  loadModel,
  Conv2D,
  BatchNorm,
  LayerNorm,
  MultiHeadSelfAttention,
  CrossAttention,
  PositionalEncoding,
  Pool2D,
  SeededDropout,
  Standardize,
} from '../src/index.ts';
import { describeAdapter } from '../src/webgpu-adapter.ts';
import { webgpuTestEnv } from './webgpu-env.ts';

const env = await webgpuTestEnv();
const skip = !env.adapter && !env.required;
const title = `webgpu on ${env.adapter ? describeAdapter(env.adapter) : `no adapter: ${env.reason}, skipped`}`;

/** Deterministic values in [-1, 1), the same on every backend (made here, not by a kernel). */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}
const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** max |a - b| / max(max |b|, floor): the error relative to the reference's scale. */
function relError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-12): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  let m = floor;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

interface LayerRun {
  y: Float32Array;
  grads: Float32Array[]; // d sum(y * r) / d (inputs..., trainable weights...)
  weights: Float32Array[]; // all weights after the call (BatchNorm's running statistics move)
}

/**
 * Builds the layer on `backend`, gives it fixed random weights (running variances positive) and
 * runs forward + backward of sum(y * r) with r fixed: gradients for the inputs and trainable weights.
 */
async function runLayer(backend: string, make: () => tf.layers.Layer, shapes: number[][], training: boolean): Promise<LayerRun> {
  await tf.setBackend(backend);
  const layer = make();
  const xs = shapes.map((s, i) => tf.variable(tf.tensor(values(size(s), 11 + i), s)));
  const input = xs.length === 1 ? xs[0]! : xs;
  const built = layer.apply(input) as tf.Tensor; // builds the weights
  const r = tf.tensor(values(built.size, 99), built.shape);
  built.dispose();
  layer.setWeights(
    layer.weights.map((w, i) => {
      const v = values(size(w.shape as number[]), 200 + i);
      return tf.tensor(w.name.includes('moving_variance') ? v.map((x) => 1 + 0.5 * x) : v, w.shape as number[]);
    }),
  );
  const vars = [...xs, ...layer.trainableWeights.map((w) => w.read() as tf.Variable)];
  let y: tf.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const out = layer.apply(input, { training }) as tf.Tensor;
    y = tf.keep(out.clone());
    return tf.sum(tf.mul(out, r)) as tf.Scalar;
  }, vars);
  const result: LayerRun = {
    y: (await y!.data()) as Float32Array,
    grads: await Promise.all(vars.map(async (v) => (await grads[v.name]!.data()) as Float32Array)),
    weights: await Promise.all(layer.weights.map(async (w) => (await w.read().data()) as Float32Array)),
  };
  tf.dispose([y!, value, r, ...Object.values(grads), ...xs]);
  layer.dispose();
  return { ...result, weights: result.weights.map((w) => w.slice()) };
}

const LAYERS: { name: string; make: () => tf.layers.Layer; shapes: number[][]; training: boolean }[] = [
  { name: 'Conv2D (3x3, same, no bias: tf.conv2d)', make: () => new Conv2D({ filters: 4, kernelSize: 3, padding: 'same', useBias: false }), shapes: [[2, 7, 9, 3]], training: true },
  { name: 'BatchNorm, training (custom gradient, running statistics)', make: () => new BatchNorm({}), shapes: [[3, 5, 6, 4]], training: true },
  { name: 'BatchNorm, inference', make: () => new BatchNorm({}), shapes: [[3, 5, 6, 4]], training: false },
  { name: 'LayerNorm', make: () => new LayerNorm({}), shapes: [[2, 5, 8]], training: true },
  { name: 'MultiHeadSelfAttention (2 heads)', make: () => new MultiHeadSelfAttention({ heads: 2, seed: 3 }), shapes: [[2, 5, 8]], training: true },
  { name: 'CrossAttention', make: () => new CrossAttention({ units: 6, seed: 4 }), shapes: [[2, 5], [2, 7, 6]], training: true },
  { name: 'PositionalEncoding (learned)', make: () => new PositionalEncoding({ kind: 'learned', seed: 5 }), shapes: [[2, 6, 8]], training: true },
  { name: 'Pool2D max (2x3, trailing rows/columns dropped)', make: () => new Pool2D({ kind: 'max', poolSize: [2, 3] }), shapes: [[2, 5, 8, 3]], training: true },
  { name: 'Pool2D avg (2x3)', make: () => new Pool2D({ kind: 'avg', poolSize: [2, 3] }), shapes: [[2, 5, 8, 3]], training: true },
  { name: 'SeededDropout, training (mask from seed and step)', make: () => new SeededDropout({ rate: 0.3, seed: 6 }), shapes: [[4, 20]], training: true },
  { name: 'Standardize', make: () => new Standardize({}), shapes: [[2, 4, 5]], training: false },
];

describe.skipIf(skip)(title, () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('loads when asked for by name and names its adapter; auto never takes a software adapter', async () => {
    if (!env.adapter) throw new Error(`SER_REQUIRE_WEBGPU=1 but ${env.reason}`);
    const logs: string[] = [];
    const c = await selectBackend('webgpu', (m) => logs.push(m));
    expect(c.name).toBe('webgpu');
    expect(c.details['adapter']).toBe(describeAdapter(env.adapter));
    expect(logs[0]).toContain(`adapter=${describeAdapter(env.adapter)}`);
    if (env.adapter.fallback || /swiftshader/i.test(env.adapter.architecture)) {
      const auto = await selectBackend('auto');
      expect(auto.name).not.toBe('webgpu');
      expect(auto.tried.find((t) => t.name === 'webgpu')?.reason).toMatch(/software adapter .*asked for by name/);
    }
  });

  for (const l of LAYERS) {
    it(`${l.name}: forward and gradients match the cpu backend`, async () => {
      const ref = await runLayer('cpu', l.make, l.shapes, l.training);
      await selectBackend('webgpu');
      const gpu = await runLayer('webgpu', l.make, l.shapes, l.training);
      if (process.env['WEBGPU_REPORT']) {
        const g = Math.max(...gpu.grads.map((x, i) => relError(x, ref.grads[i]!, 0.01)));
        console.log(`${l.name}: forward ${relError(gpu.y, ref.y).toExponential(2)}, gradients ${g.toExponential(2)}`);
      }
      expect(relError(gpu.y, ref.y), 'forward').toBeLessThan(1e-5);
      // Floor 0.01: the attention key biases get a zero gradient (softmax ignores a constant shift),
      // which both backends compute as float32 rounding noise.
      gpu.grads.forEach((g, i) => expect(relError(g, ref.grads[i]!, 0.01), `gradient ${i}`).toBeLessThan(1e-4));
      gpu.weights.forEach((w, i) => expect(relError(w, ref.weights[i]!), `weight ${i} after the call`).toBeLessThan(1e-5));
    });
  }

  it('the demo network: 3 SGD steps on webgpu follow wasm (loss within 1e-3 relative); saved, it loads on wasm with the same predictions', async () => {
    const root = new URL('../../../', import.meta.url);
    const params = deepMerge(parse(readFileSync(new URL('params.yaml', root), 'utf8')), parse(readFileSync(new URL('params.demo.yaml', root), 'utf8'))) as Parameters<typeof modelConfigFrom>[0];
    const input = inputShapeFrom(params);
    const batch = 4;
    const xs = values(batch * input.nMels * input.frames, 7).map((v) => 2 * v);
    const labels = Int32Array.from({ length: batch }, (_, i) => (3 * i) % 8);

    async function steps(backend: 'wasm' | 'webgpu', n: number) {
      await selectBackend(backend);
      const model = buildModel(modelConfigFrom(params), input, 1);
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const opt = tf.train.momentum(0.01, 0.8);
      const x = tf.tensor3d(xs, [batch, input.nMels, input.frames]);
      const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 8);
      const losses: number[] = [];
      for (let s = 0; s < n; s++) {
        const { value, grads } = await batchGrads(model, x, (p, a, e) => tf.neg(tf.mean(tf.sum(tf.mul(tf.slice(y, a, e - a), tf.log(tf.add(p, 1e-7))), -1))) as tf.Scalar, vars);
        opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
        losses.push((await value.data())[0]!);
        tf.dispose([value, ...Object.values(grads)]);
      }
      const out = model.predict(x) as tf.Tensor;
      const probs = (await out.data()) as Float32Array;
      tf.dispose([out, x, y]);
      opt.dispose();
      return { model, losses, probs };
    }

    const cpuSide = await steps('wasm', 3);
    const gpu = await steps('webgpu', 3);
    if (process.env['WEBGPU_REPORT']) console.log(`demo network, 3 SGD steps: webgpu ${gpu.losses.join(', ')}; wasm ${cpuSide.losses.join(', ')}; max relative difference ${relError(gpu.losses, cpuSide.losses).toExponential(2)}`);
    expect(relError(gpu.losses, cpuSide.losses), `webgpu ${gpu.losses} vs wasm ${cpuSide.losses}`).toBeLessThan(1e-3);
    expect(gpu.losses[2]).not.toBe(gpu.losses[0]); // it trained

    const dir = mkdtempSync(join(tmpdir(), 'ser-webgpu-model-'));
    try {
      await saveModel(gpu.model, dir);
      await selectBackend('wasm');
      const loaded = await loadModel(dir);
      const x = tf.tensor3d(xs, [batch, input.nMels, input.frames]);
      const out = loaded.predict(x) as tf.Tensor;
      expect(relError(await out.data(), gpu.probs)).toBeLessThan(1e-4);
      tf.dispose([x, out]);
      loaded.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      gpu.model.dispose();
      cpuSide.model.dispose();
    }
  });
});
