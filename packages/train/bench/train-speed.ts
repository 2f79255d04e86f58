// Training throughput (forward + backward + SGD update, samples/s) of the model from params.yaml
// (+ --profile overlay) on one backend, with random inputs. Not a test: a measurement.
//   npx tsx packages/train/bench/train-speed.ts [--profile demo] [--backend wasm] [--batches 6] [--batch 16]
import { buildModel, inputFrames, modelConfigFrom, selectBackend, tf, setScaler } from '@ser/model';
import { getParam, loadStageParams, num, parseArgs } from '@ser/stage-kit';
import { sgdStep, crossEntropy } from '../src/core.ts';

const args = parseArgs(process.argv.slice(2), {
  backend: { type: 'string', default: 'wasm' },
  batches: { type: 'string', default: '6' },
  batch: { type: 'string', default: '16' },
});
const params = loadStageParams();
const choice = await selectBackend(args['backend'] as never, (m) => console.log(m));
const nMels = getParam(params, 'features.n_mels', num());
const frames = inputFrames(getParam(params, 'segment.duration', num()), getParam(params, 'ingest.sample_rate', num()), getParam(params, 'features.hop_length', num()));
const model = buildModel(modelConfigFrom(params), { nMels, frames }, 42);
setScaler(model, new Float32Array(nMels * frames).fill(-40), new Float32Array(nMels * frames).fill(15));
const B = Number(args['batch']);
const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
const bufs = vars.map((v) => tf.variable(tf.zerosLike(v), false));
const x = tf.randomNormal([B, nMels, frames], -40, 15, 'float32', 1);
const y = Int32Array.from({ length: B }, (_, i) => i % 8);
const step = () => {
  const { value, grads } = tf.variableGrads(() => crossEntropy(model.apply(x, { training: true }) as tf.Tensor, y, 8) as tf.Scalar, vars);
  sgdStep(vars, vars.map((v) => grads[v.name]!), bufs, { lr: 0.01, momentum: 0.8, weightDecay: 1e-3 });
  value.dataSync();
  value.dispose();
  tf.dispose(grads);
};
step(); // warm-up (kernel compilation, allocation)
const n = Number(args['batches']);
const t0 = performance.now();
for (let i = 0; i < n; i++) step();
const s = (performance.now() - t0) / 1000;
const rss = process.memoryUsage().rss / 2 ** 20;
console.log(`${choice.name}: input [${nMels}, ${frames}], batch ${B}: ${((n * B) / s).toFixed(1)} samples/s (${(s / n).toFixed(2)} s/batch), rss ${rss.toFixed(0)} MiB`);
