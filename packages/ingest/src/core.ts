// Pure core of the ingest stage: RAVDESS file names -> labels, WAV bytes -> mono audio at the
// target rate, and the report. No file system access here (see stage.ts).
import { decodeWav, resample } from '@ser/audio';
import { EMOTIONS } from '@ser/stage-kit';
import type { TensorSchema } from '@ser/tensor-io';

/** Emotion names by label (0-7 = RAVDESS emotion code - 1): stage-kit's, the one list. */
export { EMOTIONS };

/** The label columns of ingest/clips.arrow (docs/ARCHITECTURE.md). */
export interface ClipLabels {
  /** file stem, e.g. `03-01-05-02-01-01-12` */
  id: string;
  /** 1-24 */
  actor: number;
  /** odd actor = male */
  gender: 'male' | 'female';
  /** 0-7 (see EMOTIONS) */
  emotion: number;
  /** 1 normal, 2 strong */
  intensity: number;
  /** 1 "Kids are talking by the door", 2 "Dogs are sitting by the door" */
  statement: number;
  /** 1 | 2 */
  repetition: number;
}

/** A bad file name; the stage prefixes the file path. */
export class RavdessNameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RavdessNameError';
  }
}

const NAME_RE = /^(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})\.wav$/i;

function inRange(field: string, value: number, lo: number, hi: number, meaning: string): number {
  if (value < lo || value > hi) {
    const pad = (v: number) => String(v).padStart(2, '0');
    throw new RavdessNameError(`bad RAVDESS name: ${field} ${pad(value)} is outside ${pad(lo)}-${pad(hi)} (${meaning})`);
  }
  return value;
}

/**
 * Parses a RAVDESS speech file name `MM-VV-EE-II-SS-RR-AA.wav` (modality 03 = audio-only,
 * vocal channel 01 = speech, emotion 01-08, intensity 01-02, statement 01-02, repetition 01-02,
 * actor 01-24). Song files (vocal channel 02) and non-audio modalities are rejected: the paper
 * (and the label set) is the speech corpus only. `dirName`, when it is `Actor_NN`, must agree
 * with the actor field.
 */
export function parseRavdessName(fileName: string, dirName?: string): ClipLabels {
  const m = NAME_RE.exec(fileName);
  if (!m) {
    throw new RavdessNameError(
      `bad RAVDESS name: expected MM-VV-EE-II-SS-RR-AA.wav (7 two-digit fields, e.g. 03-01-05-02-01-01-12.wav), got ${JSON.stringify(fileName)}`,
    );
  }
  // NAME_RE has exactly 7 non-optional groups, so a match yields 7 fields.
  const [modality, vocal, emotion, intensity, statement, repetition, actor] = m.slice(1, 8).map(Number) as [number, number, number, number, number, number, number];
  if (modality !== 3) {
    const kinds: Record<number, string> = { 1: 'full-AV', 2: 'video-only' };
    throw new RavdessNameError(`bad RAVDESS name: modality ${m[1]} (${kinds[modality] ?? 'unknown'}) is not 03 (audio-only)`);
  }
  if (vocal !== 1) {
    const kinds: Record<number, string> = { 2: 'song' };
    throw new RavdessNameError(`bad RAVDESS name: vocal channel ${m[2]} (${kinds[vocal] ?? 'unknown'}) is not 01 (speech); only the speech corpus is supported`);
  }
  inRange('emotion', emotion, 1, 8, EMOTIONS.map((e, i) => `${i + 1} ${e}`).join(', '));
  inRange('intensity', intensity, 1, 2, '01 normal, 02 strong');
  if (emotion === 1 && intensity !== 1) throw new RavdessNameError('bad RAVDESS name: neutral (emotion 01) has only intensity 01, got 02');
  inRange('statement', statement, 1, 2, 'the two RAVDESS sentences');
  inRange('repetition', repetition, 1, 2, 'first or second take');
  inRange('actor', actor, 1, 24, 'RAVDESS actors');
  const dm = dirName ? /^Actor_(\d+)$/i.exec(dirName) : null;
  if (dm && Number(dm[1]) !== actor) {
    throw new RavdessNameError(`bad RAVDESS name: actor ${m[7]} in the name, but the file is in folder ${dirName}`);
  }
  return {
    id: fileName.slice(0, -4),
    actor,
    gender: actor % 2 === 1 ? 'male' : 'female',
    emotion: emotion - 1,
    intensity,
    statement,
    repetition,
  };
}

/** Schema of ingest/clips.arrow: raw mono audio at `sampleRate` Hz, one variable-length row per clip. */
export function clipsSchema(sampleRate: number): TensorSchema {
  return {
    columns: [
      { name: 'id', type: 'utf8' },
      { name: 'actor', type: 'int32' },
      { name: 'gender', type: 'utf8' },
      { name: 'emotion', type: 'int32' },
      { name: 'intensity', type: 'int32' },
      { name: 'statement', type: 'int32' },
      { name: 'repetition', type: 'int32' },
    ],
    shape: [-1],
    metadata: { sample_rate: String(sampleRate) },
  };
}

/** What decodeClip learnt about the source file (for the report). */
export interface ClipInfo {
  sourceRate: number;
  channels: number;
  bitsPerSample: number;
  format: string;
  /** seconds, at the source rate */
  duration: number;
}

/**
 * WAV bytes -> mono (mean over channels) audio at `sampleRate` Hz (band-limited resampling when
 * the file's rate differs). Throws WavError naming `name` for bad files.
 */
export function decodeClip(bytes: Uint8Array, name: string, sampleRate: number): { audio: Float32Array; info: ClipInfo } {
  const wav = decodeWav(bytes, name);
  const audio = wav.sampleRate === sampleRate ? wav.mono : resample(wav.mono, wav.sampleRate, sampleRate);
  return {
    audio,
    info: {
      sourceRate: wav.sampleRate,
      channels: wav.channels.length,
      bitsPerSample: wav.bitsPerSample,
      format: wav.format,
      duration: wav.mono.length / wav.sampleRate,
    },
  };
}

/** ingest/report.json */
export interface IngestReport {
  /** WAV files found under data.dir */
  files: number;
  /** rows written to clips.arrow */
  ingested: number;
  /** files left out (only with ingest.on_error: skip), in file order; `file` relative to data.dir */
  skipped: { file: string; reason: string }[];
  /** ingested clips per emotion name */
  by_emotion: Record<string, number>;
  sample_rate: number;
  /** ingested files with more than one channel (averaged to mono), relative to data.dir */
  multichannel: string[];
  /** ingested files whose sample rate differed from sample_rate (resampled) */
  resampled: number;
  /** shortest and longest ingested clip in seconds (at the source rate) */
  duration_s: { min: number; max: number };
}

export function emptyReport(files: number, sampleRate: number): IngestReport {
  return {
    files,
    ingested: 0,
    skipped: [],
    by_emotion: Object.fromEntries(EMOTIONS.map((e) => [e, 0])),
    sample_rate: sampleRate,
    multichannel: [],
    resampled: 0,
    duration_s: { min: 0, max: 0 },
  };
}

/** Adds one ingested clip to the report (mutates and returns it). */
export function addToReport(r: IngestReport, file: string, labels: ClipLabels, info: ClipInfo): IngestReport {
  const emotion = EMOTIONS[labels.emotion];
  if (emotion === undefined) throw new RangeError(`${file}: emotion index ${labels.emotion} is outside 0-${EMOTIONS.length - 1}`);
  r.duration_s = r.ingested === 0
    ? { min: info.duration, max: info.duration }
    : { min: Math.min(r.duration_s.min, info.duration), max: Math.max(r.duration_s.max, info.duration) };
  r.ingested += 1;
  r.by_emotion[emotion] = (r.by_emotion[emotion] ?? 0) + 1;
  if (info.channels > 1) r.multichannel.push(file);
  if (info.sourceRate !== r.sample_rate) r.resampled += 1;
  return r;
}
