// ser-predict's edge: flags -> checked inputs -> loadClassifier -> one line (or JSON) per file.
// Inputs are checked before the model loads; per-file errors do not stop the rest.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadClassifier, ShortClipError, type Classifier, type ClipPrediction } from './classifier.ts';
import { defaultModelDir, describeProvenance, formatPrediction, type PredictArgs } from './core.ts';
import { checkInputs } from './inputs.ts';

export interface PredictIo {
  out: (line: string) => void; // results (stdout)
  err: (line: string) => void; // notes, warnings and errors (stderr)
}

export type PredictResult = ({ file: string } & ClipPrediction) | { file: string; error: string };

/** Runs the predictions; returns the exit code (0 all ok, 1 any file failed, 2 setup error). */
export async function runPredict(args: PredictArgs, io: PredictIo): Promise<number> {
  if (args.inputs.length === 0) {
    io.err('error: no WAV files given (usage: ser-predict <file.wav | folder ...> [--model dir] [--json])');
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

  // Every input is checked before the model loads: a typo costs no model loading.
  const checked = await checkInputs(args.inputs);
  for (const n of checked.notes) io.err(n);
  for (const f of checked.files) if (f.error) io.err(`error: ${f.error}`);
  const results: PredictResult[] = [];
  const finish = () => {
    if (args.json) io.out(JSON.stringify(results, null, 2));
    return results.some((r) => 'error' in r) ? 1 : 0;
  };
  if (checked.files.every((f) => f.error)) {
    results.push(...checked.files.map((f) => ({ file: f.file, error: f.error! })));
    return finish();
  }

  let clf: Classifier;
  try {
    clf = await loadClassifier(modelDir, { backend: args.backend, log: (m) => io.err(m) });
  } catch (e) {
    io.err(`error: ${(e as Error).message}`);
    return 2;
  }
  if (clf.provenance) io.err(`model: ${modelDir}: ${describeProvenance(clf.provenance)}`);
  for (const n of clf.notes) io.err(`note: ${n}`);

  const opts = { windows: args.windows, ...(args.hop !== null ? { hop: args.hop } : {}), strict: args.strict };
  for (const { file, error } of checked.files) {
    if (error) {
      results.push({ file, error });
      continue;
    }
    try {
      const p = await clf.predictFile(file, opts);
      for (const w of p.warnings) io.err(`warning: ${file}: ${w}`);
      results.push({ file, ...p });
      if (!args.json) {
        io.out(formatPrediction(file, p) + (p.windows ? `  [mean of ${p.windows.length} window${p.windows.length > 1 ? 's' : ''}]` : ''));
        for (const w of p.windows ?? []) io.out(`  ${w.start_s.toFixed(2)}-${w.end_s.toFixed(2)} s: ${w.emotion} ${(w.confidence * 100).toFixed(1)}%`);
      }
    } catch (e) {
      const msg = (e as Error).message;
      const error = e instanceof ShortClipError ? `${file}: ${msg} (refused: --strict)` : msg.includes(file) ? msg : `${file}: ${msg}`;
      results.push({ file, error });
      io.err(`error: ${error}`);
    }
  }
  clf.dispose();
  return finish();
}
