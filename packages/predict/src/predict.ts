// ser-predict's edge: files, model loading, backend, output. Per-file errors do not stop the rest.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModel, selectBackend, tf } from '@ser/model';
import { defaultModelDir, formatPrediction, labelPrediction, parsePreprocess, wavToLogMel, type Prediction, type PredictArgs } from './core.ts';

export interface PredictIo {
  out: (line: string) => void; // results (stdout)
  err: (line: string) => void; // notes and errors (stderr)
}

export type PredictResult = Prediction | { file: string; error: string };

/** Runs the predictions; returns the exit code (0 all ok, 1 any file failed, 2 setup error). */
export async function runPredict(args: PredictArgs, io: PredictIo): Promise<number> {
  if (args.wavs.length === 0) {
    io.err('error: no WAV files given (usage: ser-predict <file.wav ...> [--model dir] [--json])');
    return 2;
  }
  let modelDir = args.model;
  if (modelDir == null) {
    const d = defaultModelDir((dir) => existsSync(join(dir, 'model.json')));
    if (!d) {
      io.err('error: no trained model: neither artifacts/train/model nor artifacts/demo/train/model exists (run the pipeline or pass --model)');
      return 2;
    }
    modelDir = d.dir;
    io.err(`model: ${d.dir} (${d.why})`);
  }
  const prePath = join(modelDir, 'preprocess.json');
  let pre;
  let model: tf.LayersModel;
  try {
    if (!existsSync(join(modelDir, 'model.json'))) throw new Error(`${modelDir}: no model.json`);
    if (!existsSync(prePath)) throw new Error(`${prePath}: missing (a model dir written by ser-train has it)`);
    pre = parsePreprocess(await readFile(prePath, 'utf8'), prePath);
    await selectBackend(args.backend as Parameters<typeof selectBackend>[0], (m) => io.err(m));
    model = await loadModel(modelDir);
  } catch (e) {
    io.err(`error: ${(e as Error).message}`);
    return 2;
  }
  const results: PredictResult[] = [];
  for (const file of args.wavs) {
    try {
      let bytes: Uint8Array;
      try {
        bytes = await readFile(file);
      } catch (e) {
        throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      const mel = wavToLogMel(bytes, file, pre);
      const probs = tf.tidy(() => (model.predict(tf.tensor(mel, [1, ...pre.input_shape])) as tf.Tensor).dataSync() as Float32Array);
      const p = labelPrediction(file, probs, pre.emotions);
      results.push(p);
      if (!args.json) io.out(formatPrediction(p));
    } catch (e) {
      const msg = (e as Error).message;
      const error = msg.includes(file) ? msg : `${file}: ${msg}`;
      results.push({ file, error });
      io.err(`error: ${error}`);
    }
  }
  if (args.json) io.out(JSON.stringify(results, null, 2));
  return results.some((r) => 'error' in r) ? 1 : 0;
}
