/**
 * What `repro` does with one stage, decided from what is already known about it (its evaluated
 * state, its lock entry, what the cache and run-cache hold). Pure: the caller does every I/O.
 */
import { allOuts } from './parse.ts';
import type { LockEntry, LockedPath } from './lock.ts';
import { runKey, type Reason, type StageState } from './status.ts';

/** The two caches, asked only when the plan needs them (a cached stage costs no lookup). */
export interface CacheLookup {
  /** Is this out (a file, or a directory's manifest and every file in it) in the cache? */
  hasObject(out: LockedPath): boolean;
  /** The outs the run-cache recorded for this run key, if any. */
  runCacheOuts(runKey: string): LockedPath[] | undefined;
}

export type StagePlan =
  /** Deps, params, cmd and outs all match the lock entry. */
  | { action: 'cached'; reasons: [] }
  /** Only outs are missing or modified while the inputs match: check the lock entry's outs out of the cache. */
  | { action: 'restore-from-cache'; reasons: Reason[]; outs: LockedPath[] }
  /** The inputs match an earlier run recorded in the run-cache: check its outs out and lock them. */
  | { action: 'restore-from-run-cache'; reasons: Reason[]; outs: LockedPath[] }
  /** Run the command; `forced` when it runs only because of --force (then `reasons` is empty). */
  | { action: 'run'; reasons: Reason[]; forced: boolean; runKey: string };

export interface PlanInput {
  /** The stage compared with its lock entry (`evaluateStage`). */
  state: StageState;
  entry: LockEntry | undefined;
  force: boolean;
  caches: CacheLookup;
  /** The artifacts root of this repro: run keys write it as `${artifacts}` (`runKey`). */
  artifacts: string;
}

export function planStage({ state, entry, force, caches, artifacts }: PlanInput): StagePlan {
  const reasons = state.reasons;
  if (force) return { action: 'run', reasons, forced: reasons.length === 0, runKey: runKey(state, artifacts) };
  if (reasons.length === 0) return { action: 'cached', reasons: [] };
  if (entry && onlyOutsChanged(reasons) && entry.outs.every((out) => caches.hasObject(out))) {
    return { action: 'restore-from-cache', reasons, outs: entry.outs };
  }
  const key = runKey(state, artifacts);
  const recorded = caches.runCacheOuts(key);
  if (recorded && samePaths(recorded, allOuts(state.stage)) && recorded.every((out) => caches.hasObject(out))) {
    return { action: 'restore-from-run-cache', reasons, outs: recorded };
  }
  return { action: 'run', reasons, forced: false, runKey: key };
}

/** Outs missing or modified, nothing else: a declared out added or removed changes what runs. */
function onlyOutsChanged(reasons: Reason[]): boolean {
  return reasons.every((r) => r.type === 'out' && r.change !== 'removed' && r.change !== 'added');
}

/** The run-cache entry records the same outs, in the same order, as the stage declares now. */
function samePaths(recorded: LockedPath[], outs: string[]): boolean {
  return recorded.length === outs.length && recorded.every((r, i) => r.path === outs[i]);
}

/** Why, in one line: the reasons' messages, or `forced`. */
export function describePlan(plan: StagePlan): string {
  if (plan.action === 'run' && plan.forced) return 'forced';
  return plan.reasons.map((r) => r.message).join('; ');
}
