/** Public API of the engine (used by the Nx plugin and tests). */
export { PipelineError } from './errors.ts';
export { loadPipeline, allOuts, artifactsRoot, lockFileName, DEFAULT_PROFILE, PIPELINE_FILE, type Pipeline, type Stage, type LoadOptions } from './parse.ts';
export { buildGraph, closure, type Graph } from './graph.ts';
export { loadParams, deepMerge, getDotted, nestedSubset } from './params.ts';
export { readLock, formatLock, lockParamsDigest, type Lock, type LockEntry } from './lock.ts';
export { computeStatus, type Reason, type StatusEntry } from './status.ts';
export { repro, type ReproOptions, type ReproResult, type Outcome } from './runner.ts';
export { Hasher } from './hash.ts';
export { listProfiles, resolveProfile, PROFILE_FILE, type ResolvedProfile } from './profile.ts';
