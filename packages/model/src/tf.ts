// The one tfjs instance every package shares (train, evaluate and predict import `tf` from here,
// so tensors, kernels and registered layer classes all live in the same engine).
import * as tf from '@tensorflow/tfjs';

// Production mode: no debug checks, and no "install tfjs-node" banner on first use of the cpu
// backend (selectBackend already logs which backend runs and why the others did not).
tf.env().set('PROD', true);

export { tf };
