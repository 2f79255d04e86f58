// A gradient worker process (see workers.ts): holds a replica of the model on its own backend and
// computes single forward/backward passes: loss, probabilities, gradients and each BatchNorm
// call's batch statistics, which the main process combines exactly as batchGrads does in-process.
import { openSync, rmSync } from 'node:fs';
import { batchGrads, BatchNorm, selectBackend, setDropoutStep, tf, type BackendName } from '@ser/model';
import type { LayersModel, Tensor, Variable } from '@tensorflow/tfjs';
import { sliceTargets, trainingLoss } from './core.ts';
import { scratch, tensorFromScratch } from './scratch.ts';
import { readFloats, writeFloats, type FromWorker, type PassFiles, type ToWorker, type WeightSlot } from './workers.ts';

if (!process.send) throw new Error('gradient-worker.ts runs only as a forked worker process (see workers.ts)');

let model: LayersModel;
let params: Variable[];
let slots: WeightSlot[];
let shape: number[];
let rowSize: number;
let files: PassFiles | undefined;
let fds: { weights: number; x: number; grads: number };
const xBuf = scratch();
const weightBuf = scratch();
let loss: ReturnType<typeof trainingLoss>;
let fault: { pass: number; kind: 'throw' | 'exit' } | undefined;
/** Statistics of each BatchNorm call of the current pass: per layer, in call order. */
let bnCalls: { mean: Float32Array; variance: Float32Array; n: number }[][] = [];

// The main process is gone (ended, or killed): nothing is left to compute for. Had it died while
// the workers started, before it removed the pass files' folder, the folder goes here.
process.on('disconnect', () => {
  if (files) rmSync(files.dir, { recursive: true, force: true });
  process.exit(0);
});

const send = (m: FromWorker) => process.send!(m);

async function init(m: Extract<ToWorker, { type: 'init' }>): Promise<void> {
  await selectBackend(m.backend as BackendName);
  // Custom layers are registered by importing @ser/model (above).
  model = await tf.models.modelFromJSON({ modelTopology: m.topology } as never);
  slots = m.slots;
  files = m.files;
  fds = { weights: openSync(files.weights, 'r'), x: openSync(files.x, 'r'), grads: openSync(files.grads, 'r+') };
  shape = m.inputShape;
  rowSize = shape.reduce((a, b) => a * b, 1);
  loss = trainingLoss(m.labelSmoothing);
  fault = m.fault;
  const ws = model.weights;
  if (ws.length !== slots.length || ws.some((w, i) => w.originalName !== slots[i]!.name || w.trainable !== slots[i]!.trainable))
    throw new Error(`replica weights [${ws.map((w) => w.originalName)}] do not match the model's [${slots.map((s) => s.name)}]`);
  params = model.trainableWeights.map((w) => w.read() as Variable);
  // BatchNorm's running-statistics update becomes a recorder: the main process replays the
  // statistics on its model, in pass order (the replica's own running statistics are unused).
  const bns = model.layers.filter((l): l is BatchNorm => l instanceof BatchNorm);
  bns.forEach((l, i) => {
    l.updateRunningStats = (mean: Tensor, variance: Tensor, n: number) => {
      bnCalls[i]!.push({ mean: (mean.dataSync() as Float32Array).slice(), variance: (variance.dataSync() as Float32Array).slice(), n });
    };
  });
  bnCalls = bns.map(() => []);
  load(slots.map((_, i) => i));
}

/** Loads weights `idx` from the weights file (the main process wrote them before this message). */
function load(idx: number[]): void {
  const ws = model.weights;
  tf.tidy(() => {
    for (const i of idx) {
      const s = slots[i]!;
      const values = weightBuf(s.size);
      readFloats(fds.weights, values, s.offset);
      ws[i]!.write(tensorFromScratch(values, s.shape));
    }
  });
}

async function pass(m: Extract<ToWorker, { type: 'pass' }>): Promise<void> {
  load(m.sync);
  if (fault && fault.pass === m.step) {
    if (fault.kind === 'exit') process.exit(3);
    throw new Error(`injected fault at pass ${m.step}`);
  }
  for (const c of bnCalls) c.length = 0;
  setDropoutStep(model, m.step);
  const rows = xBuf(m.rows * rowSize);
  readFloats(fds.x, rows, m.k * files!.xStride);
  const x = tensorFromScratch(rows, [m.rows, ...shape]);
  try {
    // One pass = batchGrads without micro-batches: the same ops the in-process pass runs.
    const { value, grads, probs } = await batchGrads(model, x, (p, from, to) => loss(p, sliceTargets(m.targets, from, to)), params);
    const lossValue = value.dataSync()[0]!;
    value.dispose();
    let o = m.k * files!.gradStride;
    for (const p of params) {
      const t = grads[p.name]!;
      writeFloats(fds.grads, t.dataSync() as Float32Array, o);
      o += t.size;
      t.dispose();
    }
    send({ type: 'result', k: m.k, loss: lossValue, probs: probs.slice(), bn: bnCalls.map((calls) => calls.splice(0)) });
  } finally {
    x.dispose();
  }
}

// Messages arrive in order and each is handled to the end before the next (through the chain).
let chain: Promise<void> = Promise.resolve();
process.on('message', (m: ToWorker) => {
  chain = chain.then(async () => {
    try {
      if (m.type === 'init') {
        await init(m);
        send({ type: 'ready' });
      } else await pass(m);
    } catch (e) {
      const err = e as Error;
      send({ type: 'error', message: err?.message ?? String(e), stack: err?.stack });
    }
  });
});
