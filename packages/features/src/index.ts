// Public API of @ser/features.
export {
  type FeatureParams,
  type ScalerMode,
  FeatureParamError,
  featureParamsFrom,
  resolveFeatureParams,
  logMelConfig,
  featureShape,
  featuresMetadata,
  computeLogMel,
  ScalerAccumulator,
} from './core.ts';
export { encodeNpy, decodeNpy, type NpyArray } from './npy.ts';
export { runFeaturesStage, type FeaturesStageOptions, type FeaturesStageResult } from './stage.ts';
