// Data-parallel gradients on worker processes (`train.workers`): a GradientSource that runs a
// batch's micro-batch passes on replicas of the model in child processes, each on its own
// single-threaded backend, and combines them on the main thread with exactly the tf ops, in
// exactly the order, that batchGrads and BatchNorm use in-process. Results therefore depend on
// `micro_batch` only, never on the number of workers (byte-identical to localGradients).
//
// Processes, not worker threads: two tfjs isolates in one process each trained 5-8% fewer
// samples per second than in two processes, and slowed down further as they ran. Rows, weights
// and gradients go through files in a private temporary folder (in memory where /dev/shm has room),
// read and written in place: the IPC channel carries only small messages (copying megabytes
// through it cost the main process more than the processes gained).
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchNorm, setDropoutStep, tf, type BackendName } from '@ser/model';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import { inputShapeOf, passesPerBatch, sliceTargets, type BatchGradients, type GradientSource, type Targets } from './core.ts';
import { OptimKernel } from './optim-kernel.ts';
import { tensorFromScratch } from './scratch.ts';

/** Where weight i of `model.weights` lives in the weights file (in floats). */
export interface WeightSlot {
  name: string; // originalName (stable across builds)
  shape: number[];
  offset: number;
  size: number;
  trainable: boolean;
}

/** A test hook: worker makes pass `pass` (global index) fail by throwing, or by exiting its process. */
export interface WorkerFault {
  pass: number;
  kind: 'throw' | 'exit';
}

/**
 * The files passes exchange their data through, in one folder private to a workerGradients
 * source (their names are removed once the workers have opened them). float32, native order.
 */
export interface PassFiles {
  dir: string;
  /** Every weight at its WeightSlot offset; the main process rewrites those that change. */
  weights: string;
  /** Pass k's input rows at floats [k * xStride, k * xStride + rows * rowSize). */
  x: string;
  /** Pass k's gradients at floats [k * gradStride, (k + 1) * gradStride), trainable weights in order. */
  grads: string;
  xStride: number;
  gradStride: number;
}

/** Reads floats [at, at + into.length) of file `fd` into `into`; throws if the file is shorter. */
export function readFloats(fd: number, into: Float32Array, at: number): void {
  const bytes = Buffer.from(into.buffer, into.byteOffset, into.byteLength);
  for (let done = 0; done < bytes.length; ) {
    const n = readSync(fd, bytes, done, bytes.length - done, at * 4 + done);
    if (n === 0) throw new Error(`short read: ${done} of ${bytes.length} bytes at float ${at}`);
    done += n;
  }
}

/** Writes `from` at float offset `at` of file `fd`. */
export function writeFloats(fd: number, from: Float32Array, at: number): void {
  const bytes = Buffer.from(from.buffer, from.byteOffset, from.byteLength);
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, at * 4 + done);
}

/** Messages main -> worker. */
export type ToWorker =
  | {
      type: 'init';
      topology: unknown;
      backend: string;
      files: PassFiles;
      slots: WeightSlot[];
      inputShape: number[];
      labelSmoothing: number;
      fault?: WorkerFault;
    }
  | {
      type: 'pass';
      k: number; // pass index within the batch
      step: number; // dropout step of the pass (firstPass + k)
      rows: number; // its input: PassFiles.x, slot k
      targets: Targets;
      sync: number[]; // weights to reload from PassFiles.weights first
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
  | { type: 'result'; k: number; loss: number; probs: Float32Array; bn: BnCall[][] }; // gradients: PassFiles.grads, slot k

type PassResult = Extract<FromWorker, { type: 'result' }>;

export interface WorkerGradientsConfig {
  /** Rows per pass (train.micro_batch); pass k of a batch = rows [k*microBatch, (k+1)*microBatch). */
  microBatch: number;
  labelSmoothing?: number;
  /** Worker processes (>= 1); pass k goes to worker k mod workers. */
  workers: number;
  /** The backend each worker selects: the main thread's, so that passes compute the same bits. */
  backend: Exclude<BackendName, 'auto'>;
  /** Tests only: make one pass fail inside its worker. */
  fault?: WorkerFault;
}

export interface WorkerGradientSource extends GradientSource {
  readonly workers: number;
  /** The folder of its pass files (PassFiles.dir): removed once the workers are ready. */
  readonly dir: string;
  /** Worker processes not yet exited (0 after dispose or a failure). */
  alive(): number;
}

/** A worker failed (an exception in a pass, a crash, an exit): all workers are terminated. */
export class WorkerGradientsError extends Error {
  override name = 'WorkerGradientsError';
}

/** Backends that run one thread per worker and compute the same bits in any thread (combine() also relies
 * on their float32 ops rounding as Math.fround does: see VALUE_STEP_BACKENDS). */
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
    return { workers: 1, note: `${label}: running in-process: gradient workers need backend wasm or cpu, not ${backend} (it parallelises itself)` };
  if (requested > passes) return { workers: passes, note: `${label}: using ${passes}, the passes per batch (${batchSize} rows / micro_batch ${microBatch})` };
  return { workers: requested };
}

/**
 * Where a run's pass files go: /dev/shm (memory) when it has `bytes` free twice over (containers
 * often give it 64 MiB), else the OS temporary folder.
 */
export function passFilesParent(bytes: number, shm = '/dev/shm'): string {
  try {
    const st = statfsSync(shm);
    if (st.bavail * st.bsize >= 2 * bytes) return shm;
  } catch {
    // no such folder
  }
  return tmpdir();
}

const dataIdOf = (t: Tensor): object => (t as unknown as { dataId: object }).dataId;

/**
 * Starts `cfg.workers` worker processes, each with a replica of `model` (from its JSON topology and
 * current weights) on backend `cfg.backend`, and resolves once all are ready.
 *
 * compute(x, y, rows, firstPass): writes the weights that changed since the previous batch (after
 * an optimizer step: the trainable ones) into the weights file and pass k's rows into slot k of
 * the rows file, and sends pass k to worker k mod workers with dropout step firstPass + k; the
 * worker reloads the weights it has not loaded since they changed and writes its gradients into
 * slot k of the gradients file. Then it reproduces batchGrads here in pass order: gradients
 * sum = g_0 * w_0, sum = sum + g_k * w_k (w_k = rows_k / rows), the loss likewise, and each
 * BatchNorm's running statistics updated once per pass (BatchNorm.updateRunningStats).
 * A failing worker rejects compute with a WorkerGradientsError and ends all workers.
 * Idle workers do not keep the process alive; still, dispose() when done (it closes the files).
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
  const trainable = model.trainableWeights;
  const trainShapes = trainable.map((w) => w.shape as number[]);
  const trainSizes = trainShapes.map((sh) => sh.reduce((a, b) => a * b, 1));
  const gradStride = trainSizes.reduce((a, b) => a + b, 0);
  const xStride = mb * shape.reduce((a, b) => a * b, 1);
  const bns = model.layers.filter((l): l is BatchNorm => l instanceof BatchNorm);
  const n = cfg.workers;

  // Room for the weights and 4 passes' rows and gradients (typical batches have 2); more passes grow the files.
  const parent = passFilesParent(4 * (floats + 4 * (xStride + gradStride)));
  const dir = mkdtempSync(join(parent, 'ser-train-workers-'));
  const files: PassFiles = { dir, weights: join(dir, 'weights.f32'), x: join(dir, 'x.f32'), grads: join(dir, 'grads.f32'), xStride, gradStride };
  const fds = { weights: openSync(files.weights, 'w+'), x: openSync(files.x, 'w+'), grads: openSync(files.grads, 'w+') };
  // Once every worker has opened the files, their names go: the data lives while a process holds
  // them open, so no folder outlives the run however it ends (even killed). Where that is not
  // allowed (an open file cannot be removed), the folder goes when the files are closed.
  let unlinked = false;
  const unlinkFiles = (): void => {
    try {
      rmSync(dir, { recursive: true, force: true });
      unlinked = true;
    } catch {
      // retried by closeFiles
    }
  };
  let closed = false;
  const closeFiles = (): void => {
    if (closed) return;
    closed = true;
    process.off('exit', closeFiles);
    for (const fd of Object.values(fds)) closeSync(fd);
    if (!unlinked) unlinkFiles();
  };
  // Also when this process exits without dispose() (an exception on the way out).
  process.once('exit', closeFiles);
  // One pass's gradients as read from the pass file, and the batch's weighted sum of them.
  const kernel = new OptimKernel();
  const flatAt = kernel.reserve(gradStride);
  const sumAt = kernel.reserve(gradStride);

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
  // V8's serializer ('advanced') carries the typed arrays of the small messages; tsx is registered by the entry.
  const procs: ChildProcess[] = Array.from({ length: n }, () =>
    fork(entry, [], { serialization: 'advanced', execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  // Kills every worker and waits for their exits (referenced: an unreferenced child's exit would
  // not keep this process alive to see it).
  const stopAll = (): Promise<unknown> =>
    (stopping ??= Promise.all(
      procs.map((p, i) => {
        if (exited[i]) return undefined;
        const done = new Promise((resolve) => p.once('exit', resolve));
        p.ref();
        p.kill('SIGKILL');
        return done;
      }),
    ).finally(closeFiles));
  const fail = (i: number, message: string): void => {
    if (failure || disposing) return;
    failure = new WorkerGradientsError(`train.workers: gradient worker ${i + 1}/${n} failed: ${message}`);
    for (const w of waiters.values()) w.reject(failure);
    waiters = new Map();
    void stopAll();
  };
  const wait = (id: string) => new Promise<FromWorker>((resolve, reject) => waiters.set(id, { resolve, reject }));
  const send = (i: number, m: ToWorker): void => {
    procs[i]!.send(m, (e) => e && fail(i, `could not send it a message: ${e.message}`));
  };

  procs.forEach((p, i) => {
    p.on('message', (m: FromWorker) => {
      if (m.type === 'error') return fail(i, m.message);
      const id = m.type === 'ready' ? `ready:${i}` : `pass:${m.k}`;
      const w = waiters.get(id);
      waiters.delete(id);
      w?.resolve(m);
    });
    p.on('error', (e) => fail(i, e?.stack ?? String(e)));
    p.on('exit', (code, signal) => {
      exited[i] = true;
      fail(i, `process exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`})`);
    });
  });
  const setRef = (on: boolean) =>
    procs.forEach((p, i) => {
      if (exited[i]) return;
      // The IPC channel holds the event loop too.
      const channel = p.channel as { ref(): void; unref(): void } | null | undefined;
      if (on) {
        p.ref();
        channel?.ref();
      } else {
        p.unref();
        channel?.unref();
      }
    });

  /** Writes the weights replaced since they were last written (the optimizer step assigns new tensors). */
  const writeChangedWeights = (): void =>
    weights.forEach((w, i) => {
      const v = w.read();
      if (sent[i] === dataIdOf(v)) return;
      writeFloats(fds.weights, v.dataSync() as Float32Array, slots[i]!.offset);
      sent[i] = dataIdOf(v);
      for (const s of stale) s.add(i);
    });

  try {
    writeChangedWeights(); // all of them (the scaler and BN statistics too)
    const ready = procs.map((_, i) => wait(`ready:${i}`));
    const topology = model.toJSON(null, false);
    procs.forEach((_, i) => {
      send(i, {
        type: 'init',
        topology,
        backend: cfg.backend,
        files,
        slots,
        inputShape: shape,
        labelSmoothing: cfg.labelSmoothing ?? 0,
        ...(cfg.fault ? { fault: cfg.fault } : {}),
      });
      stale[i]!.clear();
    });
    await Promise.all(ready);
    unlinkFiles();
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
      try {
        writeChangedWeights();
        for (let k = 0; k < P; k++) writeFloats(fds.x, xs.subarray(k * mb * rowSize, Math.min(rows, (k + 1) * mb) * rowSize), k * xStride);
      } catch (e) {
        throw new WorkerGradientsError(
          `train.workers: could not write the batch for the gradient workers into ${parent} (${(e as Error).message}); free space there, or set train.workers: 1`,
        );
      }
      const results = Array.from({ length: P }, (_, k) => wait(`pass:${k}`));
      for (let k = 0; k < P; k++) {
        const s = k * mb;
        const e = Math.min(rows, s + mb);
        const wi = k % n;
        const t = sliceTargets(targets, s, e);
        // Copies: V8's serializer sends a view's whole underlying buffer.
        send(wi, {
          type: 'pass',
          k,
          step: firstPass + k,
          rows: e - s,
          targets: { y: t.y.slice(), ...(t.y2 && t.lam ? { y2: t.y2.slice(), lam: t.lam.slice() } : {}) },
          sync: [...stale[wi]!],
        });
        stale[wi]!.clear();
      }
      const out = (await Promise.all(results)) as PassResult[];
      setDropoutStep(model, firstPass + P); // as after P passes in-process
      return combine(out, rows, P);
    } finally {
      busy = false;
      if (!failure && !disposing) setRef(false);
    }
  };

  /**
   * batchGrads' reduction and BatchNorm's running-statistics updates, pass by pass. The weighted
   * sum of the passes' gradients (sum = g0 * w0, then sum + gk * wk; w a float32 scalar) runs in
   * OptimKernel over the values read from the pass files, with batchGrads' float32 ops in its
   * order, so the bits are its tf ops' on the backends workers run on; the loss likewise.
   */
  const combine = (out: PassResult[], rows: number, P: number): BatchGradients => {
    const f32 = Math.fround;
    const flat = kernel.view(flatAt, gradStride);
    let loss = 0;
    for (let k = 0; k < P; k++) {
      const r = out[k]!;
      if (r.bn.length !== bns.length) throw new WorkerGradientsError(`train.workers: a worker reported ${r.bn.length} BatchNorm layers, the model has ${bns.length}`);
      r.bn.forEach((calls, i) => {
        for (const c of calls) tf.tidy(() => bns[i]!.updateRunningStats(tf.tensor(c.mean), tf.tensor(c.variance), c.n));
      });
      readFloats(fds.grads, flat, k * gradStride);
      if (P === 1) {
        // batchGrads' single-pass branch: the pass's gradients and loss as they are.
        loss = r.loss;
        break;
      }
      const s = k * mb;
      const w = f32((Math.min(rows, s + mb) - s) / rows);
      kernel.scaleAdd(sumAt, flatAt, gradStride, w, k === 0);
      loss = k === 0 ? f32(r.loss * w) : f32(loss + f32(r.loss * w));
    }
    const sum = P === 1 ? flat : kernel.view(sumAt, gradStride);
    let o = 0;
    const grads = trainShapes.map((sh, j) => tensorFromScratch(sum.subarray(o, (o += trainSizes[j]!)), sh));
    const probs = new Float32Array(out.reduce((a, r) => a + r.probs.length, 0));
    o = 0;
    for (const r of out) {
      probs.set(r.probs, o);
      o += r.probs.length;
    }
    return { loss, probs, grads };
  };

  return {
    workers: n,
    dir,
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
