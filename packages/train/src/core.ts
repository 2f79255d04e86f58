// Pure(ish) training core: SGD with PyTorch weight-decay semantics, early stopping, the seeded
// epoch loop and its checkpoint state. No file system access here: the stage (stage.ts) loads
// data, writes checkpoints and outputs through the callbacks below.
import { batchGrads, tf } from '@ser/model';
// Types only from tfjs itself (erased at runtime): the one runtime instance is @ser/model's `tf`.
import type { LayersModel, Scalar, Tensor, Variable } from '@tensorflow/tfjs';

// ---------------------------------------------------------------- RNG (per epoch, stateless)

/** mulberry32: 32-bit state, fast, good enough for shuffles and dropout masks. Returns [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes (seed, epoch, stream) into one 32-bit seed, so every epoch's randomness is derived
 * from the params alone: resuming at epoch e needs no saved RNG state. */
export function epochSeed(seed: number, epoch: number, stream: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca77) ^ Math.imul(stream + 1, 0xc2b2ae3d)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Fisher-Yates permutation of 0..n-1 from `rand`. */
export function permutation(n: number, rand: () => number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** Runs `fn` with Math.random replaced by a seeded generator. tfjs draws dropout masks via
 * randomUniform, which seeds itself from Math.random when no seed is given: this makes dropout
 * a function of (seed, epoch) too. */
export async function withSeededMathRandom<T>(seed: number, fn: () => Promise<T>): Promise<T> {
  const saved = Math.random;
  Math.random = mulberry32(seed);
  try {
    return await fn();
  } finally {
    Math.random = saved;
  }
}

// ---------------------------------------------------------------- SGD (PyTorch semantics)

export interface SgdConfig {
  lr: number;
  momentum: number;
  /** Added to the gradient of EVERY trainable parameter: g += weightDecay * p (torch.optim.SGD). */
  weightDecay: number;
}

/**
 * One torch.optim.SGD step (dampening 0, no Nesterov), in place:
 *   d = g + wd * p;  v = mu * v + d  (v starts at 0, which equals torch's v = d on step 1);  p -= lr * v.
 * An L2 term `wd * sum(p^2)` in the loss would add 2 * wd * p instead: twice torch's decay.
 */
export function sgdStep(params: Variable[], grads: Tensor[], buffers: Variable[], cfg: SgdConfig): void {
  tf.tidy(() => {
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      const g = grads[i]!;
      const d = cfg.weightDecay !== 0 ? tf.add(g, tf.mul(p, cfg.weightDecay)) : g;
      const v = cfg.momentum !== 0 ? tf.add(tf.mul(buffers[i]!, cfg.momentum), d) : d;
      if (cfg.momentum !== 0) buffers[i]!.assign(v);
      p.assign(tf.sub(p, tf.mul(v, cfg.lr)));
    }
  });
}

// ---------------------------------------------------------------- early stopping

export interface EarlyStopState {
  bestLoss: number; // lowest validation loss so far (Infinity before the first epoch)
  bestEpoch: number; // 0-based epoch that reached it (-1 before the first epoch)
  wait: number; // epochs since the last improvement
}

export const initialEarlyStop = (): EarlyStopState => ({ bestLoss: Infinity, bestEpoch: -1, wait: 0 });

/** Strict improvement (a NaN loss never improves); stop once `patience` epochs passed without one. */
export function earlyStopUpdate(
  s: EarlyStopState,
  valLoss: number,
  epoch: number,
  patience: number,
): { state: EarlyStopState; improved: boolean; stop: boolean } {
  const improved = valLoss < s.bestLoss;
  const state = improved ? { bestLoss: valLoss, bestEpoch: epoch, wait: 0 } : { ...s, wait: s.wait + 1 };
  return { state, improved, stop: state.wait >= patience };
}

// ---------------------------------------------------------------- data, loss, evaluation

/** A split in memory: `x` is count * rowSize floats (row-major), `y` the emotion index per row. */
export interface Dataset {
  x: Float32Array;
  y: Int32Array;
  count: number;
  rowSize: number;
}

/** Gathers rows `idx[start..end)` into a batch tensor of shape [b, ...inputShape]. */
export function gatherBatch(ds: Dataset, idx: ArrayLike<number>, start: number, end: number, inputShape: number[]) {
  const b = end - start;
  const buf = new Float32Array(b * ds.rowSize);
  const ys = new Int32Array(b);
  for (let i = 0; i < b; i++) {
    const r = idx[start + i]!;
    buf.set(ds.x.subarray(r * ds.rowSize, (r + 1) * ds.rowSize), i * ds.rowSize);
    ys[i] = ds.y[r]!;
  }
  return { x: tf.tensor(buf, [b, ...inputShape]), y: ys };
}

/** Mean cross-entropy of softmax probabilities `probs` [b, C] against class indices. */
export function crossEntropy(probs: Tensor, y: Int32Array, numClasses: number): Tensor {
  return tf.tidy(() => {
    const onehot = tf.oneHot(tf.tensor1d(y, 'int32'), numClasses);
    const p = tf.clipByValue(probs, 1e-7, 1);
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.log(p)), -1)));
  });
}

/** The model's input shape without the batch dimension, e.g. [64, 188, 1]. */
export function inputShapeOf(model: LayersModel): number[] {
  const s = model.inputs[0]!.shape.slice(1);
  if (s.some((d) => d == null)) throw new Error(`model input shape ${JSON.stringify(s)} is not fully known`);
  return s as number[];
}

/** Forward pass in inference mode (training=false) over a whole split, in batches.
 * Returns probabilities [count * C] row-major, the mean loss and accuracy. */
export function evaluateSplit(model: LayersModel, ds: Dataset, batchSize: number) {
  const shape = inputShapeOf(model);
  const idx = Array.from({ length: ds.count }, (_, i) => i);
  let lossSum = 0;
  let correct = 0;
  let probsAll: Float32Array | null = null;
  let C = 0;
  for (let s = 0; s < ds.count; s += batchSize) {
    const e = Math.min(ds.count, s + batchSize);
    const { x, y } = gatherBatch(ds, idx, s, e, shape);
    const [lossV, probs] = tf.tidy(() => {
      const p = model.apply(x, { training: false }) as Tensor;
      return [crossEntropy(p, y, p.shape[1]!).dataSync()[0]!, p.dataSync() as Float32Array] as const;
    });
    x.dispose();
    C = probs.length / (e - s);
    if (!probsAll) probsAll = new Float32Array(ds.count * C);
    probsAll.set(probs, s * C);
    lossSum += lossV * (e - s);
    for (let i = 0; i < e - s; i++) if (argmax(probs, i * C, C) === y[i]) correct++;
  }
  return { probs: probsAll ?? new Float32Array(0), loss: lossSum / Math.max(1, ds.count), acc: correct / Math.max(1, ds.count) };
}

export function argmax(a: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (a[offset + i]! > a[offset + best]!) best = i;
  return best;
}

// ---------------------------------------------------------------- the training loop

export interface TrainConfig extends SgdConfig {
  batchSize: number;
  maxEpochs: number;
  patience: number;
  seed: number;
  evalBatchSize: number;
  /** Batches per epoch (null: all rows). With a limit, epoch e trains on the first
   * stepsPerEpoch * batchSize rows of its seeded permutation: a different subset each epoch. */
  stepsPerEpoch?: number | null;
  /** Rows per forward/backward pass (null: the whole batch). Smaller passes bound memory (the
   * paper-size model at batch 16 overflows wasm's 4 GiB heap); gradients are averaged exactly,
   * but BatchNorm then normalises each pass with its own statistics. */
  microBatch?: number | null;
}

export interface HistoryRow {
  epoch: number; // 1-based, as printed
  loss: number;
  acc: number;
  val_loss: number;
  val_acc: number;
}

/** Everything needed to continue after epoch `epoch` exactly as if never stopped. */
export interface TrainState {
  epoch: number; // epochs completed
  weights: Float32Array[]; // all model weights (trainable + BN statistics), in model.weights order
  buffers: Float32Array[]; // momentum buffers, in model.trainableWeights order
  early: EarlyStopState;
  bestWeights: Float32Array[]; // weights at early.bestEpoch
  history: HistoryRow[];
  stopped: boolean; // early stopping fired
}

export interface EpochReport extends HistoryRow {
  samplesPerSec: number;
  seconds: number;
  improved: boolean;
}

export interface TrainHooks {
  /** Before epoch `epoch` (0-based) starts; e.g. set seeded dropout counters to epoch * batches. */
  beforeEpoch?: (epoch: number, forwardPassesPerEpoch: number) => void;
  /** After each training batch of the current epoch. */
  onBatch?: (epoch: number, done: number, total: number) => void;
}

export interface TrainResult {
  state: TrainState;
  samplesPerSec: number; // training throughput over the epochs run in this process
}

export function readWeights(model: LayersModel): Float32Array[] {
  return model.weights.map((w) => Float32Array.from(w.read().dataSync() as Float32Array));
}

export function writeWeights(model: LayersModel, values: Float32Array[]): void {
  const ws = model.weights;
  if (ws.length !== values.length) throw new Error(`checkpoint has ${values.length} weights, model has ${ws.length}`);
  tf.tidy(() => ws.forEach((w, i) => w.write(tf.tensor(values[i]!, w.shape as number[], 'float32'))));
}

/**
 * Runs epochs `state.epoch .. maxEpochs-1` (a fresh state when `resume` is null), calling
 * `onEpoch` after each with the state to checkpoint. Epoch e shuffles with
 * permutation(seed, e) and draws dropout from Math.random seeded by (seed, e).
 * On return the model holds its final (not best) weights; restore `state.bestWeights` yourself.
 */
export async function train(
  model: LayersModel,
  trainSet: Dataset,
  valSet: Dataset,
  cfg: TrainConfig,
  resume: TrainState | null,
  onEpoch: (state: TrainState, report: EpochReport) => Promise<void> | void,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const shape = inputShapeOf(model);
  const rowSize = shape.reduce((a, b) => a * b, 1);
  if (trainSet.rowSize !== rowSize || valSet.rowSize !== rowSize)
    throw new Error(`feature row size ${trainSet.rowSize} does not match the model input ${JSON.stringify(shape)}`);
  if (trainSet.count === 0 || valSet.count === 0) throw new Error('train and val splits must not be empty');

  const params = model.trainableWeights.map((w) => w.read() as Variable);
  const buffers = params.map((p) => tf.variable(tf.zerosLike(p), false));
  let state: TrainState;
  if (resume) {
    writeWeights(model, resume.weights);
    if (resume.buffers.length !== buffers.length) throw new Error('checkpoint momentum buffers do not match the model');
    tf.tidy(() => buffers.forEach((b, i) => b.assign(tf.tensor(resume.buffers[i]!, b.shape, 'float32'))));
    state = resume;
  } else {
    state = { epoch: 0, weights: [], buffers: [], early: initialEarlyStop(), bestWeights: [], history: [], stopped: false };
  }

  let samples = 0;
  let seconds = 0;
  try {
    while (!state.stopped && state.epoch < cfg.maxEpochs) {
      const epoch = state.epoch;
      const t0 = performance.now();
      const rows = cfg.stepsPerEpoch ? Math.min(trainSet.count, cfg.stepsPerEpoch * cfg.batchSize) : trainSet.count;
      const batches = Math.ceil(rows / cfg.batchSize);
      const mb = cfg.microBatch ?? cfg.batchSize;
      // Forward passes per epoch: each consumes one dropout step, so the epoch's first step is
      // epoch * passes whether or not the run resumed.
      let passes = 0;
      for (let s = 0; s < rows; s += cfg.batchSize) passes += Math.ceil((Math.min(rows, s + cfg.batchSize) - s) / mb);
      hooks.beforeEpoch?.(epoch, passes);
      const order = permutation(trainSet.count, mulberry32(epochSeed(cfg.seed, epoch, 0)));
      let lossSum = 0;
      let correct = 0;
      await withSeededMathRandom(epochSeed(cfg.seed, epoch, 1), async () => {
        for (let s = 0; s < rows; s += cfg.batchSize) {
          const e = Math.min(rows, s + cfg.batchSize);
          const { x, y } = gatherBatch(trainSet, order, s, e, shape);
          const { value, grads, probs: probsData } = batchGrads(
            model,
            x,
            (p, from, to) => crossEntropy(p, y.subarray(from, to), p.shape[1]!) as Scalar,
            params,
            cfg.microBatch ?? undefined,
          );
          sgdStep(params, params.map((p) => grads[p.name]!), buffers, cfg);
          lossSum += value.dataSync()[0]! * (e - s);
          const C = probsData.length / (e - s);
          for (let i = 0; i < e - s; i++) if (argmax(probsData, i * C, C) === y[i]) correct++;
          value.dispose();
          tf.dispose(grads);
          x.dispose();
          hooks.onBatch?.(epoch, Math.ceil(e / cfg.batchSize), batches);
          // Let the event loop breathe (signals, progress output) between batches.
          if (((s / cfg.batchSize) | 0) % 16 === 15) await new Promise((r) => setImmediate(r));
        }
      });
      const trainSecs = (performance.now() - t0) / 1000;
      const val = evaluateSplit(model, valSet, cfg.evalBatchSize);
      const upd = earlyStopUpdate(state.early, val.loss, epoch, cfg.patience);
      const weights = readWeights(model);
      const row: HistoryRow = {
        epoch: epoch + 1,
        loss: lossSum / rows,
        acc: correct / rows,
        val_loss: val.loss,
        val_acc: val.acc,
      };
      state = {
        epoch: epoch + 1,
        weights,
        buffers: buffers.map((b) => Float32Array.from(b.dataSync() as Float32Array)),
        early: upd.state,
        bestWeights: upd.improved ? weights : state.bestWeights,
        history: [...state.history, row],
        stopped: upd.stop,
      };
      const secs = (performance.now() - t0) / 1000;
      samples += rows;
      seconds += trainSecs;
      await onEpoch(state, { ...row, samplesPerSec: rows / trainSecs, seconds: secs, improved: upd.improved });
    }
  } finally {
    buffers.forEach((b) => b.dispose());
  }
  return { state, samplesPerSec: seconds > 0 ? samples / seconds : 0 };
}

// ---------------------------------------------------------------- checkpoint (de)serialisation

/**
 * Checkpoint bytes: u32 header length, UTF-8 JSON header, then every Float32Array of
 * weights/buffers/bestWeights back to back (little-endian). `key` ties the checkpoint to the
 * params and initial model that made it; a checkpoint with another key is ignored.
 */
export function encodeState(state: TrainState, key: string): Uint8Array {
  const arrays = [...state.weights, ...state.buffers, ...state.bestWeights];
  const header = {
    format: 'ser-train-checkpoint/1',
    key,
    epoch: state.epoch,
    early: { ...state.early, bestLoss: Number.isFinite(state.early.bestLoss) ? state.early.bestLoss : null },
    history: state.history,
    stopped: state.stopped,
    counts: [state.weights.length, state.buffers.length, state.bestWeights.length],
    lengths: arrays.map((a) => a.length),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const floats = arrays.reduce((n, a) => n + a.length, 0);
  const pad = (4 - ((4 + json.length) % 4)) % 4;
  const out = new Uint8Array(4 + json.length + pad + floats * 4);
  new DataView(out.buffer).setUint32(0, json.length + pad, true);
  out.set(json, 4);
  out.fill(0x20, 4 + json.length, 4 + json.length + pad); // spaces keep the JSON valid
  let off = 4 + json.length + pad;
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), off);
    off += a.byteLength;
  }
  return out;
}

/** Inverse of encodeState; null when the bytes are not a checkpoint for `key`. */
export function decodeState(bytes: Uint8Array, key: string): TrainState | null {
  if (bytes.length < 4) return null;
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  let h: any;
  try {
    h = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n)));
  } catch {
    return null;
  }
  if (h?.format !== 'ser-train-checkpoint/1' || h.key !== key) return null;
  const lengths: number[] = h.lengths;
  const total = lengths.reduce((a, b) => a + b, 0);
  if (bytes.length !== 4 + n + total * 4) return null;
  // An aligned copy (Buffer#slice would be a view into Node's pool, at an arbitrary offset).
  const copy = new Uint8Array(bytes.subarray(4 + n));
  const arrays: Float32Array[] = [];
  let off = 0;
  for (const len of lengths) {
    arrays.push(new Float32Array(copy.buffer, off * 4, len));
    off += len;
  }
  const [nw, nb] = h.counts as number[];
  return {
    epoch: h.epoch,
    weights: arrays.slice(0, nw),
    buffers: arrays.slice(nw, nw! + nb!),
    bestWeights: arrays.slice(nw! + nb!),
    early: { ...h.early, bestLoss: h.early.bestLoss ?? Infinity },
    // JSON has no NaN: a diverged epoch's null comes back as NaN.
    history: (h.history as HistoryRow[]).map((r) => ({
      epoch: r.epoch, loss: r.loss ?? NaN, acc: r.acc ?? NaN, val_loss: r.val_loss ?? NaN, val_acc: r.val_acc ?? NaN,
    })),
    stopped: h.stopped,
  };
}
