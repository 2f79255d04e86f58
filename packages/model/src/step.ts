// Gradients of one training batch, optionally in micro-batches (the paper-size model at batch 16
// needs more than the 4 GiB wasm heap in one pass).
import { tf } from './tf.ts';

export interface BatchGrads {
  /** Mean loss over the whole batch (as the caller's loss, a mean over rows). */
  value: tf.Scalar;
  /** d value / d param, keyed by variable name (as tf.variableGrads). */
  grads: tf.NamedTensorMap;
  /** Model outputs [B, classes] (training-mode forward), row-major. */
  probs: Float32Array;
}

/**
 * Loss gradients of a batch x [B, ...] for `params`. `loss(probs, start, end)` gets the model
 * output of rows [start, end) and must return the MEAN loss over those rows.
 *
 * microBatch (rows per forward/backward pass; default B = one pass, identical to tf.variableGrads):
 * with microBatch < B the batch runs in ceil(B / microBatch) passes and the gradients are summed
 * with weights (rows / B), which is exact for a mean loss, EXCEPT that (1) BatchNorm normalizes
 * with each micro-batch's statistics and updates its running statistics once per pass, and (2)
 * each pass draws its own dropout masks (a SeededDropout call per pass: the dropout step counter
 * advances by the number of passes, so on resume use setDropoutStep(model, steps * passes)).
 * Peak memory scales with microBatch instead of B.
 */
export async function batchGrads(
  model: tf.LayersModel,
  x: tf.Tensor,
  loss: (probs: tf.Tensor, start: number, end: number) => tf.Scalar,
  params: tf.Variable[],
  microBatch?: number,
): Promise<BatchGrads> {
  const B = x.shape[0]!;
  const mb = microBatch === undefined ? B : Math.floor(microBatch);
  if (!(mb >= 1)) throw new Error(`batchGrads: microBatch must be >= 1, got ${String(microBatch)}`);
  // Outputs are kept and read after the passes: webgpu in Node has no synchronous read (dataSync).
  const parts: tf.Tensor[] = [];
  if (mb >= B) {
    const { value, grads } = tf.variableGrads(() => {
      const p = model.apply(x, { training: true }) as tf.Tensor;
      parts.push(tf.keep(p));
      return loss(p, 0, B);
    }, params);
    return { value, grads, probs: await readAndDispose(parts) };
  }
  let sum: tf.NamedTensorMap | undefined;
  let total: tf.Scalar | undefined;
  for (let s = 0; s < B; s += mb) {
    const e = Math.min(B, s + mb);
    const w = (e - s) / B;
    const xs = tf.slice(x, s, e - s);
    const { value, grads } = tf.variableGrads(() => {
      const p = model.apply(xs, { training: true }) as tf.Tensor;
      parts.push(tf.keep(p));
      return loss(p, s, e);
    }, params);
    xs.dispose();
    const next: tf.NamedTensorMap = {};
    for (const k of Object.keys(grads)) next[k] = tf.tidy(() => (sum ? tf.add(sum[k]!, tf.mul(grads[k]!, w)) : tf.mul(grads[k]!, w)));
    const t = tf.tidy(() => (total ? tf.add(total, tf.mul(value, w)) : tf.mul(value, w))) as tf.Scalar;
    tf.dispose(Object.values(grads));
    value.dispose();
    if (sum) tf.dispose(Object.values(sum));
    total?.dispose();
    sum = next;
    total = t;
  }
  return { value: total!, grads: sum!, probs: await readAndDispose(parts) };
}

/** The tensors' values, concatenated in order (read asynchronously), then the tensors disposed. */
async function readAndDispose(parts: tf.Tensor[]): Promise<Float32Array> {
  const values = await Promise.all(parts.map((p) => p.data() as Promise<Float32Array>));
  tf.dispose(parts);
  const out = new Float32Array(values.reduce((a, v) => a + v.length, 0));
  let o = 0;
  for (const v of values) {
    out.set(v, o);
    o += v.length;
  }
  return out;
}
