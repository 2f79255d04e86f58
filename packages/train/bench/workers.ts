// Data-parallel training throughput (train.workers): samples/s of the train loop (core.ts's
// train(): batch assembly, mixup and masks, passes of micro_batch rows, their combination, the
// optimizer step and the moving average, as the profile sets them) in-process (workers 1,
// localGradients) vs worker processes (workerGradients), on random data, for the network and
// recipe of params.yaml + a profile overlay (default ravdess-cpu: 64 x 188 input). Also the CPU time (all threads, workers included) per case, and a
// check that both runs end with byte-identical weights. Not a test: a measurement.
//   npx tsx packages/train/bench/workers.ts [--profile ravdess-cpu] [--batch 32] [--micro 16] [--workers 2] [--batches 20] [--warmup 10] [--rounds 1]
// The warm-up is long because each worker is a fresh V8 isolate that optimises tfjs's JavaScript anew.
import { buildModel, inputFrames, modelConfigFrom, selectBackend, setScaler, tf } from '@ser/model';
import { getParam, loadStageParams, num, parseArgs } from '@ser/stage-kit';
import type { LayersModel } from '@tensorflow/tfjs';
import { localGradients, mulberry32, readWeights, train, type Dataset, type GradientSource, type TrainConfig } from '../src/core.ts';
import { trainParamsFrom } from '../src/stage.ts';
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
// The profile's training recipe (optimizer, schedule, mixup, SpecAugment, moving average), batch
// and micro-batch as given; one epoch of warm + timed batches over random rows, validating on 16.
const cfg: TrainConfig = { ...trainParamsFrom(params), batchSize: B, microBatch: mb, maxEpochs: 1, patience: 1, stepsPerEpoch: warm + nBatches };
const rand = mulberry32(1);
const dataset = (count: number): Dataset => ({
  x: Float32Array.from({ length: count * rowSize }, () => -60 + 40 * rand()),
  y: Int32Array.from({ length: count }, () => Math.floor(rand() * 8)),
  count,
  rowSize,
});
const trainSet = dataset((warm + nBatches) * B);
const valSet = dataset(16);
const maskFill = new Float32Array(rowSize).fill(-40);

/** The train loop's first `warm` batches warm up (kernels, allocations; worker start-up is paid before); the next n are timed. */
async function run(model: LayersModel, gradients: GradientSource) {
  let t0 = 0;
  let c0 = allCpu();
  let m0 = threadCpu();
  let end = { wall: 0, cpu: 0, mainCpu: 0 };
  await train(model, trainSet, valSet, cfg, null, () => {}, {
    gradients,
    maskFill,
    onBatch: (_, done) => {
      if (done === warm) {
        t0 = performance.now();
        c0 = allCpu();
        m0 = threadCpu();
      } else if (done === warm + nBatches) {
        end = { wall: (performance.now() - t0) / 1000, cpu: allCpu() - c0, mainCpu: threadCpu() - m0 };
      }
    },
  });
  const { wall, cpu, mainCpu } = end;
  return { samplesPerSec: (nBatches * B) / wall, wall, cpu, mainCpu, samplesPerCpuSec: (nBatches * B) / cpu };
}

const fmt = (r: Awaited<ReturnType<typeof run>>) =>
  `${r.samplesPerSec.toFixed(1)} samples/s (${(r.wall / nBatches).toFixed(2)} s/batch), CPU ${r.cpu.toFixed(1)} s for ${r.wall.toFixed(1)} s wall (${(r.cpu / r.wall).toFixed(2)} cores busy, ${r.samplesPerCpuSec.toFixed(1)} samples/CPU-s; main thread ${r.mainCpu.toFixed(1)} CPU-s)`;

console.log(`wasm, profile ${args['profile']}: input [${nMels}, ${frames}], batch ${B}, micro_batch ${mb} (${Math.ceil(B / mb)} passes), ${nBatches} timed batches`);
const rounds = Number(args['rounds']);
for (let r = 0; r < rounds; r++) {
  const mA = newModel();
  const a = await run(mA, localGradients(mA, cfg));
  console.log(`workers 1 (in-process): ${fmt(a)}`);
  const mB = newModel();
  const src = await workerGradients(mB, { microBatch: mb, labelSmoothing: cfg.labelSmoothing, workers: W, backend: 'wasm' });
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
