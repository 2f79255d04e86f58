// ser-ingest: the ingest stage (default command) and `ser-ingest download` (fetch the corpus).
import { getParam, loadStageParams, log, nullable, parseArgs, progress, runCli, str, UserError } from '@ser/stage-kit';
import { DownloadError, RAVDESS_SPEECH_MD5, downloadCorpus } from './download.ts';
import { runIngest } from './stage.ts';
import { ZipError } from './zip.ts';

const STAGE_FLAGS = {
  'data-dir': { type: 'string', required: true, arg: 'dir', desc: 'corpus folder (data.dir)' },
  out: { type: 'string', required: true, arg: 'file', desc: 'clips.arrow to write' },
  report: { type: 'string', required: true, arg: 'file', desc: 'report.json to write' },
} as const;

const DOWNLOAD_FLAGS = {
  'data-dir': { type: 'string', arg: 'dir', desc: 'folder to fill (default: data.dir)' },
  url: { type: 'string', arg: 'url', desc: 'zip URL (default: data.url)' },
  md5: { type: 'string', arg: 'hex', desc: `expected MD5 of the zip (default: data.md5, else ${RAVDESS_SPEECH_MD5})` },
  'keep-zip': { type: 'boolean', desc: 'keep <data-dir>.zip after extracting' },
  attempts: { type: 'string', arg: 'n', default: '5', desc: 'download attempts (resumed with HTTP Range)' },
} as const;

/** Both commands, listed by each one's --help. */
const COMMANDS = {
  'ser-ingest': 'the ingest stage: every WAV under --data-dir -> one Arrow row per clip (params ingest.*)',
  'ser-ingest download': `fetch and unpack the RAVDESS speech zip (Zenodo record 1188976) into data.dir, resumable, MD5-checked`,
};

async function stage(argv: string[]): Promise<void> {
  const a = parseArgs(argv, STAGE_FLAGS, {
    prog: 'ser-ingest',
    summary: 'Decodes every WAV under --data-dir (RAVDESS names), mixes to mono, resamples to ingest.sample_rate.',
    commands: COMMANDS,
    examples: [
      'ser-ingest --data-dir data/RAVDESS --out artifacts/ingest/clips.arrow --report artifacts/ingest/report.json',
      'ser-ingest download --url "https://zenodo.org/records/1188976/files/Audio_Speech_Actors_01-24.zip?download=1"',
    ],
  });
  await runIngest({
    inputs: { dataDir: a['data-dir'] as string },
    outputs: { clips: a.out as string, report: a.report as string },
    params: loadStageParams({ argv }),
  });
}

/** Download progress in MB (floor/ceil so only the very last byte reads as done), ~2 lines/s. */
function megabytes(): (bytes: number, total: number) => void {
  let last = 0;
  return (bytes, total) => {
    if (Number.isFinite(total)) return progress(Math.floor(bytes / 1e6), Math.ceil(total / 1e6), 'download (MB)');
    const now = Date.now();
    if (now - last >= 500) {
      last = now;
      log(`download (MB): ${(bytes / 1e6).toFixed(0)} (size unknown)`);
    }
  };
}

async function download(argv: string[]): Promise<void> {
  const a = parseArgs(argv, DOWNLOAD_FLAGS, {
    prog: 'ser-ingest download',
    summary: 'Fetches the corpus zip into an empty or missing data.dir: HTTP Range resume, retries, MD5 check, atomic extract.',
    commands: COMMANDS,
    examples: [
      'ser-ingest download --url "https://zenodo.org/records/1188976/files/Audio_Speech_Actors_01-24.zip?download=1"',
      'ser-ingest download --data-dir /data/RAVDESS --keep-zip',
    ],
  });
  const params = loadStageParams({ argv });
  const dataDir = (a['data-dir'] as string | undefined) ?? getParam(params, 'data.dir', str({ nonEmpty: true }));
  const url = (a.url as string | undefined) ?? getParam(params, 'data.url', nullable(str())) ?? '';
  if (!url) throw new UserError('params: data.url is empty: set it (or pass --url) to the RAVDESS speech zip URL');
  const md5 = (a.md5 as string | undefined) ?? getParam(params, 'data.md5', nullable(str())) ?? RAVDESS_SPEECH_MD5;
  const attempts = Number(a.attempts);
  if (!Number.isInteger(attempts) || attempts < 1) throw new UserError(`--attempts must be a positive integer, got ${a.attempts}`);
  try {
    await downloadCorpus({
      dataDir,
      url,
      md5,
      keepZip: a['keep-zip'] === true,
      attempts,
      log,
      onProgress: megabytes(),
      onExtract: (done, total) => progress(done, total, 'extract (files)'),
    });
  } catch (e) {
    if (e instanceof DownloadError || e instanceof ZipError) throw new UserError(e.message);
    throw e;
  }
}

await runCli(async (argv) => {
  if (argv[0] === 'download') return download(argv.slice(1));
  return stage(argv);
});
