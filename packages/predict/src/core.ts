// Pure parts of @ser/predict: audio -> log-mel exactly as the pipeline made its training
// features (ingest: mono + resample, segment: window, features: log-mel), the windows, the
// model dir's JSON files, probabilities -> a labelled prediction, and ser-predict's flags.
import { resample, segmentWindow, windowLength, windowStart } from '@ser/audio';
import { computeLogMel, featureParamsFrom, type FeatureParams } from '@ser/features';

/** `train/model/preprocess.json`, written by the train stage from the features' lineage. */
export interface Preprocess {
  sample_rate: number; // Hz, the ingest rate
  segment_offset: number; // s
  segment_duration: number; // s
  features: FeatureParams; // the features params used (fmax resolved)
  input_shape: number[]; // [n_mels, frames]
  emotions: string[]; // class names, index = model output index
}

/** Parses and checks preprocess.json's content; `file` names the culprit in errors. */
export function parsePreprocess(json: string, file: string): Preprocess {
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(json);
  } catch (e) {
    throw new Error(`${file}: not JSON (${(e as Error).message})`);
  }
  for (const k of ['sample_rate', 'segment_offset', 'segment_duration'] as const) {
    if (typeof p[k] !== 'number' || !Number.isFinite(p[k])) throw new Error(`${file}: "${k}" must be a number`);
  }
  if (!Array.isArray(p['input_shape']) || !Array.isArray(p['emotions'])) throw new Error(`${file}: needs "input_shape" and "emotions" arrays`);
  let features: FeatureParams;
  try {
    features = featureParamsFrom({ features: p['features'] });
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  return { ...(p as unknown as Preprocess), features };
}

/** What ser-predict needs of `train/model/provenance.json` (written by the train stage). */
export interface ModelProvenance {
  source: string; // ravdess | synthetic
  profile: string;
  params_sha256: string;
  licence: string;
  warning: string | null; // told to every user of the model when set
}

/** Parses and checks provenance.json's content; `file` names the culprit in errors. */
export function parseProvenance(json: string, file: string): ModelProvenance {
  let p: { data?: Record<string, unknown>; profile?: unknown; params_sha256?: unknown };
  try {
    p = JSON.parse(json);
  } catch (e) {
    throw new Error(`${file}: not JSON (${(e as Error).message})`);
  }
  const d = p.data ?? {};
  const text = (v: unknown, key: string): string => {
    if (typeof v !== 'string' || v === '') throw new Error(`${file}: "${key}" must be a non-empty string`);
    return v;
  };
  if (d['warning'] !== null && typeof d['warning'] !== 'string') throw new Error(`${file}: "data.warning" must be a string or null`);
  return {
    source: text(d['source'], 'data.source'),
    profile: text(p.profile, 'profile'),
    params_sha256: text(p.params_sha256, 'params_sha256'),
    licence: text(d['licence'], 'data.licence'),
    warning: (d['warning'] as string | null) ?? null,
  };
}

/** What every user of the model must be told: the provenance's warning, or that there is none. */
export function modelNotes(provenance: ModelProvenance | null, provenancePath: string): string[] {
  if (!provenance) return [`${provenancePath} is missing (a model trained before provenance was recorded): where its training data came from is unknown`];
  return provenance.warning ? [provenance.warning] : [];
}

/** One line on a model's origin: `data: synthetic, profile demo, params sha256 0123456789ab`. */
export function describeProvenance(p: ModelProvenance): string {
  return `data: ${p.source}, profile ${p.profile}, params sha256 ${p.params_sha256.slice(0, 12)}`;
}

/** The model's window in samples at `pre.sample_rate`: where it starts and how long it is. */
export function modelWindow(pre: Preprocess): { start: number; length: number } {
  return { start: windowStart(pre.sample_rate, pre.segment_offset), length: windowLength(pre.sample_rate, pre.segment_duration) };
}

/** Mono audio at any rate -> the model's rate (the ingest stage's band-limited resampler). */
export function toModelRate(mono: Float32Array, sampleRate: number, pre: Preprocess): Float32Array {
  return sampleRate === pre.sample_rate ? mono : resample(mono, sampleRate, pre.sample_rate);
}

/** The model's input for a window of audio at the model's rate: log-mel [n_mels, frames] row-major. */
export function logMelOf(window: Float32Array, pre: Preprocess): Float32Array {
  const mel = computeLogMel(window, pre.sample_rate, pre.features);
  const want = pre.input_shape.reduce((a, b) => a * b, 1);
  if (mel.length !== want) throw new Error(`log-mel has ${mel.length} values, the model expects [${pre.input_shape}]`);
  return mel;
}

/**
 * Start samples of the windows `--windows` slides over `samples` of audio: the model's window
 * length every `hop` samples from 0, plus one window ending at the last sample when the hops
 * leave a tail uncovered. Audio shorter than one window gives one (zero-padded) window at 0.
 */
export function windowStarts(samples: number, length: number, hop: number): number[] {
  if (!(length >= 1 && hop >= 1)) throw new RangeError(`windowStarts: window ${length} and hop ${hop} must be >= 1 sample`);
  if (samples <= length) return [0];
  const starts: number[] = [];
  for (let s = 0; s + length <= samples; s += hop) starts.push(s);
  const last = starts[starts.length - 1]!;
  if (last + length < samples) starts.push(samples - length);
  return starts;
}

/** The window `audio[start, start + length)`, zero-padded past the end. */
export function sliceWindow(audio: Float32Array, start: number, length: number): Float32Array {
  const out = new Float32Array(length);
  out.set(audio.subarray(start, Math.min(audio.length, start + length)));
  return out;
}

export interface WindowOptions {
  /** Slide the model's window over the whole clip from 0 s (else: the training window at segment_offset). */
  windows?: boolean;
  /** Seconds between window starts with `windows` (default: half the model's window). */
  hop?: number;
}

/** The default hop of `--windows`: half the model's window, so each moment is seen by two windows. */
export const defaultHop = (pre: Preprocess): number => pre.segment_duration / 2;

/**
 * Mono audio at the model's rate -> the model inputs: one log-mel per window, concatenated
 * ([windows, n_mels, frames] row-major), and each window's start in samples. Without `windows`,
 * the one training window (segment_offset, segment_duration, zero-padded) as the segment stage cuts it.
 */
export function clipInputs(audio: Float32Array, pre: Preprocess, opts: WindowOptions = {}): { inputs: Float32Array; starts: number[] } {
  if (opts.hop !== undefined && !(Number.isFinite(opts.hop) && opts.hop > 0)) throw new RangeError(`hop must be a number of seconds > 0, got ${opts.hop}`);
  const w = modelWindow(pre);
  const cuts = opts.windows
    ? windowStarts(audio.length, w.length, Math.max(1, Math.round((opts.hop ?? defaultHop(pre)) * pre.sample_rate))).map((start) => ({ start, window: sliceWindow(audio, start, w.length) }))
    : [{ start: w.start, window: segmentWindow(audio, pre.sample_rate, pre.segment_offset, pre.segment_duration) }];
  const size = pre.input_shape.reduce((a, b) => a * b, 1);
  const inputs = new Float32Array(cuts.length * size);
  cuts.forEach((c, i) => inputs.set(logMelOf(c.window, pre), i * size));
  return { inputs, starts: cuts.map((c) => c.start) };
}

const secs = (x: number) => `${Number(x.toFixed(2))} s`;

/**
 * Why a clip of `samples` (at the model's rate) is too short for the model's window, or null.
 * The single-window mode needs `segment_offset + segment_duration` seconds (the window starts at
 * the offset, as in training); `--windows` needs `segment_duration` (its windows start at 0 s).
 */
export function shortClipProblem(samples: number, pre: Preprocess, windows: boolean): string | null {
  const w = modelWindow(pre);
  const rate = pre.sample_rate;
  if (windows) {
    if (samples >= w.length) return null;
    return `${secs(samples / rate)} is shorter than the model's window (${secs(pre.segment_duration)}): ${Math.round((100 * (w.length - samples)) / w.length)}% of it is zero padding`;
  }
  if (samples >= w.start + w.length) return null;
  const need = `the model's window (${secs(pre.segment_offset)} + ${secs(pre.segment_duration)} = ${secs(pre.segment_offset + pre.segment_duration)})`;
  const inWindow = Math.max(0, samples - w.start);
  const what =
    inWindow === 0
      ? `the window starts after the clip ends and holds no audio: the prediction describes silence`
      : `${Math.round((100 * (w.length - inWindow)) / w.length)}% of the window is zero padding`;
  const hint = samples >= w.length ? '; --windows reads it from 0 s without padding' : '';
  return `${secs(samples / rate)} is shorter than ${need}: ${what}${hint}`;
}

export interface EmotionScores {
  emotion: string; // argmax class
  confidence: number; // its probability
  probabilities: Record<string, number>; // class name -> probability, in class order
}

/** Class probabilities -> the most likely emotion, its probability and all of them by name. */
export function labelScores(probs: ArrayLike<number>, emotions: readonly string[]): EmotionScores {
  if (probs.length !== emotions.length) throw new Error(`model gives ${probs.length} outputs, preprocess.json names ${emotions.length} emotions`);
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[best]!) best = i;
  const probabilities: Record<string, number> = {};
  emotions.forEach((e, i) => (probabilities[e] = probs[i]!));
  return { emotion: emotions[best]!, confidence: probs[best]!, probabilities };
}

/** The mean over windows of `rows` probability vectors of `classes` values each (row-major). */
export function meanProbabilities(probs: Float32Array, rows: number, classes: number): Float32Array {
  const mean = new Float32Array(classes);
  for (let r = 0; r < rows; r++) for (let c = 0; c < classes; c++) mean[c] = mean[c]! + probs[r * classes + c]! / rows;
  return mean;
}

/** One human-readable line: `clip.wav: happy 83.1%  (neutral 1.0%, calm 2.0%, ...)`, others by probability. */
export function formatPrediction(file: string, p: EmotionScores): string {
  const rest = Object.entries(p.probabilities)
    .filter(([e]) => e !== p.emotion)
    .sort((a, b) => b[1] - a[1])
    .map(([e, v]) => `${e} ${(v * 100).toFixed(1)}%`)
    .join(', ');
  return `${file}: ${p.emotion} ${(p.confidence * 100).toFixed(1)}%  (${rest})`;
}

export interface PredictArgs {
  inputs: string[]; // WAV files and folders of WAV files
  model: string | null; // null: pick the default
  json: boolean;
  backend: string;
  windows: boolean; // slide the model's window over the whole clip
  hop: number | null; // s between window starts; null: half the window (windows only)
  strict: boolean; // refuse clips shorter than the model's window instead of warning
  help: boolean;
}

export const USAGE = `usage: ser-predict <file.wav | folder ...> [--model <train/model dir>] [--json] [--windows [--hop <s>]] [--strict] [--backend auto|wasm|cpu|...]
  --model    trained model dir (default: artifacts/train/model, else artifacts/demo/train/model)
  --json     one JSON document on stdout: [{file, emotion, confidence, probabilities, duration_s, warnings, windows?} | {file, error}]
  --windows  slide the model's window over the whole clip from 0 s and answer with the mean of the windows' probabilities
  --hop      seconds between window starts with --windows (default: half the model's window, 1.5 s for 3 s)
  --strict   refuse a clip shorter than the model's window (an error, exit 1) instead of a warning
  --backend  tfjs backend (default auto)
A folder stands for the .wav files directly inside it, in name order.

examples:
  ser-predict data/RAVDESS/Actor_01/03-01-05-02-01-01-01.wav
  ser-predict clips/*.wav --model artifacts/demo/train/model --json
  ser-predict recordings/ --windows --hop 1`;

/** `ser-predict` argv: any number of paths plus flags; unknown flags are an error. */
export function parsePredictArgs(argv: string[]): PredictArgs {
  const out: PredictArgs = { inputs: [], model: null, json: false, backend: 'auto', windows: false, hop: null, strict: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`flag ${flag} needs a value`);
      return v;
    };
    if (flag === '--model') out.model = value();
    else if (flag === '--backend') out.backend = value();
    else if (flag === '--json') out.json = true;
    else if (flag === '--windows') out.windows = true;
    else if (flag === '--strict') out.strict = true;
    else if (flag === '--hop') {
      const v = value();
      const hop = Number(v);
      if (!(Number.isFinite(hop) && hop > 0)) throw new Error(`flag --hop needs a number of seconds > 0, got '${v}'`);
      out.hop = hop;
    } else if (flag === '--help' || flag === '-h') out.help = true;
    else if (a === '--') out.inputs.push(...argv.slice(i + 1)), (i = argv.length);
    else if (a.startsWith('-') && a !== '-') throw new Error(`unknown flag ${flag} (known: --model, --json, --windows, --hop, --strict, --backend)`);
    else out.inputs.push(a);
  }
  if (out.hop !== null && !out.windows) throw new Error('flag --hop needs --windows');
  return out;
}

/** The default model dir: the full pipeline's if it exists, else the demo's. */
export function defaultModelDir(exists: (dir: string) => boolean): { dir: string; why: string } | null {
  if (exists('artifacts/train/model')) return { dir: 'artifacts/train/model', why: 'the full pipeline' };
  if (exists('artifacts/demo/train/model')) return { dir: 'artifacts/demo/train/model', why: 'the demo (no artifacts/train/model)' };
  return null;
}
