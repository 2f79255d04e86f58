// The train stage's edge: params, feature files, the resumable checkpoint, and the outputs
// (best model + preprocess.json, history.json, metrics.json). The maths lives in core.ts.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { countParams, EMOTIONS, loadModel, saveModel, selectBackendParam, setScaler } from '@ser/model';
import { readTensorFile, readTensorSchema } from '@ser/tensor-io';
import { ParamError, UserError, arr, getParam, nullable, num, record, stageLog, stageProfile, str, writeJsonAtomic, type Params, type StageArgs, type StageLog } from '@ser/stage-kit';
import {
  decodeState,
  encodeState,
  train,
  TrainingDiverged,
  writeWeights,
  type SpecAugmentConfig,
  type Dataset,
  type EpochReport,
  type TrainConfig,
  type TrainState,
} from './core.ts';
import { resolveWorkers, workerGradients, type WorkerGradientSource } from './workers.ts';
import { PROVENANCE_FILE, provenanceFor } from './provenance.ts';
import { epochProgress } from './progress.ts';

export const CHECKPOINT_FILE = 'train-checkpoint.bin';

export interface TrainParams extends TrainConfig {
  backend: string;
  /** Gradient worker processes (workers.ts): 'auto' = os.availableParallelism(). Speed only: results depend on microBatch, not on this. */
  workers: number | 'auto';
}

/** `train.workers`: auto or an integer >= 1 (missing: 1, in-process). */
const workersCheck = Object.assign(
  (v: unknown, key: string): number | 'auto' => {
    if (v === null || v === undefined) return 1;
    if (v === 'auto' || (typeof v === 'number' && Number.isInteger(v) && v >= 1)) return v;
    throw new ParamError(key, `params: ${key} must be auto or an integer >= 1, got ${JSON.stringify(v)}`);
  },
  { acceptsMissing: true },
);

/** `train.spec_augment`: null, or the four mask counts and widths. */
function specAugmentFrom(p: Params): SpecAugmentConfig | null {
  const v = getParam(p, 'train.spec_augment', nullable(record()));
  if (v === null) return null;
  const count = num({ min: 0, integer: true });
  const known = ['freq_masks', 'freq_width', 'time_masks', 'time_width'];
  for (const k of Object.keys(v)) if (!known.includes(k)) throw new UserError(`train.spec_augment.${k}: unknown key (expected ${known.join(', ')})`);
  return {
    freq_masks: getParam(p, 'train.spec_augment.freq_masks', count),
    freq_width: getParam(p, 'train.spec_augment.freq_width', count),
    time_masks: getParam(p, 'train.spec_augment.time_masks', count),
    time_width: getParam(p, 'train.spec_augment.time_width', count),
  };
}

/** `train.*` and `seed` from the stage's params; a bad value names its key. */
export function trainParamsFrom(p: Params): TrainParams {
  return {
    backend: getParam(p, 'train.backend', str()),
    optimizer: getParam(p, 'train.optimizer', str({ oneOf: ['sgd', 'adam', 'adamw'] })) as TrainParams['optimizer'],
    lr: getParam(p, 'train.lr', num({ min: 0 })),
    momentum: getParam(p, 'train.momentum', num({ min: 0, max: 1 })),
    weightDecay: getParam(p, 'train.weight_decay', num({ min: 0 })),
    betas: getParam(p, 'train.betas', arr(num({ min: 0, max: 0.999999 }), { length: 2 })) as [number, number],
    eps: getParam(p, 'train.eps', num({ min: 0 })),
    schedule: getParam(p, 'train.schedule', str({ oneOf: ['constant', 'cosine', 'onecycle'] })) as TrainParams['schedule'],
    warmup: getParam(p, 'train.warmup', num({ min: 0, max: 1 })),
    labelSmoothing: getParam(p, 'train.label_smoothing', num({ min: 0, max: 0.999 })),
    specAugment: specAugmentFrom(p),
    clipGradNorm: getParam(p, 'train.clip_grad_norm', nullable(num({ min: 0 }))),
    mixup: getParam(p, 'train.mixup', num({ min: 0 })),
    ema: getParam(p, 'train.ema', num({ min: 0, max: 0.999999 })),
    batchSize: getParam(p, 'train.batch_size', num({ min: 1, integer: true })),
    maxEpochs: getParam(p, 'train.max_epochs', num({ min: 1, integer: true })),
    patience: getParam(p, 'train.patience', num({ min: 1, integer: true })),
    evalBatchSize: getParam(p, 'train.eval_batch_size', num({ min: 1, integer: true })),
    stepsPerEpoch: getParam(p, 'train.steps_per_epoch', nullable(num({ min: 1, integer: true }))),
    microBatch: getParam(p, 'train.micro_batch', nullable(num({ min: 1, integer: true }))),
    workers: getParam(p, 'train.workers', workersCheck),
    seed: getParam(p, 'seed', num({ integer: true })),
  };
}

/** Reads a features split as a Dataset (x: raw log-mel rows, y: emotion index). */
export async function loadSplit(file: string, shape?: number[]): Promise<Dataset & { labels: Record<string, (number | string)[]>; shape: number[] }> {
  if (!existsSync(file)) throw new UserError(`${file}: missing (run the features stage first)`);
  let f;
  try {
    f = await readTensorFile(file, { columns: ['emotion'], ...(shape ? { shape } : {}) });
  } catch (e) {
    throw new UserError((e as Error).message.includes(file) ? (e as Error).message : `${file}: ${(e as Error).message}`);
  }
  const y = Int32Array.from(f.labels['emotion']!, (v) => Number(v));
  for (let i = 0; i < y.length; i++) {
    if (!(y[i]! >= 0 && y[i]! < EMOTIONS.length)) throw new UserError(`${file}: row ${i} has emotion ${y[i]} (expected 0-7)`);
  }
  const rowSize = f.schema.shape.reduce((a, b) => a * b, 1);
  return { x: f.data, y, count: f.count, rowSize, labels: f.labels, shape: f.schema.shape };
}

/** `features/scaler.arrow`: rows `mean` and `scale` of the feature shape. */
export async function loadScaler(file: string, shape: number[]): Promise<{ mean: Float32Array; scale: Float32Array }> {
  if (!existsSync(file)) throw new UserError(`${file}: missing (run the features stage first)`);
  let f;
  try {
    f = await readTensorFile(file, { columns: ['id'], shape });
  } catch (e) {
    throw new UserError(`${file}: ${(e as Error).message}`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  const row = (id: string) => {
    const i = f.labels['id']!.indexOf(id);
    if (i < 0) throw new UserError(`${file}: no row with id "${id}"`);
    return f.data.slice(i * n, (i + 1) * n);
  };
  return { mean: row('mean'), scale: row('scale') };
}

/** The preprocessing predict must repeat, from train.arrow's schema metadata (lineage). */
export function preprocessFrom(metadata: Record<string, string> | undefined, file: string, shape: number[]) {
  const m = metadata ?? {};
  const need = (k: string): string => {
    const v = m[k];
    if (v == null) throw new UserError(`${file}: schema metadata has no "${k}" (needed for preprocess.json)`);
    return v;
  };
  let features: unknown;
  try {
    features = JSON.parse(need('features'));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file}: schema metadata "features" is not JSON`);
  }
  return {
    sample_rate: Number(need('sample_rate')),
    segment_offset: Number(need('segment_offset')),
    segment_duration: Number(need('segment_duration')),
    features,
    input_shape: shape,
    emotions: [...EMOTIONS],
  };
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

async function fileHash(path: string): Promise<string> {
  return sha256(await readFile(path));
}

const fmtSecs = (s: number): string =>
  !Number.isFinite(s) ? '?' : s >= 3600 ? `${(s / 3600).toFixed(1)}h` : s >= 60 ? `${(s / 60).toFixed(1)}m` : `${s.toFixed(0)}s`;

/**
 * inputs: `features` (train.arrow, val.arrow, scaler.arrow), `init` (the model stage's untrained
 * model); outputs: `dir` (writes model/, history.json, metrics.json).
 */
export interface TrainStageArgs extends StageArgs<'features' | 'init', 'dir'> {
  /** Params profile for provenance.json (default: stageProfile(): --profile in argv, else $PIPELINE_PROFILE; '' = default). */
  profile?: string;
  /** Checkpoint folder (default: <outputs.dir>/../.train-scratch); the CLI passes --scratch, else $PIPELINE_SCRATCH. */
  scratch?: string;
}

// ---------------------------------------------------------------- checkpoint / resume

/** Where a killed run's per-epoch state lives, and which inputs it belongs to. */
export interface Checkpoint {
  path: string;
  /** sha256 of the config and input files: a checkpoint of other inputs is ignored. */
  key: string;
}

/**
 * The checkpoint's key: valid only for these exact inputs and params (but any worker count: the
 * results do not depend on it, so a resumed run may use another).
 */
async function checkpointKey(cfg: TrainParams, backend: string, features: string, init: string): Promise<string> {
  const { workers: _workers, ...keyCfg } = cfg;
  return sha256(
    JSON.stringify({
      cfg: { ...keyCfg, backend },
      init: [await fileHash(join(init, 'model.json')), await fileHash(join(init, 'weights.bin'))],
      features: [await fileHash(join(features, 'train.arrow')), await fileHash(join(features, 'val.arrow')), await fileHash(join(features, 'scaler.arrow'))],
    }),
  );
}

/** The state to resume from: the checkpoint at `ck.path` when it exists and matches `ck.key`, else null. */
async function readCheckpoint(ck: Checkpoint, log: StageLog): Promise<TrainState | null> {
  if (!existsSync(ck.path)) return null;
  const resume = decodeState(await readFile(ck.path), ck.key);
  log(resume ? `train: resuming after epoch ${resume.epoch} from ${ck.path}` : `train: ignoring ${ck.path} (other inputs or params)`);
  return resume;
}

/** Writes the state after an epoch: temp + rename, so a kill leaves the previous or the new checkpoint. */
async function writeCheckpoint(ck: Checkpoint, state: TrainState): Promise<void> {
  await mkdir(dirname(ck.path), { recursive: true });
  const tmp = `${ck.path}.tmp-${process.pid}`;
  await writeFile(tmp, encodeState(state, ck.key));
  await rename(tmp, ck.path);
}

// ---------------------------------------------------------------- outputs

/** model/ (best weights + preprocess.json + provenance.json, written beside and renamed into place), history.json, metrics.json. */
async function writeTrainOutputs(
  outDir: string,
  model: Awaited<ReturnType<typeof loadModel>>,
  files: { preprocess: unknown; provenance: unknown; history: unknown; metrics: unknown },
): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const modelDir = join(outDir, 'model');
  const tmpModel = join(outDir, `.model.tmp-${process.pid}`);
  await rm(tmpModel, { recursive: true, force: true });
  await saveModel(model, tmpModel);
  await writeFile(join(tmpModel, 'preprocess.json'), `${JSON.stringify(files.preprocess, null, 2)}\n`);
  await writeFile(join(tmpModel, PROVENANCE_FILE), `${JSON.stringify(files.provenance, null, 2)}\n`);
  await rm(modelDir, { recursive: true, force: true });
  await rename(tmpModel, modelDir);
  await writeJsonAtomic(join(outDir, 'history.json'), files.history);
  await writeJsonAtomic(join(outDir, 'metrics.json'), files.metrics);
  return modelDir;
}

// ---------------------------------------------------------------- the stage

/** The train stage: early-stopped training from `inputs.init` on `inputs.features`, resumable after a kill. */
export async function runTrain(a: TrainStageArgs): Promise<{ metrics: Record<string, unknown> }> {
  const log = stageLog(a);
  const { features, init } = a.inputs;
  const { dir: outDir } = a.outputs;
  const t0 = performance.now();
  const cfg = trainParamsFrom(a.params);
  // Checks data.source before any work.
  const provenance = provenanceFor(a.params, a.profile ?? stageProfile());
  const choice = await selectBackendParam(cfg.backend, 'train.backend', log);
  const backend = choice.name;
  log(`train: backend ${backend}`);

  const trainFile = join(features, 'train.arrow');
  const trainSet = await loadSplit(trainFile);
  const valSet = await loadSplit(join(features, 'val.arrow'), trainSet.shape);
  const scaler = await loadScaler(join(features, 'scaler.arrow'), trainSet.shape);
  const preprocess = preprocessFrom((await readTensorSchema(trainFile)).metadata, trainFile, trainSet.shape);

  let model;
  try {
    model = await loadModel(init);
  } catch (e) {
    throw new UserError(`${init}: ${(e as Error).message}`);
  }
  const inShape = model.inputs[0]!.shape.slice(1) as number[];
  if (inShape.reduce((x, y) => x * y, 1) !== trainSet.rowSize) {
    throw new UserError(`${init}: model input [${inShape}] does not match the features [${trainSet.shape}] (re-run the model stage)`);
  }
  setScaler(model, scaler.mean, scaler.scale);
  const params = countParams(model);
  log(`train: ${trainSet.count} train / ${valSet.count} val rows of [${trainSet.shape}], ${params.trainable} trainable parameters`);

  const scratch = a.scratch ?? join(dirname(resolve(outDir)), '.train-scratch');
  const ck: Checkpoint = { path: join(scratch, CHECKPOINT_FILE), key: await checkpointKey(cfg, backend, features, init) };
  const resume = await readCheckpoint(ck, log);

  const t1 = performance.now();
  let epochsThisRun = 0;
  const bar = epochProgress(cfg.maxEpochs);
  const onEpoch = async (state: TrainState, r: EpochReport) => {
    await writeCheckpoint(ck, state);
    epochsThisRun++;
    const perEpoch = (performance.now() - t1) / 1000 / epochsThisRun;
    const left = state.stopped ? 0 : cfg.maxEpochs - state.epoch;
    bar.clear();
    log(
      `epoch ${r.epoch}/${cfg.maxEpochs} loss ${r.loss.toFixed(4)} acc ${r.acc.toFixed(4)} ` +
        `val_loss ${r.val_loss.toFixed(4)} val_acc ${r.val_acc.toFixed(4)} ${r.samplesPerSec.toFixed(1)} samples/s ` +
        `${r.seconds.toFixed(1)}s${r.improved ? ' *best*' : ''} ETA <= ${fmtSecs(left * perEpoch)}` +
        (state.early.bestEpoch >= 0 ? ` (patience ${state.early.wait}/${cfg.patience})` : ''),
    );
  };
  // Data-parallel passes on worker processes (same bytes as in-process, see workers.ts).
  const par = resolveWorkers(cfg.workers, cfg.batchSize, cfg.microBatch, backend);
  if (par.note) log(par.note);
  let gradients: WorkerGradientSource | undefined;
  let result;
  try {
    if (par.workers > 1) {
      gradients = await workerGradients(model, { microBatch: cfg.microBatch!, labelSmoothing: cfg.labelSmoothing, workers: par.workers, backend: backend as 'wasm' | 'cpu' });
      log(`train: ${par.workers} gradient workers (micro_batch ${cfg.microBatch}, backend ${backend} in each)`);
    }
    result = await train(model, trainSet, valSet, cfg, resume, onEpoch, {
      ...(gradients ? { gradients } : {}),
      maskFill: scaler.mean,
      onBatch: (epoch, done, total, info) => bar.batch(epoch, done, total, info),
    });
  } catch (e) {
    if (!(e instanceof TrainingDiverged)) throw e;
    throw new UserError(
      `train: ${e.message} (optimizer ${cfg.optimizer}, lr ${cfg.lr}, schedule ${cfg.schedule}). ` +
        `Lower train.lr, set train.clip_grad_norm (e.g. 1.0), or check train.weight_decay and train.warmup.`,
    );
  } finally {
    await gradients?.dispose();
  }
  const { state, samplesPerSec } = result;
  if (state.bestWeights.length === 0) throw new Error('training produced no epoch');
  writeWeights(model, state.bestWeights);
  const best = state.history[state.early.bestEpoch]!;

  // Only what the inputs determine: timing and whether this run resumed go to the log, so that
  // the same params give byte-identical metrics (the CI lock check relies on it).
  const metrics = {
    best_epoch: best.epoch,
    best_val_loss: best.val_loss,
    best_val_acc: best.val_acc,
    train_loss_at_best: best.loss,
    train_acc_at_best: best.acc,
    epochs_run: state.epoch,
    stopped_early: state.stopped,
    backend,
    backend_requested: cfg.backend,
    // The GPU it ran on (webgpu only: wasm/cpu facts would make the demo's metrics machine-dependent).
    ...(choice.details['adapter'] ? { backend_details: { adapter: choice.details['adapter'] } } : {}),
    param_count: params.total,
    trainable_param_count: params.trainable,
    train_rows: trainSet.count,
    val_rows: valSet.count,
    seed: cfg.seed,
  };
  const modelDir = await writeTrainOutputs(outDir, model, { preprocess, provenance, history: { epochs: state.history }, metrics });
  await rm(ck.path, { force: true }); // after the outputs: a kill before this point resumes
  log(
    `train: best epoch ${best.epoch} val_loss ${best.val_loss.toFixed(4)} val_acc ${best.val_acc.toFixed(4)}; ` +
      `${state.epoch} epochs${state.stopped ? ' (early stop)' : ''}; model -> ${modelDir}`,
  );
  log(
    `train: ${samplesPerSec.toFixed(1)} samples/s on ${backend}, ${((performance.now() - t0) / 1000).toFixed(1)} s` +
      (resume ? `, resumed after epoch ${resume.epoch}` : ''),
  );
  return { metrics };
}
