// Public API of @ser/predict (README.md): loadClassifier(modelDir) -> predictFile / predictSamples.
// The CLI `ser-predict` is a thin edge over the same functions.
export { loadClassifier, ShortClipError, type Classifier, type ClipPrediction, type WindowPrediction, type PredictOptions, type LoadOptions } from './classifier.ts';
export {
  type Preprocess,
  type ModelProvenance,
  type EmotionScores,
  type WindowOptions,
  type PredictArgs,
  parsePreprocess,
  parseProvenance,
  clipInputs,
  windowStarts,
  shortClipProblem,
  defaultHop,
  labelScores,
  formatPrediction,
  parsePredictArgs,
  defaultModelDir,
  USAGE,
} from './core.ts';
export { notWavProblem, sniffFormat } from './formats.ts';
export { checkInputs, type CheckedInputs } from './inputs.ts';
export { runPredict, type PredictIo, type PredictResult } from './predict.ts';
