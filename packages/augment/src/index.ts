// Public API of @ser/augment.
export { type AugmentParams, type AugmentedCopy, hash53, copySeed, augmentClip, cleanCopy, augmentSchema } from './core.ts';
export { type SplitName, augmentParamsFrom, readSplit, runAugment } from './stage.ts';
