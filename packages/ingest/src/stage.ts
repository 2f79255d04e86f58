// The file edge of the ingest stage: params, glob, read, write clips.arrow and report.json.
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import fg from 'fast-glob';
import {
  UserError,
  getParam,
  nullable,
  num,
  orderedPool,
  progress,
  resolveWorkers,
  stageLog,
  str,
  workersParam,
  writeJsonAtomic,
  type Params,
  type StageArgs,
  type WorkersSetting,
} from '@ser/stage-kit';
import { TensorFileWriter } from '@ser/tensor-io';
import { RAVDESS_SPEECH_MD5, RAVDESS_SPEECH_URL } from './download.ts';
import { addToReport, clipsSchema, emptyReport, parseRavdessName, type ClipLabels, type IngestReport } from './core.ts';
import { decodeFile, type DecodeOutcome, type DecodeTask } from './decode.ts';

const WORKER_ENTRY = new URL('./decode-worker.mjs', import.meta.url);

export type OnError = 'fail' | 'skip';

export interface IngestOptions {
  dataDir: string;
  /** ingest/clips.arrow */
  out: string;
  /** ingest/report.json */
  report: string;
  /** Hz (ingest.sample_rate) */
  sampleRate: number;
  /** ingest.on_error */
  onError: OnError;
  /** data.url: only used to word the error for an empty data.dir */
  dataUrl: string;
  /** decode/resample worker threads (default 1: in-process); the outputs are the same bytes for any count */
  workers?: number;
  /** progress callback (done, total) */
  onProgress?: (done: number, total: number) => void;
}

/** The stage's params, checked (each error names its key). */
export function ingestParamsFrom(p: Params): { sampleRate: number; onError: OnError; dataUrl: string; workers: WorkersSetting } {
  return {
    sampleRate: getParam(p, 'ingest.sample_rate', num({ min: 1000, max: 384000, integer: true })),
    onError: getParam(p, 'ingest.on_error', str({ oneOf: ['fail', 'skip'] })) as OnError,
    // speed only: auto = one thread per core; missing = 1
    workers: getParam(p, 'ingest.workers', workersParam),
    // optional: null or missing = no URL
    dataUrl: getParam(p, 'data.url', nullable(str())) ?? '',
  };
}

/** Sorted paths (relative to dataDir, `/`-separated) of every `*.wav` under dataDir. */
export async function findWavs(dataDir: string): Promise<string[]> {
  const files = await fg('**/*.wav', { cwd: dataDir, caseSensitiveMatch: false, onlyFiles: true, followSymbolicLinks: true });
  // Plain code-unit order: stable across machines and locales.
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The error for a missing or empty data.dir: says how to get the corpus. */
export async function emptyDataDirError(dataDir: string, dataUrl: string): Promise<UserError> {
  let what = 'does not exist';
  try {
    const s = await stat(dataDir);
    if (!s.isDirectory()) what = 'is not a directory';
    else what = (await readdir(dataDir)).length === 0 ? 'is empty' : 'has no .wav files';
  } catch {
    /* missing */
  }
  const how = dataUrl
    ? `data.url is set: run \`npx ser-ingest download\` once to fetch and unpack it into ${dataDir} (the download is not part of the cached stage because data.dir is its input)`
    : `put the RAVDESS speech corpus there (Audio_Speech_Actors_01-24.zip from Zenodo record 1188976, ${RAVDESS_SPEECH_URL}, MD5 ${RAVDESS_SPEECH_MD5}), ` +
      `or set data.url to that URL and run \`npx ser-ingest download\`, or set data.dir to where the corpus is, or run the offline demo: npx nx run pipeline:demo`;
  return new UserError(`data.dir ${dataDir} ${what}: ${how}`);
}

/**
 * The ingest stage: every WAV under `inputs.dataDir` becomes one row of `outputs.clips`
 * (params `ingest.*`, `data.url`); `outputs.report` gets counts and skipped files.
 */
export async function runIngest(a: StageArgs<'dataDir', 'clips' | 'report'>): Promise<IngestReport> {
  const log = stageLog(a);
  const t0 = Date.now();
  const params = ingestParamsFrom(a.params);
  const workers = resolveWorkers(params.workers);
  const r = await ingestCorpus({
    dataDir: a.inputs.dataDir,
    out: a.outputs.clips,
    report: a.outputs.report,
    ...params,
    workers,
    onProgress: cliProgress('ingest'),
  });
  log(
    `ingested ${r.ingested} of ${r.files} files (${r.skipped.length} skipped, ${r.multichannel.length} multi-channel, ${r.resampled} resampled to ${r.sample_rate} Hz) in ${((Date.now() - t0) / 1000).toFixed(1)} s` +
      ` (ingest.workers ${params.workers}${params.workers === 'auto' ? ` = ${workers}` : ''})`,
  );
  for (const s of r.skipped) log(`skipped ${s.file}: ${s.reason}`);
  return r;
}

/**
 * Every WAV under dataDir becomes one row of `out` (mono float32 at sampleRate, labels from the
 * RAVDESS name); `report` gets counts and skipped files. With onError 'fail' the first bad file
 * is a UserError naming it and no output is left behind.
 */
export async function ingestCorpus(o: IngestOptions): Promise<IngestReport> {
  const files = await findWavs(o.dataDir).catch(() => [] as string[]);
  if (files.length === 0) throw await emptyDataDirError(o.dataDir, o.dataUrl);
  const report = emptyReport(files.length, o.sampleRate);
  const writer = await TensorFileWriter.open(o.out, clipsSchema(o.sampleRate));
  const seen = new Map<string, string>();
  // Files are decoded (and resampled) on `workers` threads, a bounded window in flight; names,
  // duplicates, errors and rows are handled here in file order: the same bytes as one thread.
  const pool = orderedPool<DecodeOutcome>({ workers: o.workers ?? 1, entry: WORKER_ENTRY, inline: (t) => decodeFile(t as DecodeTask) });
  try {
    await pool.map(files.entries(), {
      task: ([, rel]) => ({ message: { path: join(o.dataDir, rel), sampleRate: o.sampleRate } satisfies DecodeTask }),
      describe: ([, rel]) => join(o.dataDir, rel),
      onResult: async (outcome, [i, rel]) => {
        const path = join(o.dataDir, rel);
        let labels: ClipLabels;
        try {
          labels = parseRavdessName(basename(rel), basename(dirname(join('x', rel))));
          const first = seen.get(labels.id);
          if (first !== undefined) throw new Error(`duplicate clip id ${labels.id} (also ${first})`);
          if ('error' in outcome) throw new Error(outcome.error);
        } catch (e) {
          const msg = (e as Error).message;
          // WavError messages already start with the path; others get it in front.
          const reason = msg.startsWith(`${path}: `) ? msg.slice(path.length + 2) : msg;
          if (o.onError === 'fail') {
            throw new UserError(`${path}: ${reason} (set ingest.on_error: skip to leave bad files out)`);
          }
          report.skipped.push({ file: rel, reason });
          o.onProgress?.(i + 1, files.length);
          return;
        }
        await writer.write({ labels: { ...labels }, tensor: outcome.audio });
        seen.set(labels.id, rel);
        addToReport(report, rel, labels, outcome.info);
        o.onProgress?.(i + 1, files.length);
      },
    });
    if (report.ingested === 0) {
      throw new UserError(`data.dir ${o.dataDir}: none of the ${files.length} WAV files could be ingested (first problem: ${report.skipped[0]?.file}: ${report.skipped[0]?.reason})`);
    }
    await writer.close();
  } catch (e) {
    await writer.abort();
    throw e;
  } finally {
    await pool.close();
  }
  await writeJsonAtomic(o.report, report);
  return report;
}

/** Progress printer for the CLI. */
export function cliProgress(label: string): (done: number, total: number) => void {
  return (done, total) => progress(done, total, label);
}
