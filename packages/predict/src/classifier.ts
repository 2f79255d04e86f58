// The API of @ser/predict: a trained model dir -> a classifier of WAV files and of samples in
// memory. ser-predict (predict.ts) is a thin edge over it.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeWav } from '@ser/audio';
import { loadModel, selectBackend, tf } from '@ser/model';
import {
  clipInputs,
  labelScores,
  meanProbabilities,
  modelWindow,
  modelNotes,
  parsePreprocess,
  parseProvenance,
  shortClipProblem,
  toModelRate,
  type EmotionScores,
  type ModelProvenance,
  type Preprocess,
  type WindowOptions,
} from './core.ts';
import { HEADER_BYTES, notWavProblem } from './formats.ts';

export interface PredictOptions extends WindowOptions {
  /** Throw a ShortClipError for audio shorter than the model's window, instead of a warning. */
  strict?: boolean;
}

export interface WindowPrediction extends EmotionScores {
  start_s: number; // where the window starts in the clip
  end_s: number; // start_s + the model's window (past the clip's end only for a clip shorter than one window)
}

export interface ClipPrediction extends EmotionScores {
  duration_s: number; // the clip's length
  warnings: string[]; // e.g. the clip is shorter than the model's window (zero padding)
  windows?: WindowPrediction[]; // with `windows`: each window; the clip's answer is their mean
}

/** Audio shorter than the model's window under `strict`. */
export class ShortClipError extends Error {
  readonly userError = true;
}

export interface Classifier {
  readonly modelDir: string;
  readonly preprocess: Preprocess;
  /** From `<model>/provenance.json`; null for a model trained before it was written. */
  readonly provenance: ModelProvenance | null;
  /** What every user of this model should be told (synthetic training data, unknown origin). */
  readonly notes: string[];
  readonly backend: string;
  readonly emotions: readonly string[];
  predictFile(path: string, opts?: PredictOptions): Promise<ClipPrediction>;
  predictSamples(samples: Float32Array, sampleRate: number, opts?: PredictOptions): Promise<ClipPrediction>;
  dispose(): void;
}

export interface LoadOptions {
  /** tfjs backend: auto (default) | wasm | cpu | ... (selectBackend of @ser/model; one per process). */
  backend?: string;
  /** Where the backend choice is reported (default: nowhere). */
  log?: (line: string) => void;
  /** Rows per inference batch with many windows: memory only, results do not depend on it. */
  batchSize?: number;
}

/** Loads `<modelDir>` (model.json, weights.bin, preprocess.json, provenance.json from ser-train). */
export async function loadClassifier(modelDir: string, opts: LoadOptions = {}): Promise<Classifier> {
  if (!existsSync(join(modelDir, 'model.json'))) throw new Error(`${modelDir}: no model.json (a model dir written by ser-train has it)`);
  const prePath = join(modelDir, 'preprocess.json');
  if (!existsSync(prePath)) throw new Error(`${prePath}: missing (a model dir written by ser-train has it)`);
  const preprocess = parsePreprocess(await readFile(prePath, 'utf8'), prePath);
  const provPath = join(modelDir, 'provenance.json');
  const provenance = existsSync(provPath) ? parseProvenance(await readFile(provPath, 'utf8'), provPath) : null;
  const backend = (await selectBackend((opts.backend ?? 'auto') as Parameters<typeof selectBackend>[0], opts.log ?? (() => {}))).name;
  const model = await loadModel(modelDir);
  const batchSize = opts.batchSize ?? 32;
  const size = preprocess.input_shape.reduce((a, b) => a * b, 1);
  const emotions = preprocess.emotions;

  /** Class probabilities for `rows` inputs, in inference mode, `batchSize` rows at a time. */
  async function probabilities(inputs: Float32Array, rows: number): Promise<Float32Array> {
    const out = new Float32Array(rows * emotions.length);
    for (let s = 0; s < rows; s += batchSize) {
      const e = Math.min(rows, s + batchSize);
      const y = tf.tidy(() => model.predict(tf.tensor(inputs.subarray(s * size, e * size), [e - s, ...preprocess.input_shape])) as tf.Tensor);
      const p = (await y.data()) as Float32Array; // asynchronous: webgpu has no synchronous read
      y.dispose();
      if (p.length !== (e - s) * emotions.length) throw new Error(`model gives ${p.length / (e - s)} outputs, preprocess.json names ${emotions.length} emotions`);
      out.set(p, s * emotions.length);
    }
    return out;
  }

  async function predictSamples(samples: Float32Array, sampleRate: number, o: PredictOptions = {}): Promise<ClipPrediction> {
    if (!(samples.length > 0)) throw new Error('no audio samples');
    const audio = toModelRate(samples, sampleRate, preprocess);
    const short = shortClipProblem(audio.length, preprocess, o.windows ?? false);
    if (short && o.strict) throw new ShortClipError(short);
    const { inputs, starts } = clipInputs(audio, preprocess, o);
    const probs = await probabilities(inputs, starts.length);
    const C = emotions.length;
    const rate = preprocess.sample_rate;
    const length = modelWindow(preprocess).length;
    const result: ClipPrediction = {
      ...labelScores(meanProbabilities(probs, starts.length, C), emotions),
      duration_s: samples.length / sampleRate,
      warnings: short ? [short] : [],
    };
    if (o.windows) {
      result.windows = starts.map((start, i) => ({
        start_s: start / rate,
        end_s: (start + length) / rate,
        ...labelScores(probs.subarray(i * C, (i + 1) * C), emotions),
      }));
    }
    return result;
  }

  async function predictFile(path: string, o: PredictOptions = {}): Promise<ClipPrediction> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw new Error(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const notWav = notWavProblem(bytes.subarray(0, HEADER_BYTES), path);
    if (notWav) throw new Error(notWav);
    const wav = decodeWav(bytes, path);
    return predictSamples(wav.mono, wav.sampleRate, o);
  }

  return {
    modelDir,
    preprocess,
    provenance,
    notes: modelNotes(provenance, provPath),
    backend,
    emotions,
    predictFile,
    predictSamples,
    dispose: () => model.dispose(),
  };
}
