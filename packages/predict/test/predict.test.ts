// ser-predict on generated WAVs with a tiny saved model: labels + probabilities, the same
// log-mel path as the pipeline, and a bad WAV reported without stopping the others.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '@ser/audio';
import { computeLogMel, featureParamsFrom } from '@ser/features';
import { EMOTIONS, buildModel, saveModel, tf } from '@ser/model';
import { parsePredictArgs, wavToLogMel, type Preprocess } from '../src/core.ts';
import { runPredict } from '../src/predict.ts';

const BIN = resolve(import.meta.dirname, '../bin/ser-predict.mjs');
const FEATURES = { n_fft: 256, win_length: 128, hop_length: 100, n_mels: 8, fmin: 0, fmax: 8000, ref: 'max', amin: 1e-10, top_db: 80, scaler: 'per_element' };
let dir: string;
let pre: Preprocess;

const tone = (hz: number, rate: number, seconds: number) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => 0.3 * Math.sin((2 * Math.PI * hz * i) / rate) + 0.01 * Math.sin(i * 0.37));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ser-predict-'));
  const frames = computeLogMel(new Float32Array(1600), 16000, featureParamsFrom({ features: FEATURES })).length / 8;
  pre = { sample_rate: 16000, segment_offset: 0.5, segment_duration: 0.1, features: FEATURES as never, input_shape: [8, frames], emotions: [...EMOTIONS] };
  const model = buildModel(
    {
      channels: [2], pool: { kind: 'max', size: [2, 2] }, dropout: 0.4, cnn_dim: 8, transformer_pool: [2, 4], transformer_layers: 1,
      d_model: 8, heads: 2, ffn_dim: 8, transformer_dropout: 0.1, positional_encoding: 'sinusoidal', attention_dim: 8,
    },
    { nMels: 8, frames },
    3,
  );
  await saveModel(model, join(dir, 'model'));
  await writeFile(join(dir, 'model', 'preprocess.json'), JSON.stringify(pre));
  await mkdir(join(dir, 'wav'));
  // 44.1 kHz stereo: exercises mono mixing and resampling to 16 kHz.
  await writeFile(join(dir, 'wav', 'a.wav'), encodeWav([tone(440, 44100, 1), tone(660, 44100, 1)], { sampleRate: 44100 }));
  await writeFile(join(dir, 'wav', 'b.wav'), encodeWav([tone(1200, 16000, 0.4)], { sampleRate: 16000, format: 'float32' }));
  await writeFile(join(dir, 'wav', 'bad.wav'), new TextEncoder().encode('this is not a RIFF file at all'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ser-predict', () => {
  it('labels good WAVs, reports the bad one by name, and exits 1', async () => {
    await tf.setBackend('cpu');
    const out: string[] = [];
    const err: string[] = [];
    const files = ['a.wav', 'bad.wav', 'missing.wav', 'b.wav'].map((f) => join(dir, 'wav', f));
    const code = await runPredict({ wavs: files, model: join(dir, 'model'), json: true, backend: 'cpu', help: false }, { out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(code).toBe(1);
    const res = JSON.parse(out.join('\n'));
    expect(res.map((r: { file: string }) => r.file)).toEqual(files);
    for (const i of [0, 3]) {
      expect(EMOTIONS).toContain(res[i].emotion);
      const ps = Object.values(res[i].probabilities) as number[];
      expect(Object.keys(res[i].probabilities)).toEqual([...EMOTIONS]);
      expect(ps.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(res[i].confidence).toBe(Math.max(...ps));
    }
    expect(res[1].error).toContain('bad.wav');
    expect(res[2].error).toMatch(/missing\.wav: cannot read \(ENOENT\)/);
    expect(err.filter((l) => l.startsWith('error:'))).toHaveLength(2);
  });

  it('feeds the model the same log-mel as the pipeline path (resample -> segment -> features)', async () => {
    const { decodeWav, resample, segmentWindow } = await import('@ser/audio');
    const { readFile } = await import('node:fs/promises');
    const bytes = await readFile(join(dir, 'wav', 'a.wav'));
    const w = decodeWav(bytes, 'a.wav');
    const seg = segmentWindow(resample(w.mono, 44100, 16000), 16000, 0.5, 0.1);
    const want = computeLogMel(seg, 16000, featureParamsFrom({ features: FEATURES }));
    expect(wavToLogMel(bytes, 'a.wav', pre)).toEqual(want);
  });

  it('parses flags and WAV lists; the CLI prints one line per file', () => {
    expect(parsePredictArgs(['x.wav', '--json', '--model', 'm', 'y.wav', '--backend=cpu'])).toEqual({ wavs: ['x.wav', 'y.wav'], model: 'm', json: true, backend: 'cpu', help: false });
    expect(() => parsePredictArgs(['--nope'])).toThrow(/unknown flag --nope/);
    const r = spawnSync(process.execPath, [BIN, join(dir, 'wav', 'a.wav'), join(dir, 'wav', 'bad.wav'), '--model', join(dir, 'model'), '--backend', 'cpu'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`a\\.wav: (${EMOTIONS.join('|')}) \\d+\\.\\d%`));
    expect(r.stderr).toMatch(/error: .*bad\.wav/);
  });
});
