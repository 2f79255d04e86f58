// Data-parallel training throughput (train.workers): samples/s of training steps (passes of
// micro_batch rows + combine + SGD update) in-process (workers 1, localGradients) vs worker
// processes (workerGradients), on random data, for the network of params.yaml + a profile overlay
// (default ravdess-cpu: 64 x 188 input). Also the CPU time (all threads, workers included) per case, and a
// check that both runs end with byte-identical weights. Not a test: a measurement.
//   npx tsx packages/train/bench/workers.ts [--profile ravdess-cpu] [--batch 32] [--micro 16] [--workers 2] [--batches 20] [--warmup 10] [--rounds 1]
// The warm-up is long because each worker is a fresh V8 isolate that optimises tfjs's JavaScript anew.
import { buildModel, inputFrames, modelConfigFrom, selectBackend, setScaler, tf } from '@ser/model';
import { getParam, loadStageParams, num, parseArgs } from '@ser/stage-kit';
import type { LayersModel, Variable } from '@tensorflow/tfjs';
import { localGradients, mulberry32, Optimizer, readWeights, type GradientSource } from '../src/core.ts';
import { workerGradients } from '../src/workers.ts';
import { readFileSync } from 'node:fs';

/** utime + stime in seconds from a /proc stat file (Linux; NaN elsewhere). */
function statCpu(path: string): number {
  try {
    const f = readFileSync(path, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}
/** CPU seconds of the calling thread. */
const threadCpu = () => statCpu('/proc/thread-self/stat');
/** CPU seconds of this process and of its live child processes (the gradient workers, if any). */
const allCpu = (): number => {
  const c = process.cpuUsage();
  let children: string[] = [];
  try {
    children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    // not Linux: this process only
  }
  return (c.user + c.system) / 1e6 + children.reduce((a, pid) => a + statCpu(`/proc/${pid}/stat`), 0);
};

const args = parseArgs(process.argv.slice(2), {
  profile: { type: 'string', default: 'ravdess-cpu' },
  batch: { type: 'string', default: '32' },
  micro: { type: 'string', default: '16' },
  workers: { type: 'string', default: '2' },
  batches: { type: 'string', default: '20' },
  rounds: { type: 'string', default: '1' },
  warmup: { type: 'string', default: '10' },
  json: { type: 'boolean', default: false },
});
const params = loadStageParams({ argv: ['--profile', String(args['profile'])] });
await selectBackend('wasm');
const nMels = getParam(params, 'features.n_mels', num());
const frames = inputFrames(getParam(params, 'segment.duration', num()), getParam(params, 'ingest.sample_rate', num()), getParam(params, 'features.hop_length', num()));
const B = Number(args['batch']);
const mb = Number(args['micro']);
const W = Number(args['workers']);
const nBatches = Number(args['batches']);
const warm = Number(args['warmup']);
const rowSize = nMels * frames;

const newModel = (): LayersModel => {
  const m = buildModel(modelConfigFrom(params), { nMels, frames }, 42);
  setScaler(m, new Float32Array(rowSize).fill(-40), new Float32Array(rowSize).fill(15));
  return m;
};
const rand = mulberry32(1);
const data = Array.from({ length: nBatches + warm }, () => ({
  x: Float32Array.from({ length: B * rowSize }, () => -60 + 40 * rand()),
  y: Int32Array.from({ length: B }, () => Math.floor(rand() * 8)),
}));

/** The first `warm` batches warm up (kernels, allocations; worker start-up is paid before); the next n are timed. */
async function run(model: LayersModel, src: GradientSource) {
  const vars = model.trainableWeights.map((w) => w.read() as Variable);
  const opt = new Optimizer(vars, { optimizer: 'sgd', lr: 0.01, momentum: 0.8, weightDecay: 1e-3, betas: [0.9, 0.999], eps: 1e-8 });
  const passes = Math.ceil(B / mb);
  let t0 = 0;
  let c0 = allCpu();
  let m0 = threadCpu();
  for (let b = 0; b < warm + nBatches; b++) {
    if (b === warm) {
      t0 = performance.now();
      c0 = allCpu();
      m0 = threadCpu();
    }
    const out = await src.compute(data[b]!.x, { y: data[b]!.y }, B, b * passes);
    opt.step(out.grads, 0.01);
    tf.dispose(out.grads);
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = allCpu() - c0;
  const mainCpu = threadCpu() - m0;
  opt.dispose();
  return { samplesPerSec: (nBatches * B) / wall, wall, cpu, mainCpu, samplesPerCpuSec: (nBatches * B) / cpu };
}

const fmt = (r: Awaited<ReturnType<typeof run>>) =>
  `${r.samplesPerSec.toFixed(1)} samples/s (${(r.wall / nBatches).toFixed(2)} s/batch), CPU ${r.cpu.toFixed(1)} s for ${r.wall.toFixed(1)} s wall (${(r.cpu / r.wall).toFixed(2)} cores busy, ${r.samplesPerCpuSec.toFixed(1)} samples/CPU-s; main thread ${r.mainCpu.toFixed(1)} CPU-s)`;

console.log(`wasm, profile ${args['profile']}: input [${nMels}, ${frames}], batch ${B}, micro_batch ${mb} (${Math.ceil(B / mb)} passes), ${nBatches} timed batches`);
const rounds = Number(args['rounds']);
for (let r = 0; r < rounds; r++) {
  const mA = newModel();
  const a = await run(mA, localGradients(mA, { microBatch: mb }));
  console.log(`workers 1 (in-process): ${fmt(a)}`);
  const mB = newModel();
  const src = await workerGradients(mB, { microBatch: mb, workers: W, backend: 'wasm' });
  let b;
  try {
    b = await run(mB, src);
  } finally {
    await src.dispose();
  }
  console.log(`workers ${W}: ${fmt(b)}`);
  const [wA, wB] = [await readWeights(mA), await readWeights(mB)];
  const same = wA.every((w, i) => Buffer.compare(Buffer.from(w.buffer), Buffer.from(wB[i]!.buffer)) === 0);
  console.log(`speed-up ${(b.samplesPerSec / a.samplesPerSec).toFixed(2)}x; final weights byte-identical: ${same}`);
  // --json: one line per case, for packages/model/bench/run.ts's table.
  if (args['json']) {
    for (const [workers, r] of [[1, a], [W, b]] as const) {
      console.log(JSON.stringify({ impl: 'tfjs', backend: 'wasm', workers, batch: B, microBatch: mb, samplesPerSec: +r.samplesPerSec.toFixed(2), samplesPerCpuSec: +r.samplesPerCpuSec.toFixed(2), identical: same }));
    }
  }
  tf.dispose([...mA.weights.map((w) => w.read()), ...mB.weights.map((w) => w.read())]);
}
