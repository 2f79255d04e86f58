// The optimizer's step in OptimKernel (on wasm and cpu) gives exactly the bits of the same step as
// tf ops, for every optimizer and decay setting, step after step and across a checkpoint.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { selectBackend, tf } from '@ser/model';
import type { Variable } from '@tensorflow/tfjs';
import { mulberry32, Optimizer, type OptimizerConfig } from '../src/core.ts';
import { OPTIM_KERNEL_SOURCE_SHA256 } from '../src/optim-kernel.wasm.ts';

await selectBackend('wasm');

const SIZES = [1, 7, 300, 4099];

/** Values over many magnitudes, with zeros and sign changes: where rounding differences would show. */
function values(n: number, rand: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rand();
    a[i] = r < 0.03 ? 0 : (rand() - 0.5) * 10 ** Math.floor(rand() * 8 - 5);
  }
  return a;
}

const bits = (vs: (Float32Array | Variable)[]): number[][] =>
  vs.map((v) => Array.from(new Uint32Array((v instanceof Float32Array ? v : (v.dataSync() as Float32Array).slice()).buffer)));

const CONFIGS: [string, OptimizerConfig][] = [
  ['sgd, momentum and decay', { optimizer: 'sgd', lr: 0.05, momentum: 0.8, weightDecay: 1e-3, betas: [0.9, 0.999], eps: 1e-8 }],
  ['sgd, plain', { optimizer: 'sgd', lr: 0.05, momentum: 0, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8 }],
  ['adam with decay', { optimizer: 'adam', lr: 0.002, momentum: 0, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-8 }],
  ['adamw', { optimizer: 'adamw', lr: 0.002, momentum: 0, weightDecay: 0.01, betas: [0.85, 0.99], eps: 1e-6 }],
  ['adamw without decay', { optimizer: 'adamw', lr: 0.003, momentum: 0, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8 }],
];

describe.each(['wasm', 'cpu'])('Optimizer step in the kernel on %s', (backend) => {
  it.each(CONFIGS)('%s: the same bits as the tf-op step, 25 steps, resumed from a checkpoint at step 10', async (_, cfg) => {
    await tf.setBackend(backend);
    const rand = mulberry32(11);
    const init = SIZES.map((n) => values(n, rand));
    const make = () => init.map((v) => tf.variable(tf.tensor(v), true));
    const [pOps, pVal] = [make(), make()];
    const ops = new Optimizer(pOps, cfg, { tensorOps: true });
    let val = new Optimizer(pVal, cfg);
    expect([ops.byValue, val.byValue]).toEqual([false, true]);
    for (let s = 0; s < 25; s++) {
      if (s === 10) {
        const resumed = new Optimizer(pVal, cfg);
        resumed.load(await val.read(), val.steps);
        val = resumed;
      }
      const lr = cfg.lr * (0.2 + 0.8 * Math.sin((Math.PI * (s + 1)) / 26));
      const grads = SIZES.map((n) => tf.tensor(values(n, rand)));
      ops.step(grads, lr);
      val.step(grads, lr);
      tf.dispose(grads);
      expect(bits(pVal), `step ${s + 1}`).toEqual(bits(pOps));
    }
    expect(bits(await val.read())).toEqual(bits(await ops.read()));
    expect(val.steps).toBe(25);
    ops.dispose();
    tf.dispose([...pOps, ...pVal]);
  });
});

describe('Optimizer.load', () => {
  it('refuses buffers of the wrong count or size, naming them', async () => {
    await tf.setBackend('wasm');
    const p = [tf.variable(tf.zeros([3])), tf.variable(tf.zeros([2]))];
    const cfg = CONFIGS[3]![1];
    const opt = new Optimizer(p, cfg);
    expect(() => opt.load([new Float32Array(3)], 0)).toThrow(/1 optimizer buffers, adamw needs 4/);
    expect(() => opt.load([3, 2, 3, 5].map((n) => new Float32Array(n)), 0)).toThrow(/buffer 3 has 5 values, its parameter 2/);
    tf.dispose(p);
  });
});

it('the embedded kernel was built from the committed source (npm run build:wasm -w packages/train)', () => {
  const source = readFileSync(new URL('../wasm/optim-kernel.ts', import.meta.url));
  expect(createHash('sha256').update(source).digest('hex')).toBe(OPTIM_KERNEL_SOURCE_SHA256);
});
