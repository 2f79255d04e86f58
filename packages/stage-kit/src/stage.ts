// The one shape of every stage's entry function, and the engine's per-run facts besides params.
import { log as stdoutLog } from './log.ts';
import { profileFrom, type Params } from './params.ts';

/** Where a stage reports: one plain line per call (stdout by default; the engine prefixes `[stage]`). */
export type StageLog = (msg: string) => void;

/**
 * What every `run<Stage>` takes: the paths it reads (`inputs`) and writes (`outputs`) by role,
 * the params the stage declares, and where it logs. The CLI fills it from flags and
 * `loadStageParams()`; tests call `run<Stage>` with the same object.
 */
export interface StageArgs<I extends string, O extends string> {
  /** Paths the stage reads, by role (e.g. `{ in: 'segment/segments.arrow' }`). */
  inputs: Readonly<Record<I, string>>;
  /** Paths the stage writes, by role; a folder role (`dir`) holds several files. */
  outputs: Readonly<Record<O, string>>;
  /** The stage's params (see loadStageParams). */
  params: Params;
  /** Default: a line on stdout. */
  log?: StageLog;
}

/** `a.log`, or a line on stdout. */
export function stageLog(a: { log?: StageLog }): StageLog {
  return a.log ?? stdoutLog;
}

/**
 * The engine's scratch folder for this stage run (`PIPELINE_SCRATCH`): kept across a failed or
 * killed run with the same inputs, deleted after success. Undefined when run without the engine.
 */
export function stageScratch(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env.PIPELINE_SCRATCH;
  return dir ? dir : undefined;
}

/** The params profile of this run: `--profile` in argv, else `PIPELINE_PROFILE`; '' = default. */
export function stageProfile(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): string {
  return profileFrom(argv, env);
}
