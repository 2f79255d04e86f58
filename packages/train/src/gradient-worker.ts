// A gradient worker thread (see workers.ts): holds a replica of the model on its own backend and
// computes single forward/backward passes: loss, probabilities, gradients and each BatchNorm
// call's batch statistics, which the main thread combines exactly as batchGrads does in-process.
import { parentPort } from 'node:worker_threads';
import { batchGrads, BatchNorm, selectBackend, setDropoutStep, tf, type BackendName } from '@ser/model';
import type { LayersModel, Tensor, Variable } from '@tensorflow/tfjs';
import { sliceTargets, trainingLoss } from './core.ts';
import { tensorFromShared, type FromWorker, type ToWorker, type WeightSlot } from './workers.ts';

const port = parentPort;
if (!port) throw new Error('gradient-worker.ts runs only as a worker thread (see workers.ts)');

let model: LayersModel;
let params: Variable[];
let slots: WeightSlot[];
let shared: Float32Array;
let shape: number[];
let rowSize: number;
/** Views of the pass buffers (PassBuffers) the main thread sent last. */
let io: { x: Float32Array; grads: Float32Array; xStride: number; gradStride: number } | undefined;
let loss: ReturnType<typeof trainingLoss>;
let fault: { pass: number; kind: 'throw' | 'exit' } | undefined;
/** Statistics of each BatchNorm call of the current pass: per layer, in call order. */
let bnCalls: { mean: Float32Array; variance: Float32Array; n: number }[][] = [];

const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function init(m: Extract<ToWorker, { type: 'init' }>): Promise<void> {
  await selectBackend(m.backend as BackendName);
  // Custom layers are registered by importing @ser/model (above).
  model = await tf.models.modelFromJSON({ modelTopology: m.topology } as never);
  slots = m.slots;
  shared = new Float32Array(m.weights);
  shape = m.inputShape;
  rowSize = shape.reduce((a, b) => a * b, 1);
  loss = trainingLoss(m.labelSmoothing);
  fault = m.fault;
  const ws = model.weights;
  if (ws.length !== slots.length || ws.some((w, i) => w.originalName !== slots[i]!.name || w.trainable !== slots[i]!.trainable))
    throw new Error(`replica weights [${ws.map((w) => w.originalName)}] do not match the model's [${slots.map((s) => s.name)}]`);
  params = model.trainableWeights.map((w) => w.read() as Variable);
  // BatchNorm's running-statistics update becomes a recorder: the main thread replays the
  // statistics on its model, in pass order (the replica's own running statistics are unused).
  const bns = model.layers.filter((l): l is BatchNorm => l instanceof BatchNorm);
  bns.forEach((l, i) => {
    l.updateRunningStats = (mean: Tensor, variance: Tensor, n: number) => {
      bnCalls[i]!.push({ mean: (mean.dataSync() as Float32Array).slice(), variance: (variance.dataSync() as Float32Array).slice(), n });
    };
  });
  bnCalls = bns.map(() => []);
  sync(slots.map((_, i) => i));
}

/** Loads weights `idx` from the shared buffer (the main thread wrote them before this message). */
function sync(idx: number[]): void {
  const ws = model.weights;
  tf.tidy(() => {
    for (const i of idx) {
      const s = slots[i]!;
      ws[i]!.write(tensorFromShared(shared.subarray(s.offset, s.offset + s.size), s.shape));
    }
  });
}

async function pass(m: Extract<ToWorker, { type: 'pass' }>): Promise<void> {
  sync(m.sync);
  if (m.io) io = { xStride: m.io.xStride, gradStride: m.io.gradStride, x: new Float32Array(m.io.x), grads: new Float32Array(m.io.grads) };
  if (!io) throw new Error('a pass arrived before the pass buffers');
  if (fault && fault.pass === m.step) {
    if (fault.kind === 'exit') process.exit(3);
    throw new Error(`injected fault at pass ${m.step}`);
  }
  for (const c of bnCalls) c.length = 0;
  setDropoutStep(model, m.step);
  const at = m.k * io.xStride;
  const x = tensorFromShared(io.x.subarray(at, at + m.rows * rowSize), [m.rows, ...shape]);
  try {
    // One pass = batchGrads without micro-batches: the same ops the in-process pass runs.
    const { value, grads, probs } = await batchGrads(model, x, (p, from, to) => loss(p, sliceTargets(m.targets, from, to)), params);
    const lossValue = value.dataSync()[0]!;
    value.dispose();
    let o = m.k * io.gradStride;
    for (const p of params) {
      const t = grads[p.name]!;
      io.grads.set(t.dataSync() as Float32Array, o);
      o += t.size;
      t.dispose();
    }
    const bn = bnCalls.map((calls) => calls.splice(0));
    const pr = probs.slice(); // own buffer, transferred
    const transfer = [pr.buffer as ArrayBuffer];
    for (const calls of bn) for (const c of calls) transfer.push(c.mean.buffer as ArrayBuffer, c.variance.buffer as ArrayBuffer);
    send({ type: 'result', k: m.k, loss: lossValue, probs: pr, bn }, transfer);
  } finally {
    x.dispose();
  }
}

// Messages arrive in order and each is handled to the end before the next (through the chain).
let chain: Promise<void> = Promise.resolve();
port.on('message', (m: ToWorker) => {
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
