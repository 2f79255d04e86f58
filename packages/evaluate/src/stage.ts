// The evaluate stage's edge: load the trained model and test.arrow, predict, write the metrics
// and plot files. The arithmetic lives in core.ts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EMOTIONS, countParams, inferBatches, loadModel, selectBackendParam, tf } from '@ser/model';
import { readTensorFile } from '@ser/tensor-io';
import { UserError, getParam, num, stageLog, str, writeFileAtomic, writeJsonAtomic, type StageArgs } from '@ser/stage-kit';
import { readModelJson, renderModelCard, type CardInputs } from './card.ts';
import { accuracyBy, accuracyByClassAndGroup, confusionMatrix, formatConfusion, intensityName, metricsFromConfusion, type Tally } from './core.ts';
import { renderEvaluateReport } from './report.ts';

/**
 * inputs: `features` (dir with test.arrow), `model` (train/model dir); outputs: `dir` (writes
 * metrics.json, confusion.json, per_emotion.json, by_intensity.json, by_gender.json, MODEL_CARD.md,
 * report.html).
 */
export interface EvaluateStageArgs extends StageArgs<'features' | 'model', 'dir'> {
  /** Inference batch, rows (memory only; results do not depend on it). Default 32. */
  batchSize?: number;
}

/** Runs the model in inference mode (training=false) over `data` rows: argmax and the mean
 * cross-entropy against `y`. */
export async function predictAll(model: tf.LayersModel, data: Float32Array, count: number, y: Int32Array, batchSize: number) {
  const shape = model.inputs[0]!.shape.slice(1) as number[];
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count * size) throw new UserError(`test features have ${data.length / Math.max(1, count)} values per row, the model expects [${shape}]`);
  const pred = new Int32Array(count);
  let lossSum = 0;
  const batch = (s: number, e: number) => tf.tensor(data.subarray(s * size, e * size), [e - s, ...shape]);
  await inferBatches(model, count, batchSize, batch, async (out, s, e) => {
    const probs = (await out.data()) as Float32Array; // asynchronous: webgpu in Node has no dataSync
    const C = probs.length / (e - s);
    for (let i = 0; i < e - s; i++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (probs[i * C + c]! > probs[i * C + best]!) best = c;
      pred[s + i] = best;
      lossSum -= Math.log(Math.max(probs[i * C + y[s + i]!]!, 1e-7));
    }
  });
  return { pred, loss: count > 0 ? lossSum / count : NaN };
}

/** The evaluate stage: the trained model on test.arrow -> metrics, plots and the model card (params train.backend, seed). */
export async function runEvaluate(a: EvaluateStageArgs) {
  const log = stageLog(a);
  const { features, model: modelDir } = a.inputs;
  const { dir: outDir } = a.outputs;
  const backendName = getParam(a.params, 'train.backend', str());
  const seed = getParam(a.params, 'seed', num({ integer: true }));
  const choice = await selectBackendParam(backendName, 'train.backend', log);
  const sel = choice.name;

  const testFile = join(features, 'test.arrow');
  if (!existsSync(testFile)) throw new UserError(`${testFile}: missing (run the features stage first)`);
  if (!existsSync(join(modelDir, 'model.json'))) throw new UserError(`${modelDir}: no model.json (run the train stage first)`);
  // The model card's inputs, read before any work so that a model dir without them fails first.
  const provenance = (await readModelJson(modelDir, 'provenance.json')) as unknown as CardInputs['provenance'];
  const preprocess = (await readModelJson(modelDir, 'preprocess.json')) as unknown as CardInputs['preprocess'];
  let test;
  try {
    test = await readTensorFile(testFile, { columns: ['emotion', 'intensity', 'gender'] });
  } catch (e) {
    throw new UserError(`${testFile}: ${(e as Error).message}`);
  }
  if (test.count === 0) throw new UserError(`${testFile}: no rows`);
  let model;
  try {
    model = await loadModel(modelDir);
  } catch (e) {
    throw new UserError(`${modelDir}: ${(e as Error).message}`);
  }
  const yTrue = Int32Array.from(test.labels['emotion']!, Number);
  const { pred, loss } = await predictAll(model, test.data, test.count, yTrue, a.batchSize ?? 32);

  const m = metricsFromConfusion(confusionMatrix(yTrue, pred, EMOTIONS.length), EMOTIONS);
  const intensity = test.labels['intensity']!.map((v) => intensityName(Number(v)));
  const gender = test.labels['gender']!.map(String);
  const perEmotion = m.per_class.map((c) => ({
    emotion: c.label,
    correct: c.correct,
    total: c.total,
    accuracy: c.accuracy,
    precision: c.precision,
    recall: c.recall,
    f1: c.f1,
    predicted: c.predicted,
  }));
  const metrics = {
    accuracy: m.accuracy,
    correct: m.correct,
    total: m.total,
    test_loss: loss,
    macro: m.macro,
    weighted: m.weighted,
    per_emotion: Object.fromEntries(perEmotion.map(({ emotion, ...rest }) => [emotion, rest])),
    by_intensity: accuracyBy(yTrue, pred, intensity, ['normal', 'strong']) as Record<string, Tally>,
    by_gender: accuracyBy(yTrue, pred, gender, ['male', 'female']) as Record<string, Tally>,
    confusion: m.confusion,
    labels: [...EMOTIONS],
    samples: { test: test.count },
    backend: sel,
    ...(choice.details['adapter'] ? { backend_details: { adapter: choice.details['adapter'] } } : {}),
    seed,
  };
  // Per emotion within each intensity / gender (the paper's Figs. 6-7), rows for `plots show`.
  const byGroup = (key: string, values: string[], order: string[]) =>
    accuracyByClassAndGroup(yTrue, pred, values, EMOTIONS, order).map(({ label, group, ...t }) => ({ emotion: label, [key]: group, ...t }));
  const files = {
    confusion: { labels: [...EMOTIONS], matrix: m.confusion, axes: 'rows: true emotion, columns: predicted' },
    perEmotion,
    byIntensity: byGroup('intensity', intensity, ['normal', 'strong']),
    byGender: byGroup('gender', gender, ['male', 'female']),
  };
  await writeJsonAtomic(join(outDir, 'confusion.json'), files.confusion);
  await writeJsonAtomic(join(outDir, 'per_emotion.json'), perEmotion);
  await writeJsonAtomic(join(outDir, 'by_intensity.json'), files.byIntensity);
  await writeJsonAtomic(join(outDir, 'by_gender.json'), files.byGender);
  await writeFileAtomic(
    join(outDir, 'report.html'),
    renderEvaluateReport({ profile: provenance.profile, accuracy: m.accuracy, correct: m.correct, total: m.total, macroF1: m.macro.f1, testLoss: loss, files }),
  );
  const card = renderModelCard({
    provenance,
    preprocess,
    paramCount: countParams(model),
    test: { accuracy: m.accuracy, correct: m.correct, total: m.total, macroF1: m.macro.f1, perEmotion },
  });
  await writeFileAtomic(join(outDir, 'MODEL_CARD.md'), card);
  await writeJsonAtomic(join(outDir, 'metrics.json'), metrics); // last: its presence means the stage finished
  log(
    `evaluate: test accuracy ${(m.accuracy! * 100).toFixed(2)}% (${m.correct}/${m.total}), macro F1 ${m.macro.f1.toFixed(4)}, ` +
      `chance 12.50%; backend ${sel}`,
  );
  for (const c of perEmotion) log(`  ${c.emotion.padEnd(9)} ${String(c.correct).padStart(4)}/${String(c.total).padEnd(4)} ${c.accuracy == null ? '  n/a' : (c.accuracy * 100).toFixed(2)}%`);
  log('confusion (rows: true emotion, columns: predicted):');
  for (const l of formatConfusion(m.confusion, EMOTIONS)) log(`  ${l}`);
  return metrics;
}
