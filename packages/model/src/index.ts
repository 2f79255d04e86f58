// Public API of @ser/model (see README.md). The package is two things:
// - the model library (everything below but the last group): the one tfjs instance, the layers,
//   the builder, save/load, backend selection, batched inference; train, evaluate and predict use it;
// - the `model` stage (stage.ts + cli.ts, `ser-model`): params -> the seeded, untrained model.

// The one tfjs instance, and the classes the model predicts (index = the `emotion` label).
export { tf } from './tf.ts';
export { EMOTIONS, type Emotion } from '@ser/stage-kit';

// Building, inspecting and training the network.
export {
  buildModel,
  setScaler,
  countParams,
  setDropoutStep,
  layerSummary,
  inputFrames,
  N_CLASSES,
  type ModelConfig,
  type InputShape,
  type LayerSummary,
} from './core.ts';
export { Standardize, SeededDropout, Conv2D, BatchNorm, LayerNorm, Pool2D, MultiHeadSelfAttention, PositionalEncoding, CrossAttention, sinusoidalTable } from './layers.ts';
export { batchGrads, type BatchGrads } from './step.ts';

// Files: model.json + weights.bin.
export { saveModel, loadModel, MODEL_JSON, WEIGHTS_BIN } from './io.ts';

// Running it: backend selection (selectBackendParam for a stage's `*.backend` param) and batched inference.
export { selectBackend, selectBackendParam, wasmPaths, BackendError, BACKENDS, type BackendName, type BackendChoice } from './backend.ts';
export { inferBatches } from './infer.ts';
export { installWasmKernels } from './wasm-kernels.ts';
export { probeAdapter, describeAdapter, isSoftwareAdapter, type AdapterFacts, type AdapterProbe } from './webgpu-adapter.ts';
export { reportBackends, formatBackends, matmulGflops, type BackendReport } from './backends-report.ts';

// The `model` stage (ser-model): params -> the seeded, untrained model.
export { modelConfigFrom, inputShapeFrom, runModel, type ModelSummary } from './stage.ts';
