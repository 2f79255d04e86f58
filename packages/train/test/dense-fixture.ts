// A two-class task and a tiny dense network for train()'s loop tests (core.test.ts,
// mixup-ema.test.ts), on @ser/model as the importing test mocks it (plain tfjs, cpu backend).
import { tf } from '@ser/model';
import { mulberry32, writeWeights, type Dataset } from '../src/core.ts';

/** 24 rows of 3 values in [-1, 1); class 1 when x0 + x1 > 0. */
export function twoClassSet(): Dataset {
  const rand = mulberry32(5);
  const n = 24;
  const x = Float32Array.from({ length: n * 3 }, () => rand() * 2 - 1);
  const y = Int32Array.from({ length: n }, (_, i) => (x[i * 3]! + x[i * 3 + 1]! > 0 ? 1 : 0));
  return { x, y, count: n, rowSize: 3 };
}

/** dense(6, relu) -> BatchNorm (-> dropout 0.3) -> dense(2, softmax) with fixed weights (BatchNorm's moving variance 1). */
export function tinyDenseModel(opts: { dropout: boolean }) {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [3], units: 6, activation: 'relu' }),
      tf.layers.batchNormalization(),
      ...(opts.dropout ? [tf.layers.dropout({ rate: 0.3 })] : []),
      tf.layers.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  const size = (w: { shape: unknown[] }) => (w.shape as number[]).reduce((a, b) => a * b, 1);
  writeWeights(m, m.weights.map((w, i) => Float32Array.from({ length: size(w) }, (_, k) => (w.name.endsWith('moving_variance') ? 1 : Math.sin(k + i) * 0.3))));
  return m;
}
