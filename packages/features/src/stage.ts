// File I/O edge of the features stage: augment/{train,val,test}.arrow -> features/*.arrow.
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LogMelExtractor } from '@ser/audio';
import { TensorFileError, TensorFileWriter, readTensorRows, readTensorSchema, shapeSize, type TensorSchema } from '@ser/tensor-io';
import { orderedPool, resolveWorkers, stageLog, type StageArgs } from '@ser/stage-kit';
import { ScalerAccumulator, featureParamsFrom, featureShape, featureWorkersFrom, featuresMetadata, logMelConfig, logMelOfRow, type FeatureParams, type LogMelTask } from './core.ts';

const WORKER_ENTRY = new URL('./logmel-worker.mjs', import.meta.url);

export const SPLITS = ['train', 'val', 'test'] as const;

export interface FeaturesStageOptions {
  inDir: string; // holds train.arrow, val.arrow, test.arrow (tensor shape [samples])
  outDir: string; // gets train/val/test.arrow ([n_mels, frames]) and scaler.arrow
  params: FeatureParams;
  /** Worker threads for the log-mel rows (default 1: in-process); the outputs are the same bytes for any count. */
  workers?: number;
  log?: (msg: string) => void;
  progress?: (done: number, label: string) => void; // rows done so far in split `label`
}

export interface FeaturesStageResult {
  rows: Record<string, number>;
  shape: [number, number];
  sampleRate: number;
}

function inputInfo(schema: TensorSchema, file: string): { sampleRate: number; samples: number } {
  const sr = Number(schema.metadata?.sample_rate);
  if (!(Number.isFinite(sr) && sr > 0)) {
    throw new TensorFileError(`${file}: schema metadata sample_rate missing or invalid (${JSON.stringify(schema.metadata?.sample_rate)})`);
  }
  if (schema.shape.length !== 1 || schema.shape[0]! <= 0) {
    throw new TensorFileError(`${file}: expected fixed-length audio rows (shape [samples]), got shape ${JSON.stringify(schema.shape)}`);
  }
  return { sampleRate: sr, samples: schema.shape[0]! };
}

/**
 * Log-mel for every row of train/val/test (streamed: one row of audio and one batch of output in
 * memory), StandardScaler statistics fit on train rows only, stored as scaler.arrow (rows `mean`,
 * `scale`, shape [n_mels, frames]). Outputs are written into a private temporary folder inside
 * outDir and moved into place only when all four are complete.
 */
export async function writeFeatures(opts: FeaturesStageOptions): Promise<FeaturesStageResult> {
  const { inDir, outDir, params } = opts;
  const log = opts.log ?? (() => {});
  const files = Object.fromEntries(SPLITS.map((s) => [s, join(inDir, `${s}.arrow`)])) as Record<(typeof SPLITS)[number], string>;
  const schemas = {} as Record<(typeof SPLITS)[number], TensorSchema>;
  let sampleRate = 0;
  let samples = 0;
  for (const s of SPLITS) {
    schemas[s] = await readTensorSchema(files[s]);
    const info = inputInfo(schemas[s], files[s]);
    if (s === 'train') ({ sampleRate, samples } = info);
    else if (info.sampleRate !== sampleRate || info.samples !== samples) {
      throw new TensorFileError(
        `${files[s]}: sample_rate ${info.sampleRate} / ${info.samples} samples differ from ${files.train} (${sampleRate} / ${samples})`,
      );
    }
  }
  const melConfig = logMelConfig(params, sampleRate); // validates fmax vs sr
  const extractor = new LogMelExtractor(melConfig);
  const shape = featureShape(params, samples);
  const featuresJson = featuresMetadata(params, sampleRate);
  const scaler = new ScalerAccumulator(params.scaler, shape);

  await mkdir(outDir, { recursive: true });
  const tmpDir = join(outDir, `.features-tmp-${process.pid}`);
  await rm(tmpDir, { recursive: true, force: true });
  await mkdir(tmpDir);
  const rows: Record<string, number> = {};
  // Rows are computed on `workers` threads (a bounded window in flight) and written, and added to
  // the scaler, in input order: the same bytes as one thread.
  const pool = orderedPool({
    workers: opts.workers ?? 1,
    entry: WORKER_ENTRY,
    workerData: melConfig,
    inline: (task) => logMelOfRow(extractor, task),
  });
  // Output buffers are reused from row to row (the writer copies what it keeps): a fresh
  // half-megabyte buffer per row costs page faults. In-process: one buffer; with workers, each
  // output buffer goes to a worker and back with its row.
  const inline = pool.workers === 1;
  const size = shapeSize(shape);
  const spareOut: Float32Array[] = [];
  const inlineOut = new Float32Array(inline ? size : 0);
  try {
    for (const s of SPLITS) {
      const schema: TensorSchema = {
        columns: schemas[s].columns,
        shape,
        metadata: { ...schemas[s].metadata, features: featuresJson },
      };
      const writer = await TensorFileWriter.open(join(tmpDir, `${s}.arrow`), schema);
      let n = 0;
      try {
        await pool.map(readTensorRows(files[s], { shape: [samples] }), {
          task: (row) => {
            // The samples as their own buffer (moved to a worker). In-process too: handing the
            // reader's row over as it is measured slower (more page faults, not fewer).
            const samples = row.tensor.slice();
            if (inline) return { message: { samples, out: inlineOut } satisfies LogMelTask };
            const t: LogMelTask = { samples, out: spareOut.pop() ?? new Float32Array(size) };
            return { message: t, transfer: [samples.buffer as ArrayBuffer, t.out.buffer as ArrayBuffer] };
          },
          onResult: async (feat, row) => {
            if (s === 'train') scaler.add(feat);
            await writer.write({ labels: row.labels, tensor: feat });
            if (!inline) spareOut.push(feat);
            n++;
            opts.progress?.(n, s);
          },
          describe: (row, i) => `${files[s]}: row ${i} (id ${String(row.labels.id ?? '?')})`,
        });
        await writer.close();
      } catch (e) {
        await writer.abort().catch(() => {});
        throw e;
      }
      rows[s] = n;
      log(`${s}: ${n} rows -> [${shape.join(', ')}]`);
    }
    if (rows.train === 0) throw new TensorFileError(`${files.train}: no rows; the scaler needs training data`);
    const { mean, scale } = scaler.finish();
    const scalerSchema: TensorSchema = {
      columns: [{ name: 'id', type: 'utf8' }],
      shape,
      metadata: { ...schemas.train.metadata, features: featuresJson, scaler: params.scaler, scaler_samples: String(rows.train) },
    };
    const w = await TensorFileWriter.open(join(tmpDir, 'scaler.arrow'), scalerSchema);
    await w.write({ labels: { id: 'mean' }, tensor: mean });
    await w.write({ labels: { id: 'scale' }, tensor: scale });
    await w.close();
    for (const name of [...SPLITS, 'scaler']) await rename(join(tmpDir, `${name}.arrow`), join(outDir, `${name}.arrow`));
  } finally {
    await pool.close();
    await rm(tmpDir, { recursive: true, force: true });
  }
  log(`scaler (${params.scaler}) fit on ${rows.train} train rows`);
  return { rows, shape, sampleRate };
}

/**
 * The features stage: `inputs.dir` (augment: train/val/test.arrow) -> `outputs.dir` (log-mel
 * files and scaler.arrow), params `features.*`; a progress line every 2 s at most.
 */
export async function runFeatures(a: StageArgs<'dir', 'dir'>): Promise<FeaturesStageResult> {
  const log = stageLog(a);
  const params = featureParamsFrom(a.params);
  const setting = featureWorkersFrom(a.params);
  const workers = resolveWorkers(setting);
  let last = 0;
  const t0 = Date.now();
  const res = await writeFeatures({
    inDir: a.inputs.dir,
    outDir: a.outputs.dir,
    params,
    workers,
    log,
    progress: (done, label) => {
      const now = Date.now();
      if (now - last >= 2000) {
        last = now;
        log(`${label}: ${done} rows (${((now - t0) / 1000).toFixed(0)} s)`);
      }
    },
  });
  log(
    `done: ${Object.entries(res.rows).map(([k, v]) => `${k} ${v}`).join(', ')} rows, shape [${res.shape.join(', ')}] at ${res.sampleRate} Hz in ${((Date.now() - t0) / 1000).toFixed(1)} s` +
      ` (features.workers ${setting}${setting === 'auto' ? ` = ${workers}` : ''})`,
  );
  return res;
}
