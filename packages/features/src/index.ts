// Public API of @ser/features.
export {
  type FeatureParams,
  type ScalerMode,
  featureParamsFrom,
  resolveFeatureParams,
  logMelConfig,
  featureShape,
  featuresMetadata,
  computeLogMel,
  ScalerAccumulator,
} from './core.ts';
export { encodeNpy, decodeNpy, type NpyArray } from './npy.ts';
export { runFeatures, writeFeatures, type FeaturesStageOptions, type FeaturesStageResult } from './stage.ts';
