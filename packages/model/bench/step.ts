// One training-step benchmark in its own process (wasm aborts cannot take the others down):
// forward + cross-entropy + backward + SGD(momentum 0.8) update on random data, then prints one
// JSON line. Usage: tsx step.ts <backend> <paper|demo> <batch> <steps>
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { tf, buildModel, countParams, selectBackend, modelConfigFrom, inputShapeFrom, type BackendName } from '../src/index.ts';
import { deepMerge } from '@ser/stage-kit';

const [backend = 'wasm', size = 'demo', batchArg = '16', stepsArg = '3'] = process.argv.slice(2);
const batch = Number(batchArg);
const steps = Number(stepsArg);
const root = new URL('../../../', import.meta.url);
let params = parse(readFileSync(new URL('params.yaml', root), 'utf8'));
if (size === 'demo') params = deepMerge(params, parse(readFileSync(new URL('params.demo.yaml', root), 'utf8')));

await selectBackend(backend as BackendName);
const cfg = modelConfigFrom(params);
const input = inputShapeFrom(params);
const model = buildModel(cfg, input, 1);
const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
const opt = tf.train.momentum(0.001, 0.8);
const x = tf.randomNormal([batch, input.nMels, input.frames], -40, 15, 'float32', 1);
const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 8), 'int32'), 8);

const step = (): number => {
  const loss = opt.minimize(() => {
    const p = model.apply(x, { training: true }) as tf.Tensor;
    return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(tf.add(p, 1e-7))), -1))) as tf.Scalar;
  }, true, vars)!;
  const v = loss.dataSync()[0]!;
  loss.dispose();
  return v;
};

const t0 = performance.now();
step(); // warm-up (kernel setup, XNNPACK operator creation)
const warm = (performance.now() - t0) / 1000;
const t1 = performance.now();
for (let i = 0; i < steps; i++) step();
const secs = (performance.now() - t1) / 1000;
console.log(
  JSON.stringify({
    impl: 'tfjs',
    backend,
    model: size,
    params: countParams(model).trainable,
    input: [input.nMels, input.frames],
    batch,
    steps,
    warmupS: +warm.toFixed(2),
    samplesPerSec: +((batch * steps) / secs).toFixed(2),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
