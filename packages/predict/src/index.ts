// Public API of @ser/predict (the CLI is `ser-predict`, see README.md).
export * from './core.ts';
export { runPredict, type PredictIo, type PredictResult } from './predict.ts';
