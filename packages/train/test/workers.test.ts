// Data-parallel gradients (train.workers): worker processes give byte-identical training to the
// in-process passes, and a failing worker surfaces as one clear error with every worker ended
// and its pass files removed.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildModel, selectBackend, setScaler, tf } from '@ser/model';
import { localGradients, mulberry32, readWeights, train, type Dataset, type TrainConfig } from '../src/core.ts';
import { passFilesParent, resolveWorkers, workerGradients, WorkerGradientsError } from '../src/workers.ts';
import { tensorFromScratch } from '../src/scratch.ts';
import { runTrainCli, TINY_MODEL, TINY_SHAPE, tinyParams, writeFixture } from './fixture.ts';

await selectBackend('wasm');
const [M, T] = TINY_SHAPE;

function dataset(count: number, seed: number): Dataset {
  const rand = mulberry32(seed);
  const x = new Float32Array(count * M * T);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    y[i] = i % 8;
    for (let k = 0; k < M * T; k++) x[i * M * T + k] = -60 + 10 * rand();
    for (let f = 0; f < T; f++) x[i * M * T + y[i]! * T + f] = -20 + 5 * rand();
  }
  return { x, y, count, rowSize: M * T };
}

/** The fixture's tiny paper network: BatchNorm in every block, dropout 0.4 and 0.1. */
function tinyModel() {
  const model = buildModel(TINY_MODEL, { nMels: M, frames: T }, 42);
  setScaler(model, new Float32Array(M * T).fill(-50), new Float32Array(M * T).fill(12));
  return model;
}

// 19 rows in batches of 8: 8, 8, 3 rows; micro-batches of 3: 3 + 3 + 2 passes, then 1 pass.
const CFG: TrainConfig = {
  optimizer: 'sgd', lr: 0.05, momentum: 0.8, weightDecay: 1e-3, betas: [0.9, 0.999], eps: 1e-8, schedule: 'constant', warmup: 0,
  labelSmoothing: 0.1, batchSize: 8, microBatch: 3, maxEpochs: 2, patience: 10, seed: 7, evalBatchSize: 16,
};
const trainSet = dataset(19, 1);
const valSet = dataset(8, 2);
const bytes = (ws: Float32Array[]) => ws.map((w) => Buffer.from(w.buffer, w.byteOffset, w.byteLength).toString('base64'));

describe('workerGradients', () => {
  it.each([
    ['', CFG],
    // The CPU profile's recipe (AdamW, mixup, SpecAugment, the weight average): with workers, not a bit changes.
    [
      ' (AdamW, mixup targets, SpecAugment, weight average)',
      { ...CFG, optimizer: 'adamw', mixup: 0.4, ema: 0.9, specAugment: { freq_masks: 1, freq_width: 2, time_masks: 1, time_width: 2 } },
    ],
  ] as [string, TrainConfig][])('trains to byte-identical weights (BN statistics included) and history with 2 workers as in-process%s', async (_, cfg) => {
    const opts = { maskFill: new Float32Array(M * T).fill(-50) };
    const local = tinyModel();
    const a = await train(local, trainSet, valSet, cfg, null, () => {}, opts);

    const model = tinyModel();
    const src = await workerGradients(model, { microBatch: 3, labelSmoothing: 0.1, workers: 2, backend: 'wasm' });
    // The pass files' names are gone once the workers hold them open: nothing can outlive the run.
    expect(existsSync(src.dir)).toBe(false);
    let b;
    try {
      b = await train(model, trainSet, valSet, cfg, null, () => {}, { ...opts, gradients: src });
    } finally {
      await src.dispose();
    }
    expect(src.alive()).toBe(0);
    expect(b.state.history).toEqual(a.state.history);
    expect(bytes(await readWeights(model))).toEqual(bytes(await readWeights(local)));
    expect(bytes(b.state.bestWeights)).toEqual(bytes(a.state.bestWeights));
    expect(bytes(b.state.buffers)).toEqual(bytes(a.state.buffers));
    expect(bytes(b.state.ema)).toEqual(bytes(a.state.ema));
    // The run did train (not a vacuous comparison of untouched weights).
    expect(bytes(await readWeights(model))).not.toEqual(bytes(await readWeights(tinyModel())));
  });

  it('gives in-process gradients for batches of 2, 8 and 5 rows (1, 3 and 2 passes: the pass files grow)', async () => {
    const local = localGradients(tinyModel(), { microBatch: 3 });
    const src = await workerGradients(tinyModel(), { microBatch: 3, workers: 2, backend: 'wasm' });
    try {
      let first = 0;
      for (const rows of [2, 8, 5]) {
        const x = trainSet.x.slice(0, rows * M * T);
        const t = { y: trainSet.y.slice(0, rows) };
        const [a, b] = [await local.compute(x, t, rows, first), await src.compute(x, t, rows, first)];
        first += Math.ceil(rows / 3);
        expect(b.loss).toBe(a.loss);
        expect(bytes(b.grads.map((g) => g.dataSync() as Float32Array))).toEqual(bytes(a.grads.map((g) => g.dataSync() as Float32Array)));
        tf.dispose([...a.grads, ...b.grads]);
      }
    } finally {
      await src.dispose();
    }
  });

  it.each([
    ['throw', /gradient worker 2\/2 failed: injected fault at pass 4/],
    ['exit', /gradient worker 2\/2 failed: process exited unexpectedly \(exit code 3\)/],
  ] as const)('a worker that fails (%s) rejects training with a clear error and ends every worker', async (kind, message) => {
    const model = tinyModel();
    // Batch 1 runs passes 0-2, batch 2 passes 3-5: pass 4 is its k = 1, on worker k mod 2 = the 2nd.
    const src = await workerGradients(model, { microBatch: 3, workers: 2, backend: 'wasm', fault: { pass: 4, kind } });
    const run = train(model, trainSet, valSet, { ...CFG, maxEpochs: 1 }, null, () => {}, { gradients: src });
    await expect(run).rejects.toThrow(WorkerGradientsError);
    await expect(run).rejects.toThrow(message);
    await src.dispose();
    expect(src.alive()).toBe(0);
    await expect(src.compute(trainSet.x.slice(0, M * T), { y: trainSet.y.slice(0, 1) }, 1, 0)).rejects.toThrow(message);
  });
});

describe('tensorFromScratch', () => {
  it.each(['wasm', 'cpu'])('on %s, the tensor keeps its values when the buffer is rewritten', async (backend) => {
    await tf.setBackend(backend);
    try {
      const view = new Float32Array(6).fill(1.5);
      const t = tensorFromScratch(view.subarray(2, 6), [2, 2]);
      view.fill(-7);
      expect(Array.from(t.dataSync())).toEqual([1.5, 1.5, 1.5, 1.5]);
      t.dispose();
    } finally {
      await tf.setBackend('wasm');
    }
  });
});

describe('passFilesParent', () => {
  it('uses the in-memory folder when it has room twice over, else the OS temporary folder', async () => {
    const shm = await mkdtemp(join(tmpdir(), 'ser-shm-'));
    try {
      expect(passFilesParent(1024, shm)).toBe(shm);
      expect(passFilesParent(Number.MAX_SAFE_INTEGER, shm)).toBe(tmpdir());
      expect(passFilesParent(1024, join(shm, 'missing'))).toBe(tmpdir());
    } finally {
      await rm(shm, { recursive: true, force: true });
    }
  });
});

describe('resolveWorkers', () => {
  it('caps at the passes per batch and runs in-process without micro-batches', () => {
    expect(resolveWorkers(4, 32, 16, 'wasm')).toMatchObject({ workers: 2, note: expect.stringMatching(/using 2, the passes per batch/) });
    expect(resolveWorkers(2, 32, 16, 'wasm')).toEqual({ workers: 2 });
    expect(resolveWorkers(1, 32, 16, 'wasm')).toEqual({ workers: 1 });
    expect(resolveWorkers(2, 32, null, 'wasm')).toMatchObject({ workers: 1, note: expect.stringMatching(/in-process: train.micro_batch null gives one pass/) });
    expect(resolveWorkers(2, 32, 16, 'tfjs-node')).toMatchObject({ workers: 1, note: expect.stringMatching(/wasm or cpu/) });
    expect(resolveWorkers('auto', 32, 8, 'wasm').workers).toBeLessThanOrEqual(4);
  });
});

describe('ser-train with train.workers', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const runTrain = (fx: { features: string; init: string }, out: string, params: object, killAfter?: string) =>
    runTrainCli(fx, join(out, 'train'), join(out, 'scratch'), params, killAfter);
  const outputs = async (out: string) =>
    Promise.all(['model/weights.bin', 'history.json', 'metrics.json'].map((f) => readFile(join(out, 'train', f))));

  it('gives the same bytes with 2 workers (killed) resumed with 1, and runs in-process without micro-batches', async () => {
    dir = await mkdtemp(join(tmpdir(), 'ser-train-workers-'));
    const fx = await writeFixture(dir, { train: 24, val: 8, test: 8 });
    const params = (workers: number | string, over: Record<string, unknown> = {}) =>
      tinyParams({ max_epochs: 2, micro_batch: 3, workers, ...over });
    const a = await runTrain(fx, join(dir, 'a'), params(1));
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(a.stdout).not.toMatch(/gradient workers/);

    // Killed after epoch 1 with 2 workers, resumed with 1: the checkpoint key ignores workers.
    const b = join(dir, 'b');
    const killed = await runTrain(fx, b, params(2), 'epoch 1/2 loss'); // the epoch's summary line, after its checkpoint
    expect(killed.stdout).toMatch(/train: 2 gradient workers \(micro_batch 3, backend cpu in each\)/);
    const resumed = await runTrain(fx, b, params(1));
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/resuming after epoch 1/);
    expect(await outputs(b)).toEqual(await outputs(join(dir, 'a')));

    const c = await runTrain(fx, join(dir, 'c'), params(2, { micro_batch: null, max_epochs: 1 }));
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/train.workers 2: running in-process: train.micro_batch null gives one pass per batch of 8/);
    const bad = await runTrain(fx, join(dir, 'd'), params(0));
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toMatch(/train\.workers must be auto or an integer >= 1, got 0/);
  });
});
