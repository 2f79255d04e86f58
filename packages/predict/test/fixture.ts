// Test fixture: a tiny saved model dir as ser-train writes it (model.json, weights.bin,
// preprocess.json, provenance.json from @ser/train's own provenanceFor), and WAV makers.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { computeLogMel, featureParamsFrom } from '@ser/features';
import { EMOTIONS, buildModel, saveModel } from '@ser/model';
import { provenanceFor } from '@ser/train';
import type { Preprocess } from '../src/core.ts';

export const FEATURES = { n_fft: 256, win_length: 128, hop_length: 100, n_mels: 8, fmin: 0, fmax: 8000, ref: 'max', amin: 1e-10, top_db: 80, scaler: 'per_element' };

/** The tiny model's preprocessing: 16 kHz, a 0.1 s window at 0.5 s, 8 mels. */
export function tinyPreprocess(): Preprocess {
  const frames = computeLogMel(new Float32Array(1600), 16000, featureParamsFrom({ features: FEATURES })).length / 8;
  return { sample_rate: 16000, segment_offset: 0.5, segment_duration: 0.1, features: FEATURES as never, input_shape: [8, frames], emotions: [...EMOTIONS] };
}

/** Writes a tiny untrained model dir; `source` null leaves provenance.json out (an older model). */
export async function writeTinyModel(dir: string, source: 'synthetic' | 'ravdess' | null, profile = 'demo'): Promise<string> {
  const pre = tinyPreprocess();
  const model = buildModel(
    {
      channels: [2], pool: { kind: 'max', size: [2, 2] }, dropout: 0.4, cnn_dim: 8, transformer_pool: [2, 4], transformer_layers: 1,
      d_model: 8, heads: 2, ffn_dim: 8, transformer_dropout: 0.1, positional_encoding: 'sinusoidal', attention_dim: 8,
    },
    { nMels: 8, frames: pre.input_shape[1]! },
    3,
  );
  await saveModel(model, dir);
  await writeFile(join(dir, 'preprocess.json'), JSON.stringify(pre));
  if (source) await writeFile(join(dir, 'provenance.json'), JSON.stringify(provenanceFor({ seed: 42, data: { source }, train: { lr: 0.05 } }, profile)));
  return dir;
}

/** A tone with a little texture, `seconds` long at `rate`. */
export const tone = (hz: number, rate: number, seconds: number) =>
  Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => 0.3 * Math.sin((2 * Math.PI * hz * i) / rate) + 0.01 * Math.sin(i * 0.37));

export async function ensureDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}
