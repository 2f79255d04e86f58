// One training-step benchmark in its own process (wasm aborts cannot take the others down):
// forward + cross-entropy + backward + SGD(momentum 0.8) update on random data, then prints one
// JSON line. Usage: tsx step.ts <backend> <paper|demo|any profile, e.g. ravdess-cpu> <batch> <steps> [microBatch]
// (microBatch: gradients accumulated over passes of that many rows, see batchGrads).
import { fileURLToPath } from 'node:url';
import { tf, buildModel, batchGrads, countParams, selectBackend, modelConfigFrom, inputShapeFrom, type BackendName } from '../src/index.ts';
import { loadStageParams } from '@ser/stage-kit';

const [backend = 'wasm', size = 'demo', batchArg = '16', stepsArg = '3', microArg] = process.argv.slice(2);
const microBatch = microArg === undefined ? undefined : Number(microArg);
const batch = Number(batchArg);
const steps = Number(stepsArg);
const params = loadStageParams({ cwd: fileURLToPath(new URL('../../../', import.meta.url)), argv: size === 'paper' ? [] : ['--profile', size], env: {} });

await selectBackend(backend as BackendName);
const cfg = modelConfigFrom(params);
const input = inputShapeFrom(params);
const model = buildModel(cfg, input, 1);
const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
const opt = tf.train.momentum(0.001, 0.8);
const x = tf.randomNormal([batch, input.nMels, input.frames], -40, 15, 'float32', 1);
const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 8), 'int32'), 8);

const step = async (): Promise<number> => {
  const { value, grads } = await batchGrads(
    model,
    x,
    (p, s, e) => tf.neg(tf.mean(tf.sum(tf.mul(tf.slice(y, s, e - s), tf.log(tf.add(p, 1e-7))), -1))) as tf.Scalar,
    vars,
    microBatch,
  );
  opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
  const v = (await value.data())[0]!; // asynchronous: webgpu in Node has no dataSync
  tf.dispose(Object.values(grads));
  value.dispose();
  return v;
};

const t0 = performance.now();
await step(); // warm-up (kernel setup, XNNPACK operator creation)
const warm = (performance.now() - t0) / 1000;
const t1 = performance.now();
const c1 = process.cpuUsage();
for (let i = 0; i < steps; i++) await step();
const secs = (performance.now() - t1) / 1000;
const cpu = process.cpuUsage(c1);
const cpuSecs = (cpu.user + cpu.system) / 1e6; // this process's CPU time: less sensitive to other load
console.log(
  JSON.stringify({
    impl: 'tfjs',
    backend,
    model: size,
    params: countParams(model).trainable,
    input: [input.nMels, input.frames],
    batch,
    ...(microBatch !== undefined ? { microBatch } : {}),
    steps,
    warmupS: +warm.toFixed(2),
    samplesPerSec: +((batch * steps) / secs).toFixed(2),
    samplesPerCpuSec: +((batch * steps) / cpuSecs).toFixed(2),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
