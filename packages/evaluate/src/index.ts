// Public API of @ser/evaluate (the stage itself runs through `ser-evaluate`, see README.md).
export * from './core.ts';
export { runEvaluate, predictAll, type EvaluateStageArgs } from './stage.ts';
