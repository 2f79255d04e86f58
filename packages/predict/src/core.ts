// WAV bytes -> log-mel exactly as the pipeline made its training features (ingest: mono +
// resample, segment: window, features: log-mel), and probabilities -> a labelled prediction.
import { decodeWav, resample, segmentWindow } from '@ser/audio';
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

/**
 * One WAV file's bytes -> raw log-mel [n_mels, frames] row-major, the model's input.
 * Same steps and functions as ingest (mono mean, band-limited resample to `sample_rate`),
 * segment (window at `segment_offset` of `segment_duration`, zero-padded) and features.
 * Throws WavError (naming `name`) for a bad file.
 */
export function wavToLogMel(bytes: Uint8Array, name: string, pre: Preprocess): Float32Array {
  const wav = decodeWav(bytes, name);
  const audio = wav.sampleRate === pre.sample_rate ? wav.mono : resample(wav.mono, wav.sampleRate, pre.sample_rate);
  const seg = segmentWindow(audio, pre.sample_rate, pre.segment_offset, pre.segment_duration);
  const mel = computeLogMel(seg, pre.sample_rate, pre.features);
  const want = pre.input_shape.reduce((a, b) => a * b, 1);
  if (mel.length !== want) throw new Error(`${name}: log-mel has ${mel.length} values, the model expects [${pre.input_shape}]`);
  return mel;
}

export interface Prediction {
  file: string;
  emotion: string; // argmax class
  confidence: number; // its probability
  probabilities: Record<string, number>; // class name -> probability, in class order
}

export function labelPrediction(file: string, probs: ArrayLike<number>, emotions: readonly string[]): Prediction {
  if (probs.length !== emotions.length) throw new Error(`model gives ${probs.length} outputs, preprocess.json names ${emotions.length} emotions`);
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[best]!) best = i;
  const probabilities: Record<string, number> = {};
  emotions.forEach((e, i) => (probabilities[e] = probs[i]!));
  return { file, emotion: emotions[best]!, confidence: probs[best]!, probabilities };
}

/** One human-readable line: `clip.wav: happy 83.1%  (neutral 1.0%, calm 2.0%, ...)`, others by probability. */
export function formatPrediction(p: Prediction): string {
  const rest = Object.entries(p.probabilities)
    .filter(([e]) => e !== p.emotion)
    .sort((a, b) => b[1] - a[1])
    .map(([e, v]) => `${e} ${(v * 100).toFixed(1)}%`)
    .join(', ');
  return `${p.file}: ${p.emotion} ${(p.confidence * 100).toFixed(1)}%  (${rest})`;
}

export interface PredictArgs {
  wavs: string[];
  model: string | null; // null: pick the default
  json: boolean;
  backend: string;
  help: boolean;
}

export const USAGE = `usage: ser-predict <file.wav ...> [--model <train/model dir>] [--json] [--backend auto|wasm|cpu|...]
  --model    trained model dir (default: artifacts/train/model, else artifacts/demo/train/model)
  --json     one JSON document on stdout: [{file, emotion, confidence, probabilities} | {file, error}]
  --backend  tfjs backend (default auto)

examples:
  ser-predict data/RAVDESS/Actor_01/03-01-05-02-01-01-01.wav
  ser-predict clips/*.wav --model artifacts/demo/train/model --json`;

/** `ser-predict` argv: any number of WAV paths plus flags; unknown flags are an error. */
export function parsePredictArgs(argv: string[]): PredictArgs {
  const out: PredictArgs = { wavs: [], model: null, json: false, backend: 'auto', help: false };
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
    else if (flag === '--help' || flag === '-h') out.help = true;
    else if (a === '--') out.wavs.push(...argv.slice(i + 1)), (i = argv.length);
    else if (a.startsWith('-') && a !== '-') throw new Error(`unknown flag ${flag} (known: --model, --json, --backend)`);
    else out.wavs.push(a);
  }
  return out;
}

/** The default model dir: the full pipeline's if it exists, else the demo's. */
export function defaultModelDir(exists: (dir: string) => boolean): { dir: string; why: string } | null {
  if (exists('artifacts/train/model')) return { dir: 'artifacts/train/model', why: 'the full pipeline' };
  if (exists('artifacts/demo/train/model')) return { dir: 'artifacts/demo/train/model', why: 'the demo (no artifacts/train/model)' };
  return null;
}
