// Public API of @ser/model (see README.md).
export { tf, EMOTIONS, type Emotion } from './tf.ts';
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
export { saveModel, loadModel, MODEL_JSON, WEIGHTS_BIN } from './io.ts';
export { selectBackend, wasmPaths, BackendError, BACKENDS, type BackendName, type BackendChoice } from './backend.ts';
export { installWasmKernels } from './wasm-kernels.ts';
export { probeAdapter, describeAdapter, isSoftwareAdapter, type AdapterFacts, type AdapterProbe } from './webgpu-adapter.ts';
export { reportBackends, formatBackends, matmulGflops, type BackendReport } from './backends-report.ts';
export { modelConfigFrom, inputShapeFrom, runModelStage, type ModelSummary } from './stage.ts';
export { batchGrads, type BatchGrads } from './step.ts';
