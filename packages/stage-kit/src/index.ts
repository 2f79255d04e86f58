// Public API of @ser/stage-kit: the thin edge every stage shares (see README.md).
export { UserError, ParamError, isUserError } from './errors.ts';
export {
  type Params,
  type Check,
  type LoadOptions,
  loadStageParams,
  getParam,
  deepMerge,
  profileFrom,
  num,
  str,
  bool,
  arr,
  nullable,
  record,
} from './params.ts';
export { type ArgSpec, type FlagSpec, type ParseOptions, parseArgs, usage } from './args.ts';
export { type Rng, createRng } from './rng.ts';
export { log, progress, PROGRESS_INTERVAL_MS, statusLine, progressBar, isInteractive, type StatusLine, type StatusLineOptions } from './log.ts';
export { runCli, writeFileAtomic, writeJsonAtomic } from './cli.ts';
export { type StageArgs, type StageLog, stageLog, stageScratch, stageProfile } from './stage.ts';
export { type PathFlag, type StageCliSpec, runStageCli } from './stage-cli.ts';
export { EMOTIONS, type Emotion } from './labels.ts';
export {
  type WorkersSetting,
  type PoolTask,
  type PoolOptions,
  type MapOptions,
  type OrderedMapOptions,
  type OrderedPool,
  PoolTaskError,
  workersParam,
  resolveWorkers,
  orderedPool,
  mapOrdered,
  serveTasks,
} from './pool.ts';
export { workersFromEnv } from './env.ts';
