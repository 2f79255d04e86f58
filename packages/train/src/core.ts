// Pure(ish) training core: the seeded epoch loop, the loss, early stopping and the checkpoint
// state. Optimizers and schedules are in optim.ts, input masking in spec-augment.ts. No file
// system access here: the stage (stage.ts) loads data, writes checkpoints and outputs through
// the callbacks below.
import { batchGrads, inferBatches, setDropoutStep, tf } from '@ser/model';
// Types only from tfjs itself (erased at runtime): the one runtime instance is @ser/model's `tf`.
import type { LayersModel, Scalar, Tensor, Variable } from '@tensorflow/tfjs';
import { clipByGlobalNorm, learningRate, Optimizer, type OptimizerConfig, type ScheduleConfig } from './optim.ts';
import { specAugment, type SpecAugmentConfig } from './spec-augment.ts';
import { mixup, sliceTargets, type Targets } from './mixup.ts';
import { emaDecayAt, emaUpdate } from './ema.ts';

export * from './optim.ts';
export * from './spec-augment.ts';
export * from './mixup.ts';
export * from './ema.ts';

// ---------------------------------------------------------------- RNG (per epoch, stateless)

/**
 * mulberry32: 32-bit state, fast, good enough for shuffles and dropout masks. Returns [0, 1).
 * Kept beside stage-kit's createRng (sfc32) on purpose: the batch order, SpecAugment masks and
 * tfjs's Math.random of every trained model and checkpoint are defined by this stream, so
 * replacing it would change every training result.
 */
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

/** Copies rows `idx[start..end)` into one buffer [b * rowSize] with their labels. */
export function gatherRows(ds: Dataset, idx: ArrayLike<number>, start: number, end: number): { x: Float32Array; y: Int32Array } {
  const b = end - start;
  const x = new Float32Array(b * ds.rowSize);
  const y = new Int32Array(b);
  for (let i = 0; i < b; i++) {
    const r = idx[start + i]!;
    x.set(ds.x.subarray(r * ds.rowSize, (r + 1) * ds.rowSize), i * ds.rowSize);
    y[i] = ds.y[r]!;
  }
  return { x, y };
}

/** Gathers rows `idx[start..end)` into a batch tensor of shape [b, ...inputShape]. */
export function gatherBatch(ds: Dataset, idx: ArrayLike<number>, start: number, end: number, inputShape: number[]) {
  const { x, y } = gatherRows(ds, idx, start, end);
  return { x: tf.tensor(x, [end - start, ...inputShape]), y };
}

/**
 * Mean cross-entropy of softmax probabilities `probs` [b, C] against class indices, with
 * torch's label smoothing: the target is (1 - s) * onehot + s / C.
 */
export function crossEntropy(probs: Tensor, y: Int32Array, numClasses: number, labelSmoothing = 0): Tensor {
  return tf.tidy(() => {
    let target = tf.oneHot(tf.tensor1d(y, 'int32'), numClasses) as Tensor;
    if (labelSmoothing > 0) target = tf.add(tf.mul(target, 1 - labelSmoothing), labelSmoothing / numClasses);
    const p = tf.clipByValue(probs, 1e-7, 1);
    return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.log(p)), -1)));
  });
}

/**
 * crossEntropy against mixup targets: row i's target is lam_i * T(y_i) + (1 - lam_i) * T(y2_i),
 * T the (smoothed) one-hot above, i.e. lam_i * CE(y_i) + (1 - lam_i) * CE(y2_i).
 */
export function mixedCrossEntropy(probs: Tensor, t: Required<Targets>, numClasses: number, labelSmoothing = 0): Tensor {
  const rows = t.y.length;
  const target = new Float32Array(rows * numClasses).fill(labelSmoothing / numClasses);
  for (let i = 0; i < rows; i++) {
    const a = i * numClasses + t.y[i]!;
    const b = i * numClasses + t.y2[i]!;
    target[a] = target[a]! + t.lam[i]! * (1 - labelSmoothing);
    target[b] = target[b]! + (1 - t.lam[i]!) * (1 - labelSmoothing);
  }
  return tf.tidy(() => {
    const p = tf.clipByValue(probs, 1e-7, 1);
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.tensor2d(target, [rows, numClasses]), tf.log(p)), -1)));
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
export async function evaluateSplit(model: LayersModel, ds: Dataset, batchSize: number) {
  const shape = inputShapeOf(model);
  const idx = Array.from({ length: ds.count }, (_, i) => i);
  let lossSum = 0;
  let correct = 0;
  let probsAll: Float32Array | null = null;
  let C = 0;
  let y: Int32Array = new Int32Array(0); // the labels of the batch `input` built last
  const input = (s: number, e: number) => {
    const b = gatherBatch(ds, idx, s, e, shape);
    y = b.y;
    return b.x;
  };
  await inferBatches(model, ds.count, batchSize, input, async (p, s, e) => {
    const lossT = crossEntropy(p, y, p.shape[1]!);
    try {
      // Asynchronous reads: webgpu in Node has no dataSync.
      const [lossV, probs] = [(await lossT.data())[0]!, (await p.data()) as Float32Array];
      C = probs.length / (e - s);
      if (!probsAll) probsAll = new Float32Array(ds.count * C);
      probsAll.set(probs, s * C);
      lossSum += lossV * (e - s);
      for (let i = 0; i < e - s; i++) if (argmax(probs, i * C, C) === y[i]) correct++;
    } finally {
      lossT.dispose();
    }
  });
  return { probs: probsAll ?? new Float32Array(0), loss: lossSum / Math.max(1, ds.count), acc: correct / Math.max(1, ds.count) };
}

export function argmax(a: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (a[offset + i]! > a[offset + best]!) best = i;
  return best;
}

// ---------------------------------------------------------------- the training loop

export interface TrainConfig extends OptimizerConfig, ScheduleConfig {
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
  /** Label smoothing of the training loss (0: none). Validation loss is always plain cross-entropy. */
  labelSmoothing?: number;
  /** Masks on the training inputs (null: none); needs `maskFill`. */
  specAugment?: SpecAugmentConfig | null;
  /** Clip the global gradient norm to this (null: no clipping). */
  clipGradNorm?: number | null;
  /** Mixup strength alpha (0 or missing: none): see mixup.ts. */
  mixup?: number;
  /** Decay of the weights' moving average per step (0 or missing: none): validation, early
   * stopping and the best weights then use the average (ema.ts). */
  ema?: number;
}

/** The training loss for one batch: (probabilities [b, C], targets) -> mean loss. */
export function trainingLoss(labelSmoothing = 0): (probs: Tensor, t: Targets) => Scalar {
  return (probs, t) =>
    (t.y2 && t.lam
      ? mixedCrossEntropy(probs, t as Required<Targets>, probs.shape[1]!, labelSmoothing)
      : crossEntropy(probs, t.y, probs.shape[1]!, labelSmoothing)) as Scalar;
}

/** Forward passes a batch of `rows` rows takes with micro-batches of `microBatch` rows. */
export const passesPerBatch = (rows: number, microBatch: number | null | undefined): number =>
  Math.ceil(rows / Math.min(rows, microBatch ?? rows));

/** One batch's result: mean loss over its rows, the training-mode probabilities [rows * C], and
 * the gradient of each trainable weight in `model.trainableWeights` order (caller disposes). */
export interface BatchGradients {
  loss: number;
  probs: Float32Array;
  grads: Tensor[];
}

/**
 * Computes a batch's gradients at the model's current weights, in training mode: BatchNorm
 * updates its running statistics once per pass, in pass order. `x` is [rows, ...inputShape]
 * row-major; `firstPass` is the global index of the batch's first forward pass, the dropout step
 * its masks are drawn from (pass k uses firstPass + k).
 */
export interface GradientSource {
  compute(x: Float32Array, t: Targets, rows: number, firstPass: number): Promise<BatchGradients>;
  dispose(): Promise<void> | void;
}

/** The in-process GradientSource: passes of `microBatch` rows, one after the other. */
export function localGradients(model: LayersModel, cfg: { microBatch?: number | null; labelSmoothing?: number }): GradientSource {
  const shape = inputShapeOf(model);
  const params = model.trainableWeights.map((w) => w.read() as Variable);
  const loss = trainingLoss(cfg.labelSmoothing ?? 0);
  return {
    compute: async (xs, t, rows, firstPass) => {
      setDropoutStep(model, firstPass);
      const x = tf.tensor(xs, [rows, ...shape]);
      try {
        const { value, grads, probs } = await batchGrads(model, x, (p, from, to) => loss(p, sliceTargets(t, from, to)), params, cfg.microBatch ?? undefined);
        const lossValue = (await value.data())[0]!;
        value.dispose();
        return { loss: lossValue, probs, grads: params.map((p) => grads[p.name]!) };
      } finally {
        x.dispose();
      }
    },
    dispose: () => {},
  };
}

/** Training stopped because the loss is no longer a finite number. */
export class TrainingDiverged extends Error {
  override name = 'TrainingDiverged';
  constructor(
    readonly epoch: number, // 1-based
    readonly batch: number, // 1-based
    readonly loss: number,
  ) {
    super(`training diverged: loss ${loss} at epoch ${epoch}, batch ${batch}`);
  }
}

export interface HistoryRow {
  epoch: number; // 1-based, as printed
  loss: number;
  acc: number;
  val_loss: number;
  val_acc: number;
  lr: number; // learning rate of the epoch's last step
}

/** Everything needed to continue after epoch `epoch` exactly as if never stopped. */
export interface TrainState {
  epoch: number; // epochs completed
  weights: Float32Array[]; // all model weights (trainable + BN statistics), in model.weights order
  buffers: Float32Array[]; // optimizer buffers (Optimizer.read())
  optimizerSteps: number; // optimizer steps taken
  early: EarlyStopState;
  bestWeights: Float32Array[]; // weights at early.bestEpoch (with cfg.ema: their moving average)
  ema: Float32Array[]; // with cfg.ema: the moving average of `weights` (else empty)
  history: HistoryRow[];
  stopped: boolean; // early stopping fired
}

export interface EpochReport extends HistoryRow {
  samplesPerSec: number;
  seconds: number;
  improved: boolean;
}

export interface TrainOptions {
  /** Where gradients come from (default: localGradients in this thread). */
  gradients?: GradientSource;
  /** The value a masked input cell takes, row shape (the scaler's mean); needed by specAugment. */
  maskFill?: Float32Array;
  /** After each training batch of the current epoch (epoch 0-based; rows, mean loss and seconds so far in it). */
  onBatch?: (epoch: number, done: number, total: number, info: { rows: number; loss: number; seconds: number }) => void;
}

export interface TrainResult {
  state: TrainState;
  samplesPerSec: number; // training throughput over the epochs run in this process
}

export async function readWeights(model: LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.weights.map(async (w) => Float32Array.from((await w.read().data()) as Float32Array)));
}

export function writeWeights(model: LayersModel, values: Float32Array[]): void {
  const ws = model.weights;
  if (ws.length !== values.length) throw new Error(`checkpoint has ${values.length} weights, model has ${ws.length}`);
  tf.tidy(() => ws.forEach((w, i) => w.write(tf.tensor(values[i]!, w.shape as number[], 'float32'))));
}

/** Random streams of an epoch, each from epochSeed(seed, epoch, stream). */
const STREAM_ORDER = 0;
const STREAM_DROPOUT = 1; // tfjs's own Math.random draws (layers other than SeededDropout)
const STREAM_MASKS = 2;
const STREAM_MIXUP = 3;

/**
 * Runs epochs `state.epoch .. maxEpochs-1` (a fresh state when `resume` is null), calling
 * `onEpoch` after each with the state to checkpoint. Epoch e shuffles with
 * permutation(seed, e), masks inputs from (seed, e) and draws dropout from the global pass index.
 * The learning rate follows the schedule over maxEpochs * batches-per-epoch steps.
 * On return the model holds its final (not best) weights; restore `state.bestWeights` yourself.
 * Throws TrainingDiverged when a batch loss is not finite.
 */
export async function train(
  model: LayersModel,
  trainSet: Dataset,
  valSet: Dataset,
  cfg: TrainConfig,
  resume: TrainState | null,
  onEpoch: (state: TrainState, report: EpochReport) => Promise<void> | void,
  opts: TrainOptions = {},
): Promise<TrainResult> {
  const shape = inputShapeOf(model);
  const rowSize = shape.reduce((a, b) => a * b, 1);
  if (trainSet.rowSize !== rowSize || valSet.rowSize !== rowSize)
    throw new Error(`feature row size ${trainSet.rowSize} does not match the model input ${JSON.stringify(shape)}`);
  if (trainSet.count === 0 || valSet.count === 0) throw new Error('train and val splits must not be empty');
  if (cfg.specAugment && (!opts.maskFill || shape.length !== 2)) throw new Error('specAugment needs maskFill and a [mels, frames] input');

  const params = model.trainableWeights.map((w) => w.read() as Variable);
  const optimizer = new Optimizer(params, cfg);
  const gradients = opts.gradients ?? localGradients(model, cfg);
  const rows = cfg.stepsPerEpoch ? Math.min(trainSet.count, cfg.stepsPerEpoch * cfg.batchSize) : trainSet.count;
  const batches = Math.ceil(rows / cfg.batchSize);
  const totalSteps = cfg.maxEpochs * batches;
  // Forward passes per epoch: each consumes one dropout step, so the epoch's first pass is
  // epoch * passes whether or not the run resumed.
  let passesPerEpoch = 0;
  for (let s = 0; s < rows; s += cfg.batchSize) passesPerEpoch += passesPerBatch(Math.min(rows, s + cfg.batchSize) - s, cfg.microBatch);

  let state: TrainState;
  if (resume) {
    writeWeights(model, resume.weights);
    optimizer.load(resume.buffers, resume.optimizerSteps);
    state = resume;
  } else {
    state = { epoch: 0, weights: [], buffers: [], optimizerSteps: 0, early: initialEarlyStop(), bestWeights: [], ema: [], history: [], stopped: false };
  }
  // The moving average starts at the initial weights; it is updated in place, and copied into
  // the state after each epoch.
  const ema = cfg.ema ? (resume ? resume.ema.map((a) => a.slice()) : await readWeights(model)) : null;
  if (ema && ema.length !== model.weights.length) throw new Error(`checkpoint has ${ema.length} averaged weights, model has ${model.weights.length}`);

  let samples = 0;
  let seconds = 0;
  try {
    while (!state.stopped && state.epoch < cfg.maxEpochs) {
      const epoch = state.epoch;
      const t0 = performance.now();
      const order = permutation(trainSet.count, mulberry32(epochSeed(cfg.seed, epoch, STREAM_ORDER)));
      const maskRand = mulberry32(epochSeed(cfg.seed, epoch, STREAM_MASKS));
      const mixRand = mulberry32(epochSeed(cfg.seed, epoch, STREAM_MIXUP));
      let pass = epoch * passesPerEpoch;
      let lossSum = 0;
      let correct = 0;
      let lr = cfg.lr;
      await withSeededMathRandom(epochSeed(cfg.seed, epoch, STREAM_DROPOUT), async () => {
        for (let s = 0, b = 0; s < rows; s += cfg.batchSize, b++) {
          const e = Math.min(rows, s + cfg.batchSize);
          const { x, y } = gatherRows(trainSet, order, s, e);
          const targets: Targets = cfg.mixup ? mixup(x, y, e - s, rowSize, cfg.mixup, mixRand) : { y };
          if (cfg.specAugment) specAugment(x, e - s, shape[0]!, shape[1]!, opts.maskFill!, cfg.specAugment, maskRand);
          const out = await gradients.compute(x, targets, e - s, pass);
          pass += passesPerBatch(e - s, cfg.microBatch);
          if (!Number.isFinite(out.loss)) {
            tf.dispose(out.grads);
            throw new TrainingDiverged(epoch + 1, b + 1, out.loss);
          }
          lr = learningRate(epoch * batches + b, totalSteps, cfg.lr, cfg);
          const clipped = cfg.clipGradNorm ? (await clipByGlobalNorm(out.grads, cfg.clipGradNorm)).grads : out.grads;
          optimizer.step(clipped, lr);
          if (ema) emaUpdate(ema, model.weights.map((w) => w.read().dataSync() as Float32Array), emaDecayAt(cfg.ema!, optimizer.steps - 1));
          if (clipped !== out.grads) tf.dispose(clipped);
          tf.dispose(out.grads);
          lossSum += out.loss * (e - s);
          const C = out.probs.length / (e - s);
          for (let i = 0; i < e - s; i++) if (argmax(out.probs, i * C, C) === y[i]) correct++;
          opts.onBatch?.(epoch, b + 1, batches, { rows: e, loss: lossSum / e, seconds: (performance.now() - t0) / 1000 });
          // Let the event loop breathe (signals, progress output) between batches.
          if (b % 16 === 15) await new Promise((r) => setImmediate(r));
        }
      });
      const trainSecs = (performance.now() - t0) / 1000;
      const weights = await readWeights(model);
      // With a moving average, validation (and so the best weights) sees the average.
      if (ema) writeWeights(model, ema);
      const val = await evaluateSplit(model, valSet, cfg.evalBatchSize);
      if (ema) writeWeights(model, weights);
      const upd = earlyStopUpdate(state.early, val.loss, epoch, cfg.patience);
      const averaged = ema ? ema.map((a) => a.slice()) : [];
      const row: HistoryRow = {
        epoch: epoch + 1,
        loss: lossSum / rows,
        acc: correct / rows,
        val_loss: val.loss,
        val_acc: val.acc,
        lr,
      };
      state = {
        epoch: epoch + 1,
        weights,
        buffers: await optimizer.read(),
        optimizerSteps: optimizer.steps,
        early: upd.state,
        bestWeights: upd.improved ? (ema ? averaged : weights) : state.bestWeights,
        ema: averaged,
        history: [...state.history, row],
        stopped: upd.stop,
      };
      const secs = (performance.now() - t0) / 1000;
      samples += rows;
      seconds += trainSecs;
      await onEpoch(state, { ...row, samplesPerSec: rows / trainSecs, seconds: secs, improved: upd.improved });
    }
  } finally {
    optimizer.dispose();
    if (!opts.gradients) await gradients.dispose();
  }
  return { state, samplesPerSec: seconds > 0 ? samples / seconds : 0 };
}

// ---------------------------------------------------------------- checkpoint (de)serialisation

/**
 * Checkpoint bytes: u32 header length, UTF-8 JSON header, then every Float32Array of
 * weights/buffers/bestWeights/ema back to back (little-endian). `key` ties the checkpoint to the
 * params and initial model that made it; a checkpoint with another key is ignored.
 */
const CHECKPOINT_FORMAT = 'ser-train-checkpoint/3';

export function encodeState(state: TrainState, key: string): Uint8Array {
  const arrays = [...state.weights, ...state.buffers, ...state.bestWeights, ...state.ema];
  const header = {
    format: CHECKPOINT_FORMAT,
    key,
    epoch: state.epoch,
    optimizerSteps: state.optimizerSteps,
    early: { ...state.early, bestLoss: Number.isFinite(state.early.bestLoss) ? state.early.bestLoss : null },
    history: state.history,
    stopped: state.stopped,
    counts: [state.weights.length, state.buffers.length, state.bestWeights.length, state.ema.length],
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
  if (h?.format !== CHECKPOINT_FORMAT || h.key !== key) return null;
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
  const [nw, nb, nbest] = h.counts as number[];
  return {
    epoch: h.epoch,
    optimizerSteps: h.optimizerSteps,
    weights: arrays.slice(0, nw),
    buffers: arrays.slice(nw, nw! + nb!),
    bestWeights: arrays.slice(nw! + nb!, nw! + nb! + nbest!),
    ema: arrays.slice(nw! + nb! + nbest!),
    early: { ...h.early, bestLoss: h.early.bestLoss ?? Infinity },
    // JSON has no NaN: a diverged epoch's null comes back as NaN.
    history: (h.history as HistoryRow[]).map((r) => ({
      epoch: r.epoch, loss: r.loss ?? NaN, acc: r.acc ?? NaN, val_loss: r.val_loss ?? NaN, val_acc: r.val_acc ?? NaN, lr: r.lr,
    })),
    stopped: h.stopped,
  };
}
