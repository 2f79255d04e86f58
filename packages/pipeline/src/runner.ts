/**
 * repro: runs stale stages in topological order (in parallel up to -j), restoring outs from the
 * cache or the run-cache when possible, staging outs so a failed or killed stage writes nothing.
 *
 * selectStages -> schedule (schedule.ts: what is ready) -> per stage: evaluateStage (status.ts)
 * -> planStage (plan.ts: cached | restore-from-cache | restore-from-run-cache | run) -> the
 * action: restoreOuts, or runInStaging -> cacheStagedOuts -> placeStagedOuts -> commitLockEntry.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PipelineError, located } from './errors.ts';
import { allOuts, DEFAULT_PROFILE, type Pipeline, type Stage } from './parse.ts';
import { buildGraph, closure, producerOf, type Graph } from './graph.ts';
import { Hasher, withManifest, type HashInfo } from './hash.ts';
import { Cache } from './cache.ts';
import { readLock, writeLock, type Lock, type LockEntry, type LockedPath } from './lock.ts';
import { computeStatus, evaluateStage, toLocked, type StageState } from './status.ts';
import { canonical, nestedSubset, type Json } from './params.ts';
import { acquireRunLock, RUN_LOCK_FILE } from './runlock.ts';
import { describePlan, planStage, type CacheLookup, type StagePlan } from './plan.ts';
import { RunCache } from './runcache.ts';
import { schedule } from './schedule.ts';
import { runShell } from './shell.ts';
import { cleanStaging, hasFiles, removeEmptyScratch, stageCmd, stagingDirOf } from './staging.ts';

export interface ReproOptions {
  targets?: string[];
  force?: boolean;
  dry?: boolean;
  downstream?: boolean;
  singleItem?: boolean;
  jobs?: number;
  wait?: boolean;
  /** After the run, fail if any stage's lock entry differs from the lock before the run. */
  check?: boolean;
  /** Stages left out of --check (outputs known not to be byte-reproducible). */
  checkExcept?: string[];
  /** How the first line names the profile (default: `profile <name>`). */
  profileLabel?: string;
  /**
   * A folder (relative to the root) holding this repro's own staging, scratch, hash memo and run
   * lock instead of `.pipeline` (an experiment's); the cache and run-cache stay shared.
   */
  ownDir?: string;
  log?: (line: string) => void;
}

export type Outcome = 'ran' | 'cached' | 'restored' | 'run-cache' | 'failed' | 'skipped';

export interface ReproResult {
  outcomes: Map<string, Outcome>;
  /** Stages whose lock entry changed (only with --check). */
  mismatched: string[];
  ok: boolean;
  seconds: number;
}

/**
 * The engine's folders. The content cache and run-cache are always `.pipeline`'s; staging,
 * scratch, the hash memo and the run lock live in `ownDir` (relative to the root) when given.
 */
export function workDirs(root: string, ownDir?: string) {
  const base = path.join(root, '.pipeline');
  const own = ownDir === undefined ? base : path.resolve(root, ownDir);
  return {
    base,
    cache: path.join(base, 'cache'),
    runs: path.join(base, 'runs'),
    own,
    staging: path.join(own, 'staging'),
    scratch: path.join(own, 'scratch'),
    state: path.join(own, 'state.json'),
  };
}

/** Expand target names (a foreach base name selects all its items). */
export function resolveTargets(p: Pipeline, targets: string[]): string[] {
  const out: string[] = [];
  for (const t of targets) {
    const hits = p.stages.filter((s) => s.name === t || s.name.startsWith(`${t}@`)).map((s) => s.name);
    if (!hits.length) throw new PipelineError(`${p.file}: no stage '${t}'${p.profile !== 'default' ? ` in profile '${p.profile}'` : ''} (stages: ${p.stages.map((s) => s.name).join(', ')})`);
    out.push(...hits);
  }
  return out;
}

/** The stages `repro` considers, in topological order: targets (all by default) plus upstream, or downstream with --downstream, or only them with --single-item. */
export function selectStages(pipeline: Pipeline, graph: Graph, options: ReproOptions): string[] {
  const targets = options.targets?.length ? resolveTargets(pipeline, options.targets) : pipeline.stages.map((s) => s.name);
  let selected: Set<string>;
  if (options.singleItem) selected = new Set(targets);
  else if (options.downstream) selected = closure(targets, graph.downstream);
  else selected = closure(targets, graph.upstream);
  return graph.order.filter((name) => selected.has(name));
}

function fmtSec(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** What the actions on the stages of one repro share. */
interface ReproContext {
  pipeline: Pipeline;
  /** The lock as this run updates it; written after each stage that changes it. */
  lock: Lock;
  hasher: Hasher;
  cache: Cache;
  runCache: RunCache;
  dirs: ReturnType<typeof workDirs>;
  log: (line: string) => void;
}

export async function repro(pipeline: Pipeline, options: ReproOptions = {}): Promise<ReproResult> {
  const startedAt = Date.now();
  const log = options.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const graph = buildGraph(pipeline);
  const selected = selectStages(pipeline, graph, options);
  const dirs = workDirs(pipeline.root, options.ownDir);
  const hasher = new Hasher(pipeline.root, dirs.state);
  log(`repro${options.dry ? ' --dry' : ''} (${options.profileLabel ?? `profile ${pipeline.profile}`}): ${selected.length} stage(s) selected, lock ${pipeline.lockFile}`);
  if (options.dry) return dryRun(pipeline, graph, selected, !!options.force, hasher, log, startedAt);

  const lockName = path.relative(pipeline.root, path.join(dirs.own, RUN_LOCK_FILE));
  const release = await acquireRunLock(pipeline.root, !!options.wait, (pid) => log(`waiting for repro pid ${pid} to finish (${lockName})...`), dirs.own);
  try {
    return await runSelected(pipeline, graph, selected, options, dirs, hasher, log, startedAt);
  } finally {
    hasher.save();
    release();
  }
}

/** `repro --dry`: what would run and why (the status view, upstream staleness included); runs nothing. */
function dryRun(pipeline: Pipeline, graph: Graph, selected: string[], force: boolean, hasher: Hasher, log: (l: string) => void, startedAt: number): ReproResult {
  const status = computeStatus(pipeline, graph, readLock(pipeline.root, pipeline.lockFile), hasher);
  const outcomes = new Map<string, Outcome>();
  for (const name of selected) {
    const { stale, reasons } = status.get(name)!;
    if (stale || force) log(`${name}: would run (${stale ? reasons.map((r) => r.message).join('; ') : 'forced'})`);
    else log(`${name}: up to date`);
    outcomes.set(name, stale || force ? 'ran' : 'cached');
  }
  hasher.save();
  const wouldRun = countOutcomes(outcomes, 'ran');
  log(`dry run: ${wouldRun} stage(s) would run, ${selected.length - wouldRun} up to date (${fmtSec(Date.now() - startedAt)})`);
  return { outcomes, mismatched: [], ok: true, seconds: (Date.now() - startedAt) / 1000 };
}

async function runSelected(pipeline: Pipeline, graph: Graph, selected: string[], options: ReproOptions, dirs: ReturnType<typeof workDirs>, hasher: Hasher, log: (l: string) => void, startedAt: number): Promise<ReproResult> {
  const lock = readLock(pipeline.root, pipeline.lockFile);
  const lockBefore: Lock = structuredClone(lock);
  cleanStaging(dirs.staging);
  checkSourceDeps(pipeline, selected, hasher);

  const ctx: ReproContext = { pipeline, lock, hasher, cache: new Cache(dirs.cache), runCache: new RunCache(dirs.runs, pipeline.artifacts), dirs, log };
  const outcomes = new Map<string, Outcome>();
  await schedule({
    order: selected,
    upstreamOf: (name) => graph.upstream.get(name) ?? [],
    jobs: options.jobs ?? 1,
    runStage: async (name) => {
      const outcome = await reproStage(ctx, name, !!options.force);
      outcomes.set(name, outcome);
      return outcome !== 'failed';
    },
  });
  for (const name of selected) if (!outcomes.has(name)) outcomes.set(name, 'skipped');

  const seconds = (Date.now() - startedAt) / 1000;
  log(summaryLine(pipeline.profile, outcomes, seconds));
  if (process.env.PIPELINE_STATS) log(`stats: hashed ${hasher.filesHashed} file(s), ${hasher.bytesHashed} bytes`);
  let mismatched: string[] = [];
  if (options.check) {
    const except = new Set(options.checkExcept?.length ? resolveTargets(pipeline, options.checkExcept) : []);
    const checked = selected.filter((name) => !except.has(name));
    mismatched = changedLockEntries(checked, lockBefore, lock);
    for (const name of mismatched) log(`check: stage '${name}': ${pipeline.lockFile} entry before the run differs from what the run produced${diffSummary(lockBefore[name], lock[name])}`);
    if (!mismatched.length) log(`check: ${pipeline.lockFile} matches what this run produced for all ${checked.length} checked stage(s)`);
  }
  return { outcomes, mismatched, ok: countOutcomes(outcomes, 'failed') === 0 && mismatched.length === 0, seconds };
}

/** A dep no stage produces (a source: corpus, code) must exist before anything runs. */
function checkSourceDeps(pipeline: Pipeline, selected: string[], hasher: Hasher): void {
  for (const name of selected) {
    const stage = pipeline.byName.get(name)!;
    for (const dep of stage.deps) {
      if (producerOf(pipeline, dep) || hasher.hashPath(dep) !== undefined) continue;
      const from = stage.depTemplates[dep] ? ` (${stage.depTemplates[dep]}: check that value)` : '';
      const hint = stage.hint ? `: ${stage.hint}` : '';
      throw new PipelineError(located(pipeline.file, stage.line, stage.name, `dep '${dep}'${from} does not exist and no stage produces it${hint}`));
    }
  }
}

/** Plan one stage (`planStage`) and carry the plan out. */
async function reproStage(ctx: ReproContext, name: string, force: boolean): Promise<Outcome> {
  const stage = ctx.pipeline.byName.get(name)!;
  const entry = ctx.lock[name];
  const state = evaluateStage(ctx.pipeline, stage, entry, ctx.hasher);
  const caches: CacheLookup = { hasObject: (out) => ctx.cache.has(out), runCacheOuts: (key) => ctx.runCache.lookup(key) };
  const plan = planStage({ state, entry, force, caches, artifacts: ctx.pipeline.artifacts });
  switch (plan.action) {
    case 'cached':
      ctx.log(`${name}: cached`);
      return 'cached';
    case 'restore-from-cache':
      restoreOuts(ctx, state, plan.outs);
      ctx.log(`${name}: restored outs from cache (${describePlan(plan)})`);
      return 'restored';
    case 'restore-from-run-cache':
      restoreOuts(ctx, state, plan.outs);
      commitLockEntry(ctx, state, new Map(plan.outs.map((out) => [out.path, out])));
      ctx.log(`${name}: restored from run-cache without running (${describePlan(plan)})`);
      return 'run-cache';
    case 'run':
      return runStage(ctx, state, plan);
  }
}

/** Check `outs` out of the cache where the workspace does not already hold them. */
function restoreOuts(ctx: ReproContext, state: StageState, outs: LockedPath[]): void {
  for (const out of outs) {
    if (state.outs.get(out.path)?.md5 !== out.md5) ctx.cache.checkout(out, path.resolve(ctx.pipeline.root, out.path), ctx.hasher);
    ctx.hasher.invalidate(out.path);
  }
}

/** Run the command in staging; on success cache and place its outs, then lock them. */
async function runStage(ctx: ReproContext, state: StageState, plan: Extract<StagePlan, { action: 'run' }>): Promise<Outcome> {
  const { stage } = state;
  const { log } = ctx;
  log(`${stage.name}: running (${describePlan(plan)})`);
  log(`[${stage.name}] $ ${stage.cmd}`);
  const startedAt = Date.now();
  const run = await runInStaging(ctx, state, plan.runKey);
  if (run.exitCode !== 0) {
    const kept = discardFailedRun(ctx, run);
    log(`${stage.name}: FAILED with exit code ${run.exitCode} after ${fmtSec(Date.now() - startedAt)}; nothing recorded${kept}`);
    return 'failed';
  }
  const staged = cacheStagedOuts(ctx, stage, run.stagingAbs);
  if ('missing' in staged) {
    fs.rmSync(run.stagingAbs, { recursive: true, force: true });
    log(`${stage.name}: FAILED: the command exited 0 but did not write out '${staged.missing}'; nothing recorded`);
    return 'failed';
  }
  placeStagedOuts(ctx, run.stagingAbs, staged.outs);
  fs.rmSync(run.stagingAbs, { recursive: true, force: true });
  fs.rmSync(run.scratch, { recursive: true, force: true });
  removeEmptyScratch(path.dirname(run.scratch));
  const previous = ctx.lock[stage.name];
  const entry = commitLockEntry(ctx, rehashDeps(ctx.hasher, state), staged.outs);
  ctx.runCache.record(plan.runKey, entry.outs);
  const cutoff = sameOuts(previous, entry) ? ' (outs identical to the lock: downstream can stay cached)' : '';
  log(`${stage.name}: done in ${fmtSec(Date.now() - startedAt)}${cutoff}`);
  return 'ran';
}

interface StagedRun {
  exitCode: number;
  /** Where the command wrote its outs (absolute). */
  stagingAbs: string;
  /** `PIPELINE_SCRATCH` of this run (absolute). */
  scratch: string;
}

/** Run the stage's command with its out tokens pointing into a fresh staging folder. */
async function runInStaging(ctx: ReproContext, state: StageState, runKey: string): Promise<StagedRun> {
  const { stage } = state;
  const { pipeline } = ctx;
  const stagingRel = stagingDirOf(stage.name, process.pid, path.relative(pipeline.root, ctx.dirs.staging).split(path.sep).join('/'));
  const stagingAbs = path.resolve(pipeline.root, stagingRel);
  fs.rmSync(stagingAbs, { recursive: true, force: true });
  const { cmd, tokens } = stageCmd(stage, stagingRel);
  for (const token of tokens) fs.mkdirSync(path.dirname(path.join(stagingAbs, token)), { recursive: true });
  const scratch = path.join(ctx.dirs.scratch, stage.name, runKey.slice(0, 16));
  removeEmptyScratch(path.dirname(scratch));
  fs.mkdirSync(scratch, { recursive: true });
  const profile = pipeline.profile === DEFAULT_PROFILE ? '' : pipeline.profile;
  const exitCode = await runShell({ root: pipeline.root, stage: stage.name, profile, cmd, scratch, params: nestedSubset(state.params) });
  return { exitCode, stagingAbs, scratch };
}

/** Drop a failed run's staging; keep its scratch only when it holds something to resume from. Returns the note for the log. */
function discardFailedRun(ctx: ReproContext, run: StagedRun): string {
  fs.rmSync(run.stagingAbs, { recursive: true, force: true });
  if (hasFiles(run.scratch)) return `; scratch ${path.relative(ctx.pipeline.root, run.scratch)} kept for a resume`;
  removeEmptyScratch(path.dirname(run.scratch));
  return '';
}

/** Hash each staged out and store it in the cache; or name the first out the command did not write. */
function cacheStagedOuts(ctx: ReproContext, stage: Stage, stagingAbs: string): { outs: Map<string, HashInfo> } | { missing: string } {
  const outs = new Map<string, HashInfo>();
  for (const out of allOuts(stage)) {
    const staged = path.join(stagingAbs, out);
    if (!fs.existsSync(staged)) return { missing: out };
    const info = hashStaged(ctx.hasher, staged);
    ctx.cache.store(staged, info);
    outs.set(out, info);
  }
  return { outs };
}

/** Move staged outs over the workspace paths (their hashes are known: no re-read later). */
function placeStagedOuts(ctx: ReproContext, stagingAbs: string, outs: Map<string, HashInfo>): void {
  for (const [out, info] of outs) {
    const dest = path.resolve(ctx.pipeline.root, out);
    fs.rmSync(dest, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.renameSync(path.join(stagingAbs, out), dest);
    rememberPlaced(ctx.hasher, dest, info);
    ctx.hasher.invalidate(out);
  }
}

/** Deps as they are after the run (a stage may legitimately fill a dep, e.g. download into an empty dir). */
function rehashDeps(hasher: Hasher, state: StageState): StageState {
  const deps = new Map(state.deps);
  for (const d of state.stage.deps) {
    hasher.invalidate(d);
    const info = hasher.hashPath(d);
    if (info) deps.set(d, info);
  }
  return { ...state, deps };
}

/** Record the stage's lock entry (deps and params of `state`, these outs) and write the lock. */
function commitLockEntry(ctx: ReproContext, state: StageState, outs: Map<string, HashInfo>): LockEntry {
  const entry = lockEntryFrom(state, outs);
  ctx.lock[state.stage.name] = entry;
  writeLock(ctx.pipeline.root, ctx.pipeline.lockFile, ctx.lock, ctx.pipeline.stages.map((s) => s.name));
  return entry;
}

function lockEntryFrom(state: StageState, outs: Map<string, HashInfo>): LockEntry {
  const deps: LockedPath[] = state.stage.deps.map((d) => toLocked(d, state.deps.get(d)!));
  return { cmd: state.stage.cmd, deps, params: state.params, outs: allOuts(state.stage).map((o) => toLocked(o, outs.get(o)!)) };
}

/** Same out paths and md5s: downstream stages see no change (early cutoff). */
function sameOuts(a: LockEntry | undefined, b: LockEntry): boolean {
  return !!a && JSON.stringify(a.outs.map((x) => [x.path, x.md5])) === JSON.stringify(b.outs.map((x) => [x.path, x.md5]));
}

function countOutcomes(outcomes: Map<string, Outcome>, outcome: Outcome): number {
  return [...outcomes.values()].filter((v) => v === outcome).length;
}

function summaryLine(profile: string, outcomes: Map<string, Outcome>, seconds: number): string {
  const count = (x: Outcome) => countOutcomes(outcomes, x);
  const parts = [`${count('ran')} ran`, `${count('cached')} cached`, `${count('restored')} restored from cache`, `${count('run-cache')} restored from run-cache`];
  if (count('failed')) parts.push(`${count('failed')} failed`);
  if (count('skipped')) parts.push(`${count('skipped')} not run`);
  return `repro${profile !== DEFAULT_PROFILE ? ` (profile ${profile})` : ''}: ${parts.join(', ')} in ${fmtSec(seconds * 1000)}`;
}

/** `--check`: the stages whose lock entry after the run is missing or differs from the one before. */
function changedLockEntries(stages: string[], before: Lock, after: Lock): string[] {
  return stages.filter((name) => {
    const a = before[name];
    const b = after[name];
    return !a || !b || canonical(a as unknown as Json) !== canonical(b as unknown as Json);
  });
}

function diffSummary(a: LockEntry | undefined, b: LockEntry | undefined): string {
  if (!a) return ' (not in the lock before)';
  if (!b) return ' (no entry after the run)';
  const diffs: string[] = [];
  if (a.cmd !== b.cmd) diffs.push('cmd');
  for (const x of b.outs) if (a.outs.find((y) => y.path === x.path)?.md5 !== x.md5) diffs.push(`out ${x.path}`);
  for (const x of b.deps) if (a.deps.find((y) => y.path === x.path)?.md5 !== x.md5) diffs.push(`dep ${x.path}`);
  if (canonical(a.params as Json) !== canonical(b.params as Json)) diffs.push('params');
  return diffs.length ? `: ${diffs.join(', ')}` : '';
}

/** Hash a staged out without memoising: its staging path is gone once it is placed. */
function hashStaged(hasher: Hasher, abs: string): HashInfo {
  const st = fs.statSync(abs);
  if (st.isDirectory()) return withManifest(hasher.walk(abs, false));
  return { md5: hasher.fileMd5(abs, st, false), size: st.size };
}

/** Memoise a placed out's files under their workspace paths (the rename kept size, mtime and inode). */
function rememberPlaced(hasher: Hasher, dest: string, info: HashInfo): void {
  if (info.entries) for (const e of info.entries) hasher.remember(path.join(dest, e.relpath), fs.statSync(path.join(dest, e.relpath)), e.md5);
  else hasher.remember(dest, fs.statSync(dest), info.md5);
}
