// runEvaluate on a tiny saved model and a generated test.arrow: the written metrics agree
// with the model's own predictions, and the files have the documented fields.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EMOTIONS, buildModel, saveModel, tf } from '@ser/model';
import { TensorFileWriter } from '@ser/tensor-io';
import { provenanceFor } from '@ser/train';
import { runEvaluate } from '../src/stage.ts';

const M = 8;
const T = 16;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ser-eval-'));
  const model = buildModel(
    {
      channels: [2], pool: { kind: 'max', size: [2, 2] }, dropout: 0.4, cnn_dim: 8, transformer_pool: [2, 4],
      transformer_layers: 1, d_model: 8, heads: 2, ffn_dim: 8, transformer_dropout: 0.1,
      positional_encoding: 'sinusoidal', attention_dim: 8,
    },
    { nMels: M, frames: T },
    7,
  );
  await saveModel(model, join(dir, 'model'));
  // What the train stage writes beside the weights (the model card's inputs).
  await writeFile(join(dir, 'model', 'provenance.json'), JSON.stringify(provenanceFor({ seed: 42, data: { source: 'synthetic' }, train: { lr: 0.05, optimizer: 'sgd' } }, 'demo')));
  await writeFile(
    join(dir, 'model', 'preprocess.json'),
    JSON.stringify({ sample_rate: 16000, segment_offset: 0.5, segment_duration: 0.1, features: { n_fft: 256, hop_length: 100 }, input_shape: [M, T], emotions: [...EMOTIONS] }),
  );
  const w = await TensorFileWriter.open(join(dir, 'features', 'test.arrow'), {
    columns: [
      { name: 'id', type: 'utf8' }, { name: 'gender', type: 'utf8' },
      { name: 'emotion', type: 'int32' }, { name: 'intensity', type: 'int32' },
    ],
    shape: [M, T],
  });
  for (let i = 0; i < 40; i++) {
    const t = Float32Array.from({ length: M * T }, (_, k) => Math.sin(i * 1.7 + k * 0.3) * (1 + (i % 5)));
    await w.write({ labels: { id: `r${i}`, gender: i % 3 ? 'male' : 'female', emotion: i % 8, intensity: 1 + (i % 2) }, tensor: t });
  }
  await w.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runEvaluate', () => {
  it('writes metrics.json, confusion.json and per_emotion.json consistent with the model', async () => {
    const out = join(dir, 'evaluate');
    process.env['PIPELINE_PARAMS'] = '{"seed":42,"train":{"backend":"cpu"}}';
    const printed: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (printed.push(String(chunk)), true));
    try {
      await runEvaluate({ inputs: { features: join(dir, 'features'), model: join(dir, 'model') }, outputs: { dir: out }, params: { seed: 42, train: { backend: 'cpu' } }, batchSize: 7 });
    } finally {
      write.mockRestore();
      delete process.env['PIPELINE_PARAMS'];
    }
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    const confusion = JSON.parse(await readFile(join(out, 'confusion.json'), 'utf8'));
    const perEmotion = JSON.parse(await readFile(join(out, 'per_emotion.json'), 'utf8'));

    // Independent check: argmax of the saved model on all rows in one batch.
    const { loadModel } = await import('@ser/model');
    const model = await loadModel(join(dir, 'model'));
    const x: number[] = [];
    for (let i = 0; i < 40; i++) for (let k = 0; k < M * T; k++) x.push(Math.sin(i * 1.7 + k * 0.3) * (1 + (i % 5)));
    const pred = Array.from((tf.argMax(model.predict(tf.tensor(x, [40, M, T])) as tf.Tensor, -1).dataSync()));
    const correct = pred.filter((p, i) => p === i % 8).length;

    expect(metrics.accuracy).toBeCloseTo(correct / 40, 12);
    expect(metrics.correct).toBe(correct);
    expect(metrics.total).toBe(40);
    expect(metrics.samples).toEqual({ test: 40 });
    expect(metrics.backend).toBe('cpu');
    expect(metrics).not.toHaveProperty('backend_details');
    expect(metrics.seed).toBe(42);
    expect(metrics).not.toHaveProperty('params_hash'); // a run's params digest is in results/<profile>/.../run.json
    expect(Object.keys(metrics.per_emotion)).toEqual([...EMOTIONS]);
    expect(metrics.by_intensity.normal.total + metrics.by_intensity.strong.total).toBe(40);
    expect(metrics.by_gender.male.total).toBe(26);
    expect(metrics.by_gender.female.total).toBe(14);
    expect(metrics.by_gender.male.correct + metrics.by_gender.female.correct).toBe(correct);
    expect(confusion.labels).toEqual([...EMOTIONS]);
    expect(confusion.matrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(40);
    for (let i = 0; i < 40; i++) expect(confusion.matrix[i % 8][pred[i]!]).toBeGreaterThan(0);
    expect(perEmotion.map((r: { emotion: string }) => r.emotion)).toEqual([...EMOTIONS]);
    expect(perEmotion.reduce((s: number, r: { total: number }) => s + r.total, 0)).toBe(40);
    // Per emotion within each intensity and gender; the 'all' rows are metrics.json's by_intensity / by_gender.
    for (const [file, key, order] of [['by_intensity.json', 'intensity', ['normal', 'strong']], ['by_gender.json', 'gender', ['male', 'female']]] as const) {
      const rows = JSON.parse(await readFile(join(out, file), 'utf8')) as Record<string, string | number | null>[];
      expect(rows.map((r) => `${r['emotion']}/${r[key]}`)).toEqual([...EMOTIONS, 'all'].flatMap((e) => order.map((g) => `${e}/${g}`)));
      const all = rows.filter((r) => r['emotion'] === 'all').map(({ correct, total, accuracy }) => ({ correct, total, accuracy }));
      expect(all).toEqual(order.map((g) => metrics[`by_${key}`][g]));
      for (const e of EMOTIONS) expect(rows.filter((r) => r['emotion'] === e).reduce((s, r) => s + Number(r['correct']), 0)).toBe(metrics.per_emotion[e].correct);
    }

    // The log shows the confusion matrix as a table: emotion names across, one row per true emotion.
    const lines = printed.join('').split('\n');
    const at = lines.indexOf('confusion (rows: true emotion, columns: predicted):');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]!.trim().split(/\s{2,}/)).toEqual(['true \\ predicted', ...EMOTIONS, 'total']);
    EMOTIONS.forEach((e, i) => {
      const row = confusion.matrix[i] as number[];
      expect(lines[at + 2 + i]!.trim().split(/\s+/)).toEqual([e, ...row.map(String), String(row.reduce((a, b) => a + b, 0))]);
    });
  });

  /** runEvaluate into `out` with the stage log silenced; returns the text of `file` there. */
  const quietRunFile = async (out: string, file: string): Promise<string> => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await runEvaluate({ inputs: { features: join(dir, 'features'), model: join(dir, 'model') }, outputs: { dir: out }, params: { seed: 42, train: { backend: 'cpu' } } });
    } finally {
      write.mockRestore();
    }
    return readFile(join(out, file), 'utf8');
  };

  it('writes MODEL_CARD.md: source, licence, warning, params, metrics by emotion; deterministic', async () => {
    const run = (out: string) => quietRunFile(out, 'MODEL_CARD.md');
    const card = await run(join(dir, 'card-a'));
    const metrics = JSON.parse(await readFile(join(dir, 'card-a', 'metrics.json'), 'utf8'));
    expect(card).toMatch(/^# Model card: speech emotion recognition \(profile demo\)\n/);
    expect(card).toContain('**Warning: this model was trained on synthetic audio (profile demo); its predictions on real speech are meaningless.**');
    expect(card).toContain('- Source: `synthetic`: A generated RAVDESS-shaped corpus');
    expect(card).toMatch(/- Licence of the training data: none: .*no licence restriction\./);
    expect(card).toContain('| `train.lr` | `0.05` |');
    expect(card).toMatch(/params sha256 `[0-9a-f]{64}`/);
    expect(card).toContain(`Accuracy ${(metrics.accuracy * 100).toFixed(2)}% (${metrics.correct}/40; chance 12.50%)`);
    for (const e of EMOTIONS) {
      const r = metrics.per_emotion[e];
      expect(card).toContain(`| ${e} | ${r.correct} / ${r.total} | ${r.precision.toFixed(3)} | ${r.recall.toFixed(3)} | ${r.f1.toFixed(3)} |`);
    }
    expect(card).toContain('## Intended use and limitations');
    expect(await run(join(dir, 'card-b'))).toBe(card);
  });

  it('writes report.html: the plots and metrics of this run in one offline page; deterministic', async () => {
    const run = (out: string) => quietRunFile(out, 'report.html');
    const html = await run(join(dir, 'report-a'));
    const metrics = JSON.parse(await readFile(join(dir, 'report-a', 'metrics.json'), 'utf8'));
    expect(html).toContain('<title>Evaluation report (profile demo)</title>');
    for (const t of ['Confusion matrix (test)', 'Recall and F1 per emotion (test)', 'Accuracy by emotion and intensity (test)', 'Accuracy by emotion and gender (test)']) expect(html).toContain(`<h2>${t}</h2>`);
    expect(html).toContain(`<tr><td>correct / total</td><td>${metrics.correct} / 40</td></tr>`);
    const charts = JSON.parse(/<script type="application\/json" id="report-charts">(.*?)<\/script>/s.exec(html)![1]!) as { spec: { data: { values: { count?: number }[] } } }[];
    expect(charts).toHaveLength(4);
    expect(charts[0]!.spec.data.values.map((c) => c.count)).toEqual(metrics.confusion.flat());
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(await run(join(dir, 'report-b'))).toBe(html);
  });

  it('names a model dir without provenance.json before evaluating, and writes nothing', async () => {
    const bare = join(dir, 'bare-model');
    const { loadModel, saveModel: save } = await import('@ser/model');
    await save(await loadModel(join(dir, 'model')), bare);
    const out = join(dir, 'e3');
    await expect(
      runEvaluate({ inputs: { features: join(dir, 'features'), model: bare }, outputs: { dir: out }, params: { seed: 1, train: { backend: 'cpu' } } }),
    ).rejects.toThrow(/bare-model\/provenance\.json: cannot read \(ENOENT\); the train stage writes it, re-run it/);
    expect(existsSync(out)).toBe(false);
  });

  it('names a missing test file', async () => {
    await expect(
      runEvaluate({ inputs: { features: join(dir, 'nope'), model: join(dir, 'model') }, outputs: { dir: join(dir, 'e2') }, params: { seed: 1, train: { backend: 'cpu' } } }),
    ).rejects.toThrow(/nope\/test\.arrow: missing/);
    expect(existsSync(join(dir, 'e2'))).toBe(false);
  });
});
