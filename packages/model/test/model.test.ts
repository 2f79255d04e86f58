// buildModel, setScaler, save/load, determinism, and the ser-model stage, on a tiny config.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  tf,
  EMOTIONS,
  buildModel,
  countParams,
  inputFrames,
  loadModel,
  saveModel,
  setDropoutStep,
  setScaler,
  modelConfigFrom,
  runModel,
  Conv2D,
  MultiHeadSelfAttention,
  type ModelConfig,
} from '../src/index.ts';

const tiny: ModelConfig = {
  channels: [2, 4, 4, 4],
  pool: { kind: 'max', size: [2, 2] },
  dropout: 0.4,
  cnn_dim: 8,
  transformer_pool: [2, 4],
  transformer_layers: 2,
  d_model: 8,
  heads: 2,
  ffn_dim: 16,
  transformer_dropout: 0.1,
  positional_encoding: 'sinusoidal',
  attention_dim: 6,
};
const input = { nMels: 16, frames: 37 };
const dir = mkdtempSync(join(tmpdir(), 'ser-model-test-'));

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const x = () => tf.randomNormal([3, input.nMels, input.frames], -40, 10, 'float32', 11);
const arr = (t: tf.Tensor | tf.Tensor[]): number[] => Array.from((t as tf.Tensor).dataSync());

describe('buildModel', () => {
  it('maps [B, nMels, frames] to softmax probabilities over the 8 emotions', () => {
    expect(EMOTIONS).toHaveLength(8);
    expect(EMOTIONS[0]).toBe('neutral');
    expect(EMOTIONS[7]).toBe('surprised');
    const m = buildModel(tiny, input, 1);
    expect(m.inputs[0]!.shape).toEqual([null, 16, 37]);
    const y = m.predict(x()) as tf.Tensor;
    expect(y.shape).toEqual([3, 8]);
    const p = arr(y);
    for (let b = 0; b < 3; b++) expect(p.slice(b * 8, b * 8 + 8).reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
    expect(m.layers[1]!.name).toBe('standardize');
    // One self-attention block per transformer layer (getLayer throws on a missing name, so count them).
    expect(m.layers.filter((l) => l instanceof MultiHeadSelfAttention).map((l) => l.name)).toEqual(['enc1_mhsa', 'enc2_mhsa']);
    expect(m.getLayer('enc2_mhsa').outputShape).toEqual([null, 9, 8]); // [T', d_model]
    expect(m.getLayer('cross_attention').outputShape).toEqual([null, 6]);
    expect(m.getLayer('f_all').outputShape).toEqual([null, 8 + 6]);
    expect(m.getLayer('tr_frames_first').outputShape).toEqual([null, 9, 8]); // frames/4 x mels/2
  });

  it('counts parameters (trainable excludes scaler and BN statistics)', () => {
    const m = buildModel(tiny, input, 1);
    const c = countParams(m);
    expect(c.total).toBe(m.countParams());
    const bnStats = m.layers.filter((l) => l.getClassName() === 'BatchNorm').reduce((a, l) => a + l.countParams() / 2, 0);
    expect(c.total - c.trainable).toBe(2 * 16 * 37 + bnStats);
  });

  it('is deterministic: same seed -> identical weight bytes, other seed -> different', async () => {
    await saveModel(buildModel(tiny, input, 42), join(dir, 'a'));
    await saveModel(buildModel(tiny, input, 42), join(dir, 'b'));
    await saveModel(buildModel(tiny, input, 43), join(dir, 'c'));
    const r = (d: string, f: string) => readFileSync(join(dir, d, f));
    expect(r('a', 'weights.bin').equals(r('b', 'weights.bin'))).toBe(true);
    expect(r('a', 'model.json').equals(r('b', 'model.json'))).toBe(true);
    expect(r('a', 'weights.bin').equals(r('c', 'weights.bin'))).toBe(false);
    expect(readdirSync(join(dir, 'a')).sort()).toEqual(['model.json', 'weights.bin']);
  });

  it('dropout is active in training only, reproducible via setDropoutStep', () => {
    const m = buildModel(tiny, input, 2);
    const xs = x();
    const p1 = arr(m.predict(xs) as tf.Tensor);
    expect(arr(m.predict(xs) as tf.Tensor)).toEqual(p1);
    const t1 = arr(m.apply(xs, { training: true }) as tf.Tensor);
    const t2 = arr(m.apply(xs, { training: true }) as tf.Tensor);
    expect(t1).not.toEqual(t2);
    setDropoutStep(m, 0);
    const m2 = buildModel(tiny, input, 2);
    expect(arr(m2.apply(xs, { training: true }) as tf.Tensor)).toEqual(t1);
  });
});

describe('setScaler', () => {
  it('standardizes inside the model and checks the size', () => {
    const m = buildModel(tiny, input, 3);
    const n = 16 * 37;
    const mean = new Float32Array(n).fill(-40);
    const scale = new Float32Array(n).fill(10);
    const xs = x();
    const manual = arr(m.predict(tf.div(tf.sub(xs, -40), 10)) as tf.Tensor);
    setScaler(m, mean, scale);
    const inside = arr(m.predict(xs) as tf.Tensor);
    inside.forEach((v, i) => expect(v).toBeCloseTo(manual[i]!, 5));
    expect(() => setScaler(m, new Float32Array(3), new Float32Array(3))).toThrow(/expected 592 values/);
  });
});

describe('saveModel / loadModel', () => {
  it('round-trips: identical predictions, weights and scaler (learned positions too)', async () => {
    const cfg: ModelConfig = { ...tiny, positional_encoding: 'learned' };
    const m = buildModel(cfg, input, 4);
    setScaler(m, new Float32Array(16 * 37).fill(-30), new Float32Array(16 * 37).fill(7));
    await saveModel(m, join(dir, 'rt'));
    const m2 = await loadModel(join(dir, 'rt'));
    const xs = x();
    expect(arr(m2.predict(xs) as tf.Tensor)).toEqual(arr(m.predict(xs) as tf.Tensor));
    expect(m2.weights.map((w) => w.originalName)).toEqual(m.weights.map((w) => w.originalName));
    expect(countParams(m2)).toEqual(countParams(m));
    // Saving the loaded model gives the same bytes.
    await saveModel(m2, join(dir, 'rt2'));
    expect(readFileSync(join(dir, 'rt2', 'weights.bin')).equals(readFileSync(join(dir, 'rt', 'weights.bin')))).toBe(true);
    expect(readFileSync(join(dir, 'rt2', 'model.json'), 'utf8')).toBe(readFileSync(join(dir, 'rt', 'model.json'), 'utf8'));
    // Convs are saved under tfjs's own class name and load as our (gradient-lean) subclass.
    const json = JSON.parse(readFileSync(join(dir, 'rt', 'model.json'), 'utf8')) as { modelTopology: unknown };
    expect(JSON.stringify(json.modelTopology)).toContain('"class_name":"Conv2D"');
    expect(m2.getLayer('block1_conv1')).toBeInstanceOf(Conv2D);
  });
  it('names the file when the model is missing', async () => {
    await expect(loadModel(join(dir, 'nope'))).rejects.toThrow(/nope\/model\.json/);
  });
});

describe('model stage', () => {
  const params = {
    seed: 42,
    model: { ...tiny },
    ingest: { sample_rate: 16000 },
    segment: { duration: 0.6 },
    features: { n_mels: 16, hop_length: 256 },
  };
  it('frames = 1 + floor(round(duration * sr) / hop)', () => {
    expect(inputFrames(3, 48000, 256)).toBe(563);
    expect(inputFrames(3, 16000, 256)).toBe(188);
    expect(inputFrames(0.6, 16000, 256)).toBe(38);
  });
  it('writes model.json, weights.bin, summary.json; same params -> same bytes', async () => {
    const s = await runModel({ inputs: {}, outputs: { dir: join(dir, 'stage1') }, params: params, log: () => {} });
    await runModel({ inputs: {}, outputs: { dir: join(dir, 'stage2') }, params: params, log: () => {} });
    expect(s.input).toEqual({ nMels: 16, frames: 38 });
    expect(readdirSync(join(dir, 'stage1')).sort()).toEqual(['model.json', 'summary.json', 'weights.bin']);
    for (const f of ['model.json', 'summary.json', 'weights.bin']) {
      expect(readFileSync(join(dir, 'stage1', f)).equals(readFileSync(join(dir, 'stage2', f))), f).toBe(true);
    }
    const summary = JSON.parse(readFileSync(join(dir, 'stage1', 'summary.json'), 'utf8'));
    expect(summary.params.total).toBeGreaterThan(0);
    expect(summary.config.channels).toEqual(tiny.channels);
    const m = await loadModel(join(dir, 'stage1'));
    expect(m.inputs[0]!.shape).toEqual([null, 16, 38]);
  });
  it('rejects bad params naming the key, and writes nothing', async () => {
    expect(() => modelConfigFrom({ model: { ...tiny, heads: 3 } })).toThrow(/model\.heads/);
    expect(() => modelConfigFrom({ model: { ...tiny, positional_encoding: 'rope' } })).toThrow(/model\.positional_encoding/);
    expect(() => modelConfigFrom({ model: { ...tiny, channels: [] } })).toThrow(/model\.channels/);
    const big = { ...params, model: { ...tiny, pool: { kind: 'max', size: [4, 4] } } };
    await expect(runModel({ inputs: {}, outputs: { dir: join(dir, 'bad') }, params: big, log: () => {} })).rejects.toThrow(/model\.pool\.size/);
    expect(readdirSync(dir).some((f) => f.includes('bad'))).toBe(false);
  });
  it('CLI: one clear error line and exit 1 on a bad param', () => {
    const bin = join(import.meta.dirname, '..', 'bin', 'ser-model.mjs');
    const r = spawnSync(process.execPath, [bin, '--out-dir', join(dir, 'cli')], {
      env: { ...process.env, PIPELINE_PARAMS: JSON.stringify({ ...params, model: { ...tiny, dropout: 2 } }) },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('error:'))).toEqual([expect.stringMatching(/model\.dropout/)]);
    expect(readdirSync(dir).some((f) => f.includes('cli'))).toBe(false);
    const ok = execFileSync(process.execPath, [bin, '--out-dir', join(dir, 'cli')], {
      env: { ...process.env, PIPELINE_PARAMS: JSON.stringify(params) },
      encoding: 'utf8',
    });
    expect(ok).toMatch(/16 mels x 38 frames, \d+ parameters/);
  });
});
