// Batched inference, shared by train's validation pass and the evaluate stage.
import { tf } from './tf.ts';

/**
 * Runs `model` in inference mode (training=false) over rows [0, count), `batchSize` rows at a
 * time: `input(start, end)` builds the batch tensor (disposed here), `read(output, start, end)`
 * takes what it needs from the model's output (disposed after it returns). `read` must use the
 * asynchronous `await t.data()`, never dataSync: the webgpu backend in Node has no synchronous read.
 */
export async function inferBatches(
  model: tf.LayersModel,
  count: number,
  batchSize: number,
  input: (start: number, end: number) => tf.Tensor,
  read: (output: tf.Tensor, start: number, end: number) => Promise<void>,
): Promise<void> {
  for (let s = 0; s < count; s += batchSize) {
    const e = Math.min(count, s + batchSize);
    const x = input(s, e);
    let out: tf.Tensor;
    try {
      out = tf.tidy(() => model.apply(x, { training: false }) as tf.Tensor);
    } finally {
      x.dispose();
    }
    try {
      await read(out, s, e);
    } finally {
      out.dispose();
    }
  }
}
