// ser-features: `stage --in-dir <augment> --out-dir <features>` (pipeline stage), or
// `<wav> --out x.npy [flags]` (one clip, for debugging and parity checks).
import { readFile } from 'node:fs/promises';
import { UserError, loadStageParams, log, parseArgs, runCli, writeFileAtomic, type ArgSpec } from '@ser/stage-kit';
import { computeLogMel, featureParamsFrom, featureShape, type FeatureParams } from './core.ts';
import { encodeNpy } from './npy.ts';
import { runFeatures } from './stage.ts';

const PROG = 'ser-features';

/** Built-in defaults for the single-file CLI when no params.yaml is around (the paper's values). */
const DEFAULTS = {
  features: { n_fft: 1024, win_length: 512, hop_length: 256, n_mels: 128, fmin: 0, fmax: null, ref: 'max', amin: 1e-10, top_db: 80, scaler: 'per_element' },
  segment: { offset: 0.5, duration: 3.0 },
  ingest: { sample_rate: 48000 },
};

const STAGE_SPEC: ArgSpec = {
  'in-dir': { type: 'string', required: true, arg: 'dir', desc: 'folder with train.arrow, val.arrow, test.arrow (audio, shape [samples])' },
  'out-dir': { type: 'string', required: true, arg: 'dir', desc: 'folder for train/val/test.arrow (log-mel) and scaler.arrow' },
};

/** Both commands, listed by each one's --help. */
const COMMANDS = {
  [`${PROG} stage`]: 'the features stage: log-mel of every row of train/val/test, scaler fit on train (params features.*)',
  [`${PROG} <wav>`]: "one clip's log-mel as .npy (float32, C order), for debugging and parity checks",
};

// Feature flags map to features.<key>; numbers unless noted.
const FEATURE_FLAGS: Record<string, keyof FeatureParams> = {
  'n-fft': 'n_fft',
  'win-length': 'win_length',
  'hop-length': 'hop_length',
  'n-mels': 'n_mels',
  fmin: 'fmin',
  fmax: 'fmax',
  ref: 'ref',
  amin: 'amin',
  'top-db': 'top_db',
};

const FILE_SPEC: ArgSpec = {
  out: { type: 'string', required: true, arg: 'file', desc: 'output .npy (float32, C order, shape [n_mels, frames])' },
  offset: { type: 'string', arg: 's', desc: 'segment start in s (default: params segment.offset, else 0.5)' },
  duration: { type: 'string', arg: 's|full', desc: 'segment length in s, zero-padded; "full" = the whole file from offset (default: params segment.duration, else 3)' },
  'sample-rate': { type: 'string', arg: 'Hz', desc: 'resample to this rate in Hz first (default: params ingest.sample_rate, else 48000)' },
  ...Object.fromEntries(Object.entries(FEATURE_FLAGS).map(([f, k]) => [f, { type: 'string' as const, desc: `features.${k} (default: params.yaml, else the paper's value)` }])),
};

function numFlag(v: string | boolean | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw new UserError(`${PROG}: --${flag} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

/** params.yaml (+ --profile overlay) when present in the cwd, else the built-in defaults. */
function baseParams(argv: string[]): { features: Record<string, unknown>; offset: number; duration: number; sampleRate: number } {
  let p: Record<string, any> = DEFAULTS;
  try {
    p = loadStageParams({ argv, fromEngine: false });
  } catch (e) {
    if (!(e instanceof UserError && /params\.yaml: not found/.test(e.message))) throw e;
  }
  return {
    features: { ...DEFAULTS.features, ...(p.features ?? {}) },
    offset: p.segment?.offset ?? DEFAULTS.segment.offset,
    duration: p.segment?.duration ?? DEFAULTS.segment.duration,
    sampleRate: p.ingest?.sample_rate ?? DEFAULTS.ingest.sample_rate,
  };
}

async function mainFile(argv: string[]): Promise<void> {
  const a = parseArgs(argv, FILE_SPEC, {
    positionals: ['wav'],
    prog: PROG,
    summary: "Writes one clip's log-mel (dB) as .npy, with the params' (or the paper's) window, resampling and mel settings.",
    commands: COMMANDS,
    examples: [`${PROG} data/RAVDESS/Actor_01/03-01-01-01-01-01-01.wav --out x.npy`, `${PROG} clip.wav --out x.npy --duration full --n-mels 64 --sample-rate 16000`],
  });
  const wav = a.wav as string | undefined;
  if (!wav) throw new UserError(`${PROG}: missing <wav> (usage: ${PROG} <wav> --out x.npy, or ${PROG} stage --in-dir D --out-dir D)`);
  const base = baseParams(argv);
  const raw: Record<string, unknown> = { ...base.features };
  for (const [flag, key] of Object.entries(FEATURE_FLAGS)) {
    const v = a[flag];
    if (v === undefined) continue;
    if (key === 'ref' && v === 'max') raw.ref = 'max';
    else if (key === 'fmax' && v === 'null') raw.fmax = null;
    else if (key === 'top_db' && v === 'null') raw.top_db = null;
    else raw[key] = numFlag(v, flag);
  }
  const fp = featureParamsFrom({ features: raw });
  const offset = numFlag(a.offset, 'offset') ?? base.offset;
  const full = a.duration === 'full';
  const duration = full ? 0 : (numFlag(a.duration, 'duration') ?? base.duration);
  const sampleRate = numFlag(a['sample-rate'], 'sample-rate') ?? base.sampleRate;
  if (!(offset >= 0)) throw new UserError(`${PROG}: --offset must be >= 0, got ${offset}`);
  if (!full && !(duration > 0)) throw new UserError(`${PROG}: --duration must be > 0 or "full", got ${duration}`);
  if (!(Number.isInteger(sampleRate) && sampleRate > 0)) throw new UserError(`${PROG}: --sample-rate must be a positive integer, got ${sampleRate}`);

  let bytes: Uint8Array;
  try {
    bytes = await readFile(wav);
  } catch (e: any) {
    throw new UserError(`${wav}: cannot read (${e?.code ?? e?.message ?? e})`);
  }
  // Loaded here so that `stage` does not depend on the WAV/segment code.
  const { decodeWav, resample, segmentWindow } = await import('@ser/audio');
  // A bad WAV throws WavError (a user error naming the file): runCli prints one line.
  const decoded = decodeWav(bytes, wav);
  const audio = decoded.sampleRate === sampleRate ? decoded.mono : resample(decoded.mono, decoded.sampleRate, sampleRate);
  const seg = full
    ? audio.subarray(Math.min(audio.length, Math.round(offset * sampleRate)))
    : segmentWindow(audio, sampleRate, offset, duration);
  const feat = computeLogMel(seg, sampleRate, fp);
  const shape = featureShape(fp, seg.length);
  await writeFileAtomic(a.out as string, encodeNpy(feat, shape));
  log(`${wav}: ${decoded.sampleRate} Hz -> ${sampleRate} Hz, ${seg.length} samples -> ${a.out} [${shape.join(', ')}]`);
}

async function mainStage(argv: string[]): Promise<void> {
  // argv[0] is `stage`, which selected this function.
  const a = parseArgs(argv.slice(1), STAGE_SPEC, {
    prog: `${PROG} stage`,
    summary: 'Log-mel spectrograms (dB, not scaled) of train/val/test.arrow, and StandardScaler statistics fit on train only.',
    commands: COMMANDS,
    examples: [`${PROG} stage --in-dir artifacts/augment --out-dir artifacts/features`],
  });
  await runFeatures({ inputs: { dir: a['in-dir'] as string }, outputs: { dir: a['out-dir'] as string }, params: loadStageParams({ argv }) });
}

await runCli(async (argv) => {
  if (argv[0] === 'stage') await mainStage(argv);
  else await mainFile(argv);
});
