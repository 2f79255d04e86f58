// Public API of @ser/split.
export {
  type ClipLabels,
  type Fractions,
  type SplitResult,
  type SplitName,
  SPLITS,
  EMOTION_NAMES,
  SplitError,
  splitCounts,
  checkFractions,
  stratifiedSplit,
  actorSplit,
  actorFolds,
  foldActors,
  sizeTable,
  formatSizes,
} from './core.ts';
export { type SplitParams, splitParamsFrom, computeSplit, runSplit } from './stage.ts';
