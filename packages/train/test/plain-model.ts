// @ser/model as train's core tests see it (vi.mock('@ser/model', () => import('./plain-model.ts'))):
// plain tfjs on the cpu backend, batchGrads and inferBatches from their narrow entries (tfjs only,
// not the wasm backend or the model's layers), and no SeededDropout counters to set.
export * as tf from '@tensorflow/tfjs';
export { batchGrads } from '@ser/model/step';
export { inferBatches } from '@ser/model/infer';
export const setDropoutStep = (): void => {};
