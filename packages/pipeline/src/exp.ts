/**
 * Experiments: a repro of the pipeline with params overrides, in its own folder
 * (`.pipeline/exps/<name>/`: artifacts root, lock, staging, scratch, hash memo, run lock,
 * exp.json), sharing the content cache and the run-cache with the workspace, so the stages an
 * override does not reach are restored, not re-run. The user's params files, lock and artifacts
 * are never written (except by `exp apply`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import YAML from 'yaml';
import { PipelineError } from './errors.ts';
import { allOuts, artifactsRoot, loadPipeline, lockFileName, DEFAULT_PROFILE, type Pipeline } from './parse.ts';
import { canonical, flatten, formatOverride, getDotted, isObject, loadParams, paramsFileNames, profileOverlays, type Json } from './params.ts';
import { readLock } from './lock.ts';
import { buildGraph, closure } from './graph.ts';
import { RunCache } from './runcache.ts';
import { runKeyOfEntry, portablePaths } from './status.ts';
import { repro, workDirs } from './runner.ts';
import { acquireRunLock, runLockHolder } from './runlock.ts';
import { writeAtomic } from './cache.ts';
import {
  EXPS_DIR,
  expWorkspace,
  listExperiments,
  readExperiment,
  writeExperiment,
  experimentNames as storedNames,
  type ExpRecord,
} from './exp-store.ts';
import { checkGridSize, describePoint, expandGrid, gridAxes, parseSeeds, pointNames, SEED_KEY } from './exp-grid.ts';

export interface ExpRunRequest {
  profile: string;
  /** The `-S key=value[,value...]` arguments. */
  sets: string[];
  /** `--seeds` as given (`1,2,3`, `1-3`). */
  seeds?: string;
  name?: string;
  /** Confirms a grid of more than MAX_GRID_WITHOUT_YES points. */
  yes?: boolean;
  /** Replace experiments of the same name. */
  force?: boolean;
}

/** The artifacts root and lock of an experiment, relative to the root. */
export function expPaths(name: string): { workspace: string; artifacts: string; lockFile: string } {
  const workspace = expWorkspace(name);
  return { workspace, artifacts: `${workspace}/artifacts`, lockFile: `${workspace}/pipeline.lock` };
}

/** The pipeline as an experiment sees it: the profile's params with the overrides, its own artifacts root and lock. */
export function loadExperimentPipeline(root: string, rec: Pick<ExpRecord, 'profile' | 'overrides' | 'artifacts' | 'lockFile'>): Pipeline {
  const p = loadPipeline({ root, profile: rec.profile, overrides: rec.overrides, artifacts: rec.artifacts, lockFile: rec.lockFile });
  // An out outside the artifacts root would be written into the user's workspace.
  for (const s of p.stages) {
    const outside = allOuts(s).find((o) => o !== p.artifacts && !o.startsWith(`${p.artifacts}/`));
    if (outside) throw new PipelineError(`${p.file}: stage '${s.name}': out '${outside}' is not under \${artifacts}, so an experiment cannot keep it apart from the workspace`);
  }
  return p;
}

/**
 * The params (flattened) of the stages an experiment will run: those declaring a params key the
 * overrides touch, and everything downstream of them. The others are restored from the cache.
 */
export function reachedParams(p: Pipeline, overrides: Record<string, Json>): Record<string, Json> {
  const keys = Object.keys(overrides);
  const touches = (declared: string) => keys.some((k) => k === declared || k.startsWith(`${declared}.`) || declared.startsWith(`${k}.`));
  const graph = buildGraph(p);
  const reached = closure(p.stages.filter((s) => s.params.some(touches)).map((s) => s.name), graph.downstream);
  const out: Record<string, Json> = {};
  for (const name of reached) {
    for (const declared of p.byName.get(name)!.params) Object.assign(out, flatten(getDotted(p.params, declared) ?? null, declared));
  }
  return out;
}

/**
 * Cores an experiment uses: the largest value of a params key named `workers` (at any depth;
 * `auto` = every core, `cpus`) among `params` (those of the stages it runs), at least 1. The
 * engine knows no other params key.
 */
export function experimentCores(params: Record<string, Json>, cpus = os.availableParallelism()): number {
  let cores = 1;
  for (const [key, v] of Object.entries(params)) {
    if (key.split('.').pop() !== 'workers') continue;
    if (v === 'auto') cores = Math.max(cores, cpus);
    else if (typeof v === 'number' && Number.isInteger(v)) cores = Math.max(cores, v);
  }
  return cores;
}

function gitHead(root: string): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/**
 * The experiments `exp run` asks for, as queued records (nothing written): each point of the
 * grid loaded and checked (keys, types, names) before any runs.
 */
export function planExperiments(root: string, req: ExpRunRequest): ExpRecord[] {
  const axes = gridAxes(req.sets, req.seeds === undefined ? undefined : parseSeeds(req.seeds));
  if (req.seeds !== undefined && getDotted(loadParams(root, req.profile), SEED_KEY) === undefined) {
    throw new PipelineError(`--seeds ${req.seeds}: ${paramsFileNames(req.profile).join(' + ')} set no top-level '${SEED_KEY}' key for it to vary`);
  }
  checkGridSize(axes, !!req.yes);
  const points = expandGrid(axes);
  const names = pointNames(points, req.profile, req.name);
  const existing = new Set(storedNames(root));
  const taken = names.filter((n) => existing.has(n));
  if (taken.length && !req.force) {
    throw new PipelineError(`exp run: experiment(s) ${taken.slice(0, 5).join(', ')}${taken.length > 5 ? ', ...' : ''} already exist; pass --force to replace, --name for another name, or 'exp remove'`);
  }
  const now = Date.now();
  return points.map((overrides, i) => {
    const name = names[i]!;
    const paths = expPaths(name);
    const p = loadExperimentPipeline(root, { profile: req.profile, overrides, ...paths });
    const params = flatten(p.params);
    return {
      name,
      status: 'queued',
      profile: req.profile,
      baseCommit: gitHead(root),
      overrides,
      params,
      metrics: {},
      ...paths,
      // One millisecond apart: the queue (sorted by createdAt) keeps the grid's order.
      createdAt: new Date(now + i).toISOString(),
      cores: experimentCores(reachedParams(p, overrides)),
    } satisfies ExpRecord;
  });
}

/** Write the records as queued, replacing same-named experiments (their folders) first. */
export function enqueue(root: string, records: ExpRecord[]): void {
  for (const rec of records) {
    refuseRunning(root, rec.name);
    fs.rmSync(path.join(root, rec.workspace), { recursive: true, force: true });
    writeExperiment(root, rec);
  }
}

function refuseRunning(root: string, name: string): void {
  const pid = runLockHolder(path.join(root, expWorkspace(name)));
  if (pid !== undefined) throw new PipelineError(`experiment '${name}' is running (pid ${pid}); wait for it to finish`);
}

/**
 * Seed the shared run-cache with what the profile's lock records, so an experiment restores the
 * workspace's stages even when the run-cache never saw them (a lock written before run keys
 * were independent of the artifacts root, or a gc'd run-cache). Existing entries are kept.
 */
function seedRunCacheFromLock(root: string, p: Pipeline): void {
  const artifacts = artifactsRoot(p.profile);
  const lock = readLock(root, lockFileName(p.file, p.profile));
  const runs = new RunCache(workDirs(root).runs, artifacts);
  for (const entry of Object.values(lock)) {
    const key = runKeyOfEntry(entry, artifacts);
    if (!runs.lookup(key)) runs.record(key, entry.outs);
  }
}

/** Every metrics file the run left, keyed by its path with the artifacts root as `${artifacts}`. */
function readRunMetrics(p: Pipeline): Record<string, Json> {
  const metrics: Record<string, Json> = {};
  for (const file of p.stages.flatMap((s) => s.metrics)) {
    try {
      metrics[portablePaths(file, p.artifacts)] = JSON.parse(fs.readFileSync(path.join(p.root, file), 'utf8')) as Json;
    } catch {
      /* not written (the stage failed or did not run) or not JSON */
    }
  }
  return metrics;
}

/**
 * Run one recorded experiment (queued, or any state with `exp run --force`) and record the
 * outcome. Returns the final record; a failure is recorded, not thrown.
 */
export async function runExperiment(root: string, name: string, log: (line: string) => void): Promise<ExpRecord> {
  const queued = readExperiment(root, name);
  const startedAt = new Date();
  let rec: ExpRecord = { ...queued, status: 'running', startedAt: startedAt.toISOString(), worker: `${os.hostname()}:${process.pid}`, baseCommit: gitHead(root) };
  delete rec.error;
  writeExperiment(root, rec);
  log(`exp ${name} (profile ${rec.profile}): ${describePoint(rec.overrides)}`);
  try {
    const p = loadExperimentPipeline(root, rec);
    const dirs = workDirs(root, rec.workspace);
    // The workspace's hash memo spares re-hashing the source deps (same paths).
    if (!fs.existsSync(dirs.state) && fs.existsSync(workDirs(root).state)) fs.copyFileSync(workDirs(root).state, dirs.state);
    seedRunCacheFromLock(root, p);
    const res = await repro(p, { ownDir: rec.workspace, log, profileLabel: `experiment ${name}, profile ${rec.profile}` });
    const failed = [...res.outcomes].filter(([, o]) => o === 'failed').map(([s]) => s);
    rec = {
      ...rec,
      status: res.ok ? 'done' : 'failed',
      params: flatten(p.params),
      metrics: readRunMetrics(p),
      outcomes: Object.fromEntries(res.outcomes),
      ...(res.ok ? {} : { error: `stage(s) failed: ${failed.join(', ')}` }),
    };
  } catch (e) {
    rec = { ...rec, status: 'failed', error: (e as Error).message };
    if (!(e instanceof PipelineError)) {
      finish(root, rec, startedAt);
      throw e;
    }
    log(`exp ${name}: FAILED: ${rec.error}`);
  }
  finish(root, rec, startedAt);
  log(`exp ${name}: ${rec.status} in ${rec.durationS!.toFixed(1)} s (${rec.workspace})`);
  return rec;
}

function finish(root: string, rec: ExpRecord, startedAt: Date): void {
  const end = new Date();
  rec.finishedAt = end.toISOString();
  rec.durationS = (end.getTime() - startedAt.getTime()) / 1000;
  writeExperiment(root, rec);
}

// ---------------------------------------------------------------- queue

/** The cores the queue reserves for an experiment: its cores, but never more than the queue's. */
export function reservedCores(rec: ExpRecord, jobs: number): number {
  return Math.min(jobs, Math.max(1, rec.cores ?? 1));
}

/** The rule `exp queue start` prints and follows. */
export function queueRule(jobs: number): string {
  return (
    `up to ${jobs} core(s) at a time; an experiment takes min(${jobs}, max(1, its params 'workers' value; auto = ${os.availableParallelism()})) core(s); ` +
    'the oldest queued experiment starts as soon as its cores are free (first in, first out)'
  );
}

export interface QueueOptions {
  jobs: number;
  log: (line: string) => void;
  /** The command that runs one queued experiment in a child process: argv after node. */
  childArgs: (name: string) => string[];
}

/**
 * `exp queue start`: run the queued experiments, each in its own child process (one crash cannot
 * take the others down), up to `jobs` cores at a time; experiments queued meanwhile join. Returns
 * true when every experiment it ran is done.
 */
export async function runQueue(root: string, opts: QueueOptions): Promise<boolean> {
  const expsDir = path.join(root, EXPS_DIR);
  // One queue runner per workspace: two would start the same experiment twice.
  const release = await acquireRunLock(root, false, undefined, expsDir);
  let allDone = true;
  try {
    opts.log(`exp queue: ${listExperiments(root).filter((r) => r.status === 'queued').length} queued; ${queueRule(opts.jobs)}`);
    const running = new Map<string, { cores: number; exited: Promise<void> }>();
    const started = new Set<string>();
    for (;;) {
      const used = [...running.values()].reduce((n, r) => n + r.cores, 0);
      const next = listExperiments(root).find((r) => r.status === 'queued' && !started.has(r.name));
      if (next && used + reservedCores(next, opts.jobs) <= opts.jobs) {
        const cores = reservedCores(next, opts.jobs);
        started.add(next.name);
        const exited = startChild(root, next, opts).then((ok) => {
          running.delete(next.name);
          if (!ok) allDone = false;
        });
        running.set(next.name, { cores, exited });
        continue;
      }
      if (!running.size) break;
      await Promise.race([...running.values()].map((r) => r.exited));
    }
  } finally {
    release();
  }
  return allDone;
}

/** Start one experiment's child process (output to its folder's log.txt); resolves when it exits. */
function startChild(root: string, rec: ExpRecord, opts: QueueOptions): Promise<boolean> {
  const logFile = path.join(root, rec.workspace, 'log.txt');
  const fd = fs.openSync(logFile, 'w');
  const child = spawn(process.execPath, opts.childArgs(rec.name), { cwd: root, env: { ...process.env, PIPELINE_ROOT: root }, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const since = Date.now();
  opts.log(`exp queue: started ${rec.name} (pid ${child.pid}, ${reservedCores(rec, opts.jobs)} core(s)): ${describePoint(rec.overrides)}`);
  return new Promise((resolve) => {
    child.on('error', (e) => recordCrash(root, rec.name, `could not start: ${e.message}`));
    child.on('close', (code, signal) => {
      let after = readExperiment(root, rec.name);
      if (after.status === 'running' || after.status === 'queued') {
        recordCrash(root, rec.name, `its process exited with ${signal ?? `code ${code}`} (${path.relative(root, logFile)})`);
        after = readExperiment(root, rec.name);
      }
      opts.log(`exp queue: ${rec.name} ${after.status} after ${((Date.now() - since) / 1000).toFixed(1)} s${after.error ? `: ${after.error}` : ''}`);
      resolve(after.status === 'done');
    });
  });
}

function recordCrash(root: string, name: string, error: string): void {
  const rec = readExperiment(root, name);
  writeExperiment(root, { ...rec, status: 'failed', error, finishedAt: new Date().toISOString() });
}

/** `exp queue status`: the queue runner, what runs (pid) and what waits, in order. */
export function queueStatus(root: string): string {
  const runner = runLockHolder(path.join(root, EXPS_DIR));
  const recs = listExperiments(root);
  const running = recs.filter((r) => r.status === 'running');
  const waiting = recs.filter((r) => r.status === 'queued');
  const lines = [`exp queue: ${runner ? `queue runner pid ${runner}` : 'no queue runner'}; ${running.length} running, ${waiting.length} queued`];
  for (const r of running) {
    const pid = runLockHolder(path.join(root, r.workspace));
    lines.push(`  running  ${r.name}  ${pid ? `pid ${pid}` : `worker ${r.worker ?? '?'} is gone (crashed?)`}  since ${r.startedAt ?? '?'}  ${describePoint(r.overrides)}`);
  }
  for (const r of waiting) lines.push(`  queued   ${r.name}  ${r.cores ?? 1} core(s)  ${describePoint(r.overrides)}`);
  return lines.join('\n');
}

// ---------------------------------------------------------------- apply, remove

/** The params file `exp apply` writes: params.yaml for the default profile, else the profile's (last) overlay. */
export function applyTarget(profile: string): string {
  return profile === DEFAULT_PROFILE ? 'params.yaml' : `params.${profileOverlays(profile).pop()}.yaml`;
}

/**
 * `exp apply NAME`: the experiment's overrides written into its profile's params file. A key the
 * file already sets has just its value's text replaced (comments, alignment and the rest kept
 * byte for byte); a key it lacks is added through the yaml Document API (comments kept). Returns
 * the changed lines, `file: key: old -> new`.
 */
export function applyExperiment(root: string, name: string): string[] {
  const rec = readExperiment(root, name);
  const file = applyTarget(rec.profile);
  const abs = path.join(root, file);
  const text = fs.existsSync(abs) ? fs.readFileSync(abs, 'utf8') : '';
  const doc = YAML.parseDocument(text);
  if (doc.errors.length) throw new PipelineError(`${file}: invalid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  const before = loadParams(root, rec.profile);
  const changed = Object.entries(rec.overrides).filter(([key, value]) => canonical(getDotted(before, key)) !== canonical(value));
  if (!changed.length) return [];
  const splices = changed.map(([key, value]) => ({ node: doc.getIn(key.split('.'), true), value }));
  let out: string;
  if (splices.every((s) => (YAML.isScalar(s.node) || YAML.isCollection(s.node)) && s.node.range)) {
    // Last edit first, so earlier offsets stay valid.
    out = text;
    const edits = splices.map((s) => ({ range: (s.node as YAML.Scalar).range!, text: inlineYaml(s.value) })).sort((a, b) => b.range[0] - a.range[0]);
    for (const e of edits) out = out.slice(0, e.range[0]) + e.text + out.slice(e.range[1]);
  } else {
    for (const [key, value] of changed) doc.setIn(key.split('.'), Array.isArray(value) || isObject(value) ? doc.createNode(value, { flow: true }) : value);
    out = doc.toString();
  }
  const check = YAML.parse(out) as Json;
  for (const [key, value] of changed) {
    if (canonical(getDotted(check, key)) !== canonical(value)) throw new PipelineError(`${file}: could not write ${formatOverride(key, value)} (the file is left as it was)`);
  }
  writeAtomic(abs, out);
  return changed.map(([key, value]) => `${file}: ${key}: ${inlineYaml(getDotted(before, key) ?? null)} -> ${inlineYaml(value)}`);
}

/** A value as one line of YAML: `0.01`, `cosine`, `[8, 16]`. */
function inlineYaml(value: Json): string {
  return YAML.stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trim();
}

/** `exp remove`: the records and folders (cache objects stay until `ser-pipeline gc`). Returns the names removed. */
export function removeExperiments(root: string, names: string[]): string[] {
  for (const n of names) readExperiment(root, n); // each must exist (names the nearest)
  for (const n of names) refuseRunning(root, n);
  for (const n of names) fs.rmSync(path.join(root, expWorkspace(n)), { recursive: true, force: true });
  return names;
}
