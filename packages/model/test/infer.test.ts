// The shared inference loop and backend-for-a-param helper that train and evaluate use.
import { describe, expect, it } from 'vitest';
import { UserError } from '@ser/stage-kit';
import { inferBatches, selectBackendParam, tf } from '../src/index.ts';

describe('inferBatches', () => {
  it('visits [start, end) batches in order, reads each output asynchronously, and leaks no tensor', async () => {
    await tf.setBackend('cpu');
    const input = tf.input({ shape: [2] });
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 1, useBias: false, kernelInitializer: 'ones' }).apply(input) as tf.SymbolicTensor });
    const data = Float32Array.from({ length: 14 }, (_, i) => i); // 7 rows of 2
    const before = tf.memory().numTensors;
    const seen: [number, number][] = [];
    const sums: number[] = [];
    await inferBatches(model, 7, 3, (s, e) => tf.tensor(data.subarray(s * 2, e * 2), [e - s, 2]), async (out, s, e) => {
      seen.push([s, e]);
      sums.push(...(await out.data()));
    });
    expect(seen).toEqual([[0, 3], [3, 6], [6, 7]]);
    expect(sums).toEqual([1, 5, 9, 13, 17, 21, 25]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('selectBackendParam', () => {
  it('an unknown backend is a UserError naming the param key', async () => {
    const e = await selectBackendParam('nope', 'train.backend').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).toMatch(/^train\.backend: unknown backend 'nope'/);
  });

  it('a backend that loads is returned as selectBackend returns it', async () => {
    expect((await selectBackendParam('cpu', 'train.backend')).name).toBe('cpu');
  });
});
