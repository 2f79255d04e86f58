// Where a training step's time goes: per-kernel time and count (summed over a few steps after a
// warm-up), from tf.profile. Prints a table sorted by time.
// Usage: tsx bench/profile.ts [backend=wasm] [demo|paper] [batch=16] [steps=3] [top=30]
import { fileURLToPath } from 'node:url';
import { loadStageParams } from '@ser/stage-kit';
import { tf, buildModel, selectBackend, modelConfigFrom, inputShapeFrom, type BackendName } from '../src/index.ts';

const [backend = 'wasm', size = 'demo', batchArg = '16', stepsArg = '3', topArg = '30'] = process.argv.slice(2);
const batch = Number(batchArg);
const steps = Number(stepsArg);
const params = loadStageParams({ cwd: fileURLToPath(new URL('../../../', import.meta.url)), argv: size === 'demo' ? ['--profile', 'demo'] : [], env: {} });

await selectBackend(backend as BackendName);
const input = inputShapeFrom(params);
const model = buildModel(modelConfigFrom(params), input, 1);
const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
const opt = tf.train.momentum(0.001, 0.8);
const x = tf.randomNormal([batch, input.nMels, input.frames], -40, 15, 'float32', 1);
const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 8), 'int32'), 8);
const step = (): void => {
  const loss = opt.minimize(() => {
    const p = model.apply(x, { training: true }) as tf.Tensor;
    return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(tf.add(p, 1e-7))), -1))) as tf.Scalar;
  }, true, vars)!;
  loss.dataSync();
  loss.dispose();
};

step(); // warm-up
const byName = new Map<string, { ms: number; n: number }>();
let wall = 0;
let peakBytes = 0;
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  const info = await tf.profile(() => step());
  wall += performance.now() - t0;
  peakBytes = Math.max(peakBytes, info.peakBytes);
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : ((await k.kernelTimeMs) as number);
    const e = byName.get(k.name) ?? { ms: 0, n: 0 };
    e.ms += ms;
    e.n += 1;
    byName.set(k.name, e);
  }
}
// Wrappers (customGrad bodies: 'unnamed scope'; ops built on customGrad: 'xxx__op') time the
// kernels inside them too: listed, but left out of the totals.
const isWrapper = (name: string): boolean => name === 'unnamed scope' || name.endsWith('__op');
const leaves = [...byName].filter(([n]) => !isWrapper(n)).map(([, e]) => e);
const total = leaves.reduce((a, e) => a + e.ms, 0);
const count = leaves.reduce((a, e) => a + e.n, 0);
console.log(`${backend} ${size} batch ${batch}: ${(wall / steps).toFixed(1)} ms/step wall (profiled), kernels ${(total / steps).toFixed(1)} ms/step, ${Math.round(count / steps)} kernels/step, peak tensor memory ${(peakBytes / 2 ** 20).toFixed(0)} MiB`);
console.log('kernel                          ms/step     %   calls/step');
for (const [name, e] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(topArg))) {
    const label = isWrapper(name) ? `(${name}, wrapper)` : name;
  const pct = isWrapper(name) ? '' : ((100 * e.ms) / total).toFixed(1);
  console.log(`${label.padEnd(30)} ${(e.ms / steps).toFixed(2).padStart(8)} ${pct.padStart(5)} ${(e.n / steps).toFixed(0).padStart(8)}`);
}
