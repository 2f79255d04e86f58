// Reused float buffers, and tensors made from them: the training loop's per-batch arrays
// (pass rows and gradients, optimizer outputs) are large enough that a fresh typed array per
// batch costs page faults and garbage collections.
import { tf } from '@ser/model';
import type { Tensor } from '@tensorflow/tfjs';

/** A reusable float buffer that grows (never shrinks) to the largest size asked of it. */
export function scratch(): (floats: number) => Float32Array {
  let buf = new Float32Array(0);
  return (floats) => {
    if (buf.length < floats) buf = new Float32Array(floats);
    return buf.subarray(0, floats);
  };
}

/**
 * A tensor holding a copy of `view`, a reused buffer that is rewritten later: the wasm backend
 * copies into its heap when the tensor is made; others (cpu) keep the caller's array, so they
 * get a private copy first.
 */
export function tensorFromScratch(view: Float32Array, shape: number[]): Tensor {
  return tf.tensor(tf.getBackend() === 'wasm' ? view : view.slice(), shape, 'float32');
}
