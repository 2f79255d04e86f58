// Data-parallel gradients on worker threads (`train.workers`): a GradientSource that runs a
// batch's micro-batch passes on replicas of the model in worker threads, each on its own
// single-threaded backend, and combines them on the main thread with exactly the tf ops, in
// exactly the order, that batchGrads and BatchNorm use in-process. Results therefore depend on
// `micro_batch` only, never on the number of workers (byte-identical to localGradients).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { BatchNorm, setDropoutStep, tf, type BackendName } from '@ser/model';
import type { LayersModel, Scalar, Tensor } from '@tensorflow/tfjs';
import { inputShapeOf, passesPerBatch, sliceTargets, type BatchGradients, type GradientSource, type Targets } from './core.ts';

/** Where weight i of `model.weights` lives in the shared weight buffer (in floats). */
export interface WeightSlot {
  name: string; // originalName (stable across builds)
  shape: number[];
  offset: number;
  size: number;
  trainable: boolean;
}

/** A test hook: worker makes pass `pass` (global index) fail by throwing, or by exiting the thread. */
export interface WorkerFault {
  pass: number;
  kind: 'throw' | 'exit';
}

/**
 * Where passes exchange their rows and gradients: shared memory that main and workers reuse for
 * every batch, so that a pass allocates no buffers on either side (fresh buffers per pass made
 * V8 run several extra full garbage collections per second, in the main isolate too).
 */
export interface PassBuffers {
  /** Pass k's input rows: floats [k * xStride, k * xStride + rows * rowSize). */
  x: SharedArrayBuffer;
  /** Pass k's gradients: floats [k * gradStride, (k + 1) * gradStride), trainable weights in order. */
  grads: SharedArrayBuffer;
  xStride: number;
  gradStride: number;
}

/**
 * A tensor holding a copy of `view`, which lies in shared memory that is rewritten later: the
 * wasm backend copies into its heap when the tensor is made; others (cpu) keep the caller's
 * array, so they get a private copy first.
 */
export function tensorFromShared(view: Float32Array, shape: number[]): Tensor {
  return tf.tensor(tf.getBackend() === 'wasm' ? view : view.slice(), shape, 'float32');
}

/** Messages main -> worker. */
export type ToWorker =
  | {
      type: 'init';
      topology: unknown;
      backend: string;
      weights: SharedArrayBuffer;
      slots: WeightSlot[];
      inputShape: number[];
      labelSmoothing: number;
      fault?: WorkerFault;
    }
  | {
      type: 'pass';
      k: number; // pass index within the batch
      step: number; // dropout step of the pass (firstPass + k)
      rows: number; // its input: PassBuffers.x, slot k
      targets: Targets;
      sync: number[]; // weights to reload from the shared buffer first
      io?: PassBuffers; // new (larger) pass buffers, sent with a worker's first pass after they change
    };

/** Statistics of one BatchNorm training call: mean and biased variance [C] over n values. */
export interface BnCall {
  mean: Float32Array;
  variance: Float32Array;
  n: number;
}

/** Messages worker -> main. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'error'; message: string; stack?: string }
  | { type: 'result'; k: number; loss: number; probs: Float32Array; bn: BnCall[][] }; // gradients: PassBuffers.grads, slot k

type PassResult = Extract<FromWorker, { type: 'result' }>;

export interface WorkerGradientsConfig {
  /** Rows per pass (train.micro_batch); pass k of a batch = rows [k*microBatch, (k+1)*microBatch). */
  microBatch: number;
  labelSmoothing?: number;
  /** Worker threads (>= 1); pass k goes to worker k mod workers. */
  workers: number;
  /** The backend each worker selects: the main thread's, so that passes compute the same bits. */
  backend: Exclude<BackendName, 'auto'>;
  /** Tests only: make one pass fail inside its worker. */
  fault?: WorkerFault;
}

export interface WorkerGradientSource extends GradientSource {
  readonly workers: number;
  /** Worker threads not yet exited (0 after dispose or a failure). */
  alive(): number;
}

/** A worker failed (an exception in a pass, a crash, an exit): all workers are terminated. */
export class WorkerGradientsError extends Error {
  override name = 'WorkerGradientsError';
}

/** Backends that run one thread per worker and compute the same bits in any thread. */
const PARALLEL_BACKENDS: readonly string[] = ['wasm', 'cpu'];

/**
 * The worker count `train.workers` resolves to for this batch size and micro-batch: `auto` =
 * os.availableParallelism(); both capped at the passes per batch (a worker per pass at most).
 * `note` says why it differs from the request (log it once), e.g. one pass per batch.
 */
export function resolveWorkers(
  setting: number | 'auto',
  batchSize: number,
  microBatch: number | null | undefined,
  backend: string,
): { workers: number; note?: string } {
  const requested = setting === 'auto' ? availableParallelism() : setting;
  const label = `train.workers ${setting}${setting === 'auto' ? ` (= ${requested} cores)` : ''}`;
  if (requested <= 1) return { workers: 1 };
  const passes = passesPerBatch(batchSize, microBatch);
  if (passes <= 1)
    return {
      workers: 1,
      note:
        `${label}: running in-process: train.micro_batch ${microBatch ?? 'null'} gives one pass per batch of ${batchSize}, ` +
        `so there is nothing to split (results depend on micro_batch only; set it below batch_size to use workers)`,
    };
  if (!PARALLEL_BACKENDS.includes(backend))
    return { workers: 1, note: `${label}: running in-process: worker threads need backend wasm or cpu, not ${backend} (it parallelises itself)` };
  if (requested > passes) return { workers: passes, note: `${label}: using ${passes}, the passes per batch (${batchSize} rows / micro_batch ${microBatch})` };
  return { workers: requested };
}

const dataIdOf = (t: Tensor): object => (t as unknown as { dataId: object }).dataId;

/**
 * Starts `cfg.workers` worker threads, each with a replica of `model` (from its JSON topology and
 * current weights) on backend `cfg.backend`, and resolves once all are ready.
 *
 * compute(x, y, rows, firstPass): copies the weights that changed since the previous batch into a
 * shared buffer (after an optimizer step: the trainable ones), writes pass k's rows into slot k
 * of the pass buffers and sends pass k to worker k mod workers with dropout step firstPass + k;
 * the worker writes its gradients into slot k. Then it reproduces batchGrads on this thread in pass
 * order: gradients sum = g_0 * w_0, sum = sum + g_k * w_k (w_k = rows_k / rows), the loss
 * likewise, and each BatchNorm's running statistics updated once per pass (BatchNorm.updateRunningStats).
 * A failing worker rejects compute with a WorkerGradientsError and terminates all workers.
 * Idle workers do not keep the process alive; still, dispose() when done.
 */
export async function workerGradients(model: LayersModel, cfg: WorkerGradientsConfig): Promise<WorkerGradientSource> {
  const mb = Math.floor(cfg.microBatch);
  if (!(mb >= 1)) throw new Error(`workerGradients: microBatch must be >= 1, got ${cfg.microBatch}`);
  if (!(Number.isInteger(cfg.workers) && cfg.workers >= 1)) throw new Error(`workerGradients: workers must be an integer >= 1, got ${cfg.workers}`);
  const shape = inputShapeOf(model);
  const weights = model.weights;
  const slots: WeightSlot[] = [];
  let floats = 0;
  for (const w of weights) {
    if (w.dtype !== 'float32') throw new Error(`workerGradients: weight ${w.originalName} is ${w.dtype}, expected float32`);
    const size = w.shape.reduce((a: number, b) => a * (b as number), 1);
    slots.push({ name: w.originalName, shape: w.shape as number[], offset: floats, size, trainable: w.trainable });
    floats += size;
  }
  const shared = new Float32Array(new SharedArrayBuffer(floats * 4));
  const trainable = model.trainableWeights;
  const trainShapes = trainable.map((w) => w.shape as number[]);
  const trainSizes = trainShapes.map((sh) => sh.reduce((a, b) => a * b, 1));
  const gradStride = trainSizes.reduce((a, b) => a + b, 0);
  const xStride = mb * shape.reduce((a, b) => a * b, 1);
  const bns = model.layers.filter((l): l is BatchNorm => l instanceof BatchNorm);
  const n = cfg.workers;

  // Pass buffers for `capacity` passes, grown (never shrunk) when a batch has more passes.
  let capacity = 0;
  let io: PassBuffers | undefined;
  let xView = new Float32Array(new SharedArrayBuffer(0));
  let gradView = new Float32Array(new SharedArrayBuffer(0));
  const ioPending: boolean[] = Array(n).fill(false);
  const ensureCapacity = (passes: number): void => {
    if (passes <= capacity) return;
    capacity = passes;
    io = { x: new SharedArrayBuffer(passes * xStride * 4), grads: new SharedArrayBuffer(passes * gradStride * 4), xStride, gradStride };
    xView = new Float32Array(io.x);
    gradView = new Float32Array(io.grads);
    ioPending.fill(true);
  };
  // Per worker: the weights it has not loaded since they last changed.
  const stale: Set<number>[] = Array.from({ length: n }, () => new Set(weights.map((_, i) => i)));
  const sent: (object | null)[] = weights.map(() => null);
  const exited: boolean[] = Array(n).fill(false);
  let failure: WorkerGradientsError | null = null;
  let stopping: Promise<unknown> | null = null;
  let disposing = false;
  // Waiters of the current step (init: one per worker; compute: one per pass).
  let waiters = new Map<string, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>();

  const entry = new URL('./gradient-worker.mjs', import.meta.url);
  const threads = Array.from({ length: n }, () => new Worker(entry));

  const stopAll = (): Promise<unknown> => (stopping ??= Promise.all(threads.map((t) => t.terminate().catch(() => undefined))));
  const fail = (i: number, message: string): void => {
    if (failure || disposing) return;
    failure = new WorkerGradientsError(`train.workers: gradient worker ${i + 1}/${n} failed: ${message}`);
    for (const w of waiters.values()) w.reject(failure);
    waiters = new Map();
    void stopAll();
  };
  const wait = (id: string) => new Promise<FromWorker>((resolve, reject) => waiters.set(id, { resolve, reject }));

  threads.forEach((t, i) => {
    t.on('message', (m: FromWorker) => {
      if (m.type === 'error') return fail(i, m.message);
      const id = m.type === 'ready' ? `ready:${i}` : `pass:${m.k}`;
      const w = waiters.get(id);
      waiters.delete(id);
      w?.resolve(m);
    });
    t.on('error', (e) => fail(i, e?.stack ?? String(e)));
    t.on('messageerror', (e) => fail(i, `message could not be deserialised: ${String(e)}`));
    t.on('exit', (code) => {
      exited[i] = true;
      fail(i, `thread exited unexpectedly (exit code ${code})`);
    });
  });
  const setRef = (on: boolean) => threads.forEach((t, i) => !exited[i] && (on ? t.ref() : t.unref()));

  try {
    // Initial weights: all of them (the scaler and BN statistics too), marked as sent.
    weights.forEach((w, i) => {
      const v = w.read();
      shared.set(v.dataSync() as Float32Array, slots[i]!.offset);
      sent[i] = dataIdOf(v);
    });
    const ready = threads.map((_, i) => wait(`ready:${i}`));
    const topology = model.toJSON(null, false);
    threads.forEach((t, i) => {
      const init: ToWorker = {
        type: 'init',
        topology,
        backend: cfg.backend,
        weights: shared.buffer as SharedArrayBuffer,
        slots,
        inputShape: shape,
        labelSmoothing: cfg.labelSmoothing ?? 0,
        ...(cfg.fault ? { fault: cfg.fault } : {}),
      };
      t.postMessage(init);
      stale[i]!.clear();
    });
    await Promise.all(ready);
  } catch (e) {
    await stopAll();
    throw e;
  }
  setRef(false);

  let busy = false;
  const compute = async (xs: Float32Array, targets: Targets, rows: number, firstPass: number): Promise<BatchGradients> => {
    if (failure) throw failure;
    if (disposing) throw new WorkerGradientsError('train.workers: gradient source used after dispose()');
    if (busy) throw new Error('workerGradients: compute() called again before the previous one finished');
    busy = true;
    setRef(true);
    try {
      const rowSize = xs.length / rows;
      if (rowSize * mb !== xStride) throw new Error(`workerGradients: rows of ${rowSize} floats, the model's input has ${xStride / mb}`);
      const P = passesPerBatch(rows, mb);
      ensureCapacity(P);
      // Weights replaced since the last batch (the optimizer step assigns new tensors).
      weights.forEach((w, i) => {
        const v = w.read();
        if (sent[i] === dataIdOf(v)) return;
        shared.set(v.dataSync() as Float32Array, slots[i]!.offset);
        sent[i] = dataIdOf(v);
        for (const s of stale) s.add(i);
      });
      const results = Array.from({ length: P }, (_, k) => wait(`pass:${k}`));
      for (let k = 0; k < P; k++) {
        const s = k * mb;
        const e = Math.min(rows, s + mb);
        const wi = k % n;
        const t = sliceTargets(targets, s, e);
        xView.set(xs.subarray(s * rowSize, e * rowSize), k * xStride);
        const msg: ToWorker = {
          type: 'pass',
          k,
          step: firstPass + k,
          rows: e - s,
          targets: { y: t.y.slice(), ...(t.y2 && t.lam ? { y2: t.y2.slice(), lam: t.lam.slice() } : {}) },
          sync: [...stale[wi]!],
          ...(ioPending[wi] ? { io } : {}),
        };
        stale[wi]!.clear();
        ioPending[wi] = false;
        const own = [msg.targets.y, msg.targets.y2, msg.targets.lam].flatMap((a) => (a ? [a.buffer as ArrayBuffer] : []));
        threads[wi]!.postMessage(msg, own);
      }
      const out = (await Promise.all(results)) as PassResult[];
      setDropoutStep(model, firstPass + P); // as after P passes in-process
      return combine(out, rows, P);
    } finally {
      busy = false;
      if (!failure && !disposing) setRef(false);
    }
  };

  /** batchGrads' reduction and BatchNorm's running-statistics updates, pass by pass. */
  const combine = (out: PassResult[], rows: number, P: number): BatchGradients => {
    let sum: Tensor[] | undefined;
    let total: Scalar | undefined;
    for (let k = 0; k < P; k++) {
      const r = out[k]!;
      if (r.bn.length !== bns.length) throw new WorkerGradientsError(`train.workers: a worker reported ${r.bn.length} BatchNorm layers, the model has ${bns.length}`);
      r.bn.forEach((calls, i) => {
        for (const c of calls) tf.tidy(() => bns[i]!.updateRunningStats(tf.tensor(c.mean), tf.tensor(c.variance), c.n));
      });
      let o = k * gradStride;
      const g = trainShapes.map((sh, j) => tensorFromShared(gradView.subarray(o, (o += trainSizes[j]!)), sh));
      const value = tf.scalar(r.loss, 'float32');
      if (P === 1) {
        // batchGrads' single-pass branch: the pass's gradients and loss as they are.
        sum = g;
        total = value;
        break;
      }
      const s = k * mb;
      const w = (Math.min(rows, s + mb) - s) / rows;
      const next = g.map((gj, j) => tf.tidy(() => (sum ? tf.add(sum[j]!, tf.mul(gj, w)) : tf.mul(gj, w))));
      const t = tf.tidy(() => (total ? tf.add(total, tf.mul(value, w)) : tf.mul(value, w))) as Scalar;
      tf.dispose(g);
      value.dispose();
      if (sum) tf.dispose(sum);
      total?.dispose();
      sum = next;
      total = t;
    }
    const loss = total!.dataSync()[0]!;
    total!.dispose();
    const probs = new Float32Array(out.reduce((a, r) => a + r.probs.length, 0));
    let o = 0;
    for (const r of out) {
      probs.set(r.probs, o);
      o += r.probs.length;
    }
    return { loss, probs, grads: sum! };
  };

  return {
    workers: n,
    alive: () => exited.filter((x) => !x).length,
    compute,
    dispose: async () => {
      disposing = true;
      for (const w of waiters.values()) w.reject(new WorkerGradientsError('train.workers: gradient source disposed'));
      waiters = new Map();
      await stopAll();
    },
  };
}
