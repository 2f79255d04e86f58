// Data-parallel training throughput (train.workers): samples/s of the train loop (core.ts's
// train(): batch assembly, mixup and masks, passes of micro_batch rows, their combination, the
// optimizer step and the moving average, as the profile sets them) in-process (workers 1,
// localGradients) vs worker processes (workerGradients), on random data, for the network and
// recipe of params.yaml + a profile overlay (default ravdess-cpu: 64 x 188 input). Also the CPU time (all threads, workers included) per case, and a
// check that both runs end with byte-identical weights. Not a test: a measurement.
// The machine's ceiling, in the same round: `--workers` independent copies of the in-process run,
// each in its own process, started together. What they reach over one copy alone is the most any
// data-parallel scheme can get from these cores (they share caches, memory bandwidth and, on a VM,
// whatever the host gives); the workers' speed-up is printed as a share of it.
//   npx tsx packages/train/bench/workers.ts [--profile ravdess-cpu] [--batch 32] [--micro 16] [--workers 2] [--batches 60] [--warmup 30] [--rounds 1] [--ceiling=false]
// The warm-up is long because each worker is a fresh V8 isolate that optimises tfjs's JavaScript and
// the wasm kernels anew: timed after 10 batches, the workers spent 20-26% more CPU per sample than
// the in-process run; after 30 (100 timed), about 4%. A real run amortises it over thousands of batches.
import { buildModel, inputFrames, modelConfigFrom, selectBackend, setScaler, tf } from '@ser/model';
import { getParam, loadStageParams, num, parseArgs } from '@ser/stage-kit';
import type { LayersModel } from '@tensorflow/tfjs';
import { localGradients, mulberry32, readWeights, train, type Dataset, type GradientSource, type TrainConfig } from '../src/core.ts';
import { trainParamsFrom } from '../src/stage.ts';
import { workerGradients } from '../src/workers.ts';
import { fork } from 'node:child_process';
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
  batches: { type: 'string', default: '60' },
  rounds: { type: 'string', default: '1' },
  warmup: { type: 'string', default: '30' },
  json: { type: 'boolean', default: false },
  ceiling: { type: 'boolean', default: true },
  // Internal: one copy of the ceiling's run (a child of this script, told when to start).
  solo: { type: 'boolean', default: false },
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

type RunResult = Awaited<ReturnType<typeof run>>;
const fmt = (r: RunResult) =>
  `${r.samplesPerSec.toFixed(1)} samples/s (${(r.wall / nBatches).toFixed(2)} s/batch), CPU ${r.cpu.toFixed(1)} s for ${r.wall.toFixed(1)} s wall (${(r.cpu / r.wall).toFixed(2)} cores busy, ${r.samplesPerCpuSec.toFixed(1)} samples/CPU-s; main thread ${r.mainCpu.toFixed(1)} CPU-s)`;

if (args['solo']) {
  // A ceiling copy: ready once its model and data exist, timed from the parent's "go" on.
  const m = newModel();
  const go = new Promise((resolve) => process.once('message', resolve));
  process.send!('ready');
  await go;
  process.send!(await run(m, localGradients(m, cfg)));
  process.disconnect();
} else {
  await main();
}

/** `copies` in-process runs side by side, one process each, started together once all are ready. */
async function sideBySide(copies: number): Promise<RunResult[]> {
  const own = process.argv.slice(2).filter((a) => !a.startsWith('--json') && !a.startsWith('--ceiling'));
  const procs = Array.from({ length: copies }, () => fork(process.argv[1]!, [...own, '--solo'], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const next = () =>
    Promise.all(
      procs.map(
        (p) =>
          new Promise<unknown>((resolve, reject) => {
            p.once('message', resolve);
            p.once('exit', (code) => reject(new Error(`a ceiling copy exited (code ${code}) before it reported`)));
          }),
      ),
    );
  try {
    await next(); // all ready
    const results = next();
    for (const p of procs) p.send('go');
    return (await results) as RunResult[];
  } finally {
    // Gone before the next round starts, so that allCpu() no longer counts them.
    await Promise.all(procs.map((p) => (p.exitCode !== null || p.signalCode !== null ? undefined : new Promise((resolve) => (p.once('exit', resolve), p.kill())))));
  }
}

async function main(): Promise<void> {
  console.log(`wasm, profile ${args['profile']}: input [${nMels}, ${frames}], batch ${B}, micro_batch ${mb} (${Math.ceil(B / mb)} passes), ${nBatches} timed batches`);
  const rounds = Number(args['rounds']);
  const summary: { speedUp: number; ceiling?: number }[] = [];
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
    const speedUp = b.samplesPerSec / a.samplesPerSec;
    console.log(`speed-up ${speedUp.toFixed(2)}x; final weights byte-identical: ${same}`);
    let ceiling: number | undefined;
    if (args['ceiling'] && W > 1) {
      const copies = await sideBySide(W);
      const total = copies.reduce((t, c) => t + c.samplesPerSec, 0);
      ceiling = total / a.samplesPerSec;
      console.log(
        `ceiling: ${W} independent in-process runs side by side: ${copies.map((c) => c.samplesPerSec.toFixed(1)).join(' + ')} = ${total.toFixed(1)} samples/s, ` +
          `${ceiling.toFixed(2)}x one alone; the workers' ${speedUp.toFixed(2)}x is ${((100 * speedUp) / ceiling).toFixed(0)}% of it`,
      );
    }
    summary.push({ speedUp, ceiling });
    // --json: one line per case, for packages/model/bench/run.ts's table.
    if (args['json']) {
      for (const [workers, r] of [[1, a], [W, b]] as const) {
        console.log(JSON.stringify({ impl: 'tfjs', backend: 'wasm', workers, batch: B, microBatch: mb, samplesPerSec: +r.samplesPerSec.toFixed(2), samplesPerCpuSec: +r.samplesPerCpuSec.toFixed(2), identical: same, ...(workers > 1 && ceiling ? { ceiling: +ceiling.toFixed(2), speedUp: +speedUp.toFixed(2) } : {}) }));
      }
    }
    tf.dispose([...mA.weights.map((w) => w.read()), ...mB.weights.map((w) => w.read())]);
  }
  if (rounds > 1) {
    // Medians over rounds: this machine's speed drifts between rounds, the ratios within one less.
    const median = (v: number[]) => [...v].sort((p, q) => p - q)[(v.length - 1) >> 1]!;
    const list = (v: number[], unit: string) => v.map((x) => x.toFixed(2) + unit).join(', ');
    const speedUps = summary.map((s) => s.speedUp);
    console.log(`\nover ${rounds} rounds: speed-up median ${median(speedUps).toFixed(2)}x (${list(speedUps, 'x')})`);
    const withCeiling = summary.filter((s): s is { speedUp: number; ceiling: number } => s.ceiling !== undefined);
    if (withCeiling.length) {
      const ceilings = withCeiling.map((s) => s.ceiling);
      const shares = withCeiling.map((s) => s.speedUp / s.ceiling);
      console.log(`ceiling median ${median(ceilings).toFixed(2)}x (${list(ceilings, 'x')}); the workers' share of it, median ${(100 * median(shares)).toFixed(0)}% (${shares.map((x) => (100 * x).toFixed(0) + '%').join(', ')})`);
    }
  }
}
