// Test fixture: a tiny, learnable features dir (train/val/test/scaler.arrow with lineage
// metadata) and a tiny seeded paper-architecture model, written the way the upstream stages do.
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { buildModel, saveModel, type ModelConfig } from '@ser/model';
import { TensorFileWriter } from '@ser/tensor-io';
import { mulberry32 } from '../src/core.ts';

export const TINY_SHAPE = [8, 16] as const; // [n_mels, frames]

export const TINY_MODEL: ModelConfig = {
  channels: [2, 4],
  pool: { kind: 'max', size: [2, 2] },
  dropout: 0.4,
  cnn_dim: 8,
  transformer_pool: [2, 4],
  transformer_layers: 1,
  d_model: 8,
  heads: 2,
  ffn_dim: 8,
  transformer_dropout: 0.1,
  positional_encoding: 'sinusoidal',
  attention_dim: 8,
};

export const TINY_METADATA = {
  sample_rate: '16000',
  segment_offset: '0.5',
  segment_duration: '0.1',
  features: JSON.stringify({ n_fft: 256, win_length: 128, hop_length: 100, n_mels: 8, fmin: 0, fmax: 8000, ref: 'max', amin: 1e-10, top_db: 80 }),
};

const COLUMNS = [
  { name: 'id', type: 'utf8' as const },
  { name: 'actor', type: 'int32' as const },
  { name: 'gender', type: 'utf8' as const },
  { name: 'emotion', type: 'int32' as const },
  { name: 'intensity', type: 'int32' as const },
  { name: 'statement', type: 'int32' as const },
  { name: 'repetition', type: 'int32' as const },
];

/** Rows whose log-mel has a bright band at mel bin = emotion, plus noise: learnable in a few epochs. */
async function writeSplit(path: string, n: number, seed: number): Promise<void> {
  const [M, T] = TINY_SHAPE;
  const w = await TensorFileWriter.open(path, { columns: COLUMNS, shape: [M, T], metadata: TINY_METADATA });
  const rand = mulberry32(seed);
  for (let i = 0; i < n; i++) {
    const emotion = i % 8;
    const actor = 1 + (i % 24);
    const t = new Float32Array(M * T);
    for (let k = 0; k < t.length; k++) t[k] = -60 + 10 * rand();
    for (let f = 0; f < T; f++) t[emotion * T + f] = -20 + 5 * rand();
    await w.write({
      labels: {
        id: `03-01-0${emotion + 1}-0${1 + (i % 2)}-01-01-${String(actor).padStart(2, '0')}`,
        actor,
        gender: actor % 2 ? 'male' : 'female',
        emotion,
        intensity: 1 + ((i >> 3) % 2),
        statement: 1,
        repetition: 1,
      },
      tensor: t,
    });
  }
  await w.close();
}

/** Writes `<dir>/features/{train,val,test,scaler}.arrow` and `<dir>/init/` (untrained model). */
export async function writeFixture(dir: string, rows = { train: 32, val: 16, test: 16 }): Promise<{ features: string; init: string }> {
  const features = join(dir, 'features');
  const init = join(dir, 'init');
  await mkdir(features, { recursive: true });
  await writeSplit(join(features, 'train.arrow'), rows.train, 1);
  await writeSplit(join(features, 'val.arrow'), rows.val, 2);
  await writeSplit(join(features, 'test.arrow'), rows.test, 3);
  const [M, T] = TINY_SHAPE;
  const sw = await TensorFileWriter.open(join(features, 'scaler.arrow'), { columns: [{ name: 'id', type: 'utf8' }], shape: [M, T], metadata: TINY_METADATA });
  await sw.write({ labels: { id: 'mean' }, tensor: new Float32Array(M * T).fill(-50) });
  await sw.write({ labels: { id: 'scale' }, tensor: new Float32Array(M * T).fill(12) });
  await sw.close();
  await saveModel(buildModel(TINY_MODEL, { nMels: M, frames: T }, 42), init);
  return { features, init };
}

export const tinyParams = (over: Record<string, unknown> = {}) => ({
  seed: 42,
  data: { source: 'synthetic' },
  train: {
    backend: 'cpu',
    optimizer: 'sgd',
    lr: 0.05,
    momentum: 0.8,
    weight_decay: 0.001,
    betas: [0.9, 0.999],
    eps: 1e-8,
    schedule: 'constant',
    warmup: 0,
    label_smoothing: 0,
    spec_augment: null,
    clip_grad_norm: null,
    mixup: 0,
    ema: 0,
    batch_size: 8,
    max_epochs: 6,
    patience: 50,
    eval_batch_size: 16,
    steps_per_epoch: null,
    ...over,
  },
});

export interface TrainRun {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

const BIN = resolve(import.meta.dirname, '../bin/ser-train.mjs');

/** Runs the ser-train CLI on a fixture; `killAfter` SIGKILLs it as soon as stdout contains that text. */
export function runTrainCli(
  fx: { features: string; init: string },
  outDir: string,
  scratch: string,
  params: object,
  killAfter?: string,
  env: Record<string, string> = {},
): Promise<TrainRun> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [BIN, '--features', fx.features, '--init', fx.init, '--out-dir', outDir], {
      env: { ...process.env, PIPELINE_PROFILE: '', ...env, PIPELINE_PARAMS: JSON.stringify(params), PIPELINE_SCRATCH: scratch },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
      if (killAfter && stdout.includes(killAfter)) p.kill('SIGKILL');
    });
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code, signal) => res({ code, signal, stdout, stderr }));
  });
}
