/**
 * gc: remove cache objects and run-cache entries that no kept lock references.
 *
 * What is kept depends on the scope:
 * - `workspace`:    the lock of one profile in the workspace (pipeline.lock or pipeline.<profile>.lock);
 * - `all-profiles`: every pipeline*.lock in the workspace;
 * - `all-commits`:  every pipeline*.lock in the workspace and in every commit reachable from any
 *                   git ref (branches, tags, stash).
 * Every scope also keeps what each experiment's lock (`.pipeline/exps/<name>/pipeline.lock`)
 * references: an experiment's outs live in the shared cache until `exp remove`.
 * A lock keeps every md5 it lists (deps and outs) and, for a directory, its manifest and every
 * file in it. A run-cache entry is kept when all the outs it records are kept.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { PipelineError } from './errors.ts';
import { Cache } from './cache.ts';
import { parseLockText, type Lock, type LockedPath } from './lock.ts';
import { PROFILE_NAME_PATTERN } from './profile.ts';
import { experimentLockFiles, runningExperiments } from './exp-store.ts';

export type GcScope = 'workspace' | 'all-profiles' | 'all-commits';

/** A lock file's text and where it came from (`pipeline.lock`, or `<path> at <sha>` from git). */
export interface LockSource {
  label: string;
  text: string;
}

export interface GcPlan {
  /** Labels of the locks whose references are kept. */
  locks: string[];
  objects: { total: number; remove: string[]; removeBytes: number };
  runs: { total: number; remove: string[] };
}

// pipeline.lock and every profile's pipeline.<profile>.lock, stacked ones (`demo+webgpu`) included.
const LOCK_NAME = new RegExp(`^pipeline(\\.${PROFILE_NAME_PATTERN})?\\.lock$`);

/** Every pipeline*.lock in `dir` (the directory holding pipeline.yaml), sorted. */
export function workspaceLockFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => LOCK_NAME.test(f)).sort();
}

function git(root: string, args: string[], input?: string): string {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8', input, maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'pipe'] });
}

/**
 * Every distinct pipeline*.lock blob in the history reachable from any ref, for the pipeline in
 * `root` (which may be a subdirectory of the repository).
 */
export function locksInHistory(root: string): LockSource[] {
  let prefix: string;
  try {
    prefix = git(root, ['rev-parse', '--show-prefix']).trim();
  } catch {
    throw new PipelineError(`gc --all-commits: ${root} is not inside a git repository`);
  }
  const blobs = new Map<string, string>(); // sha -> path
  for (const line of git(root, ['rev-list', '--all', '--objects']).split('\n')) {
    const sp = line.indexOf(' ');
    if (sp < 0) continue;
    const file = line.slice(sp + 1);
    if (!file.startsWith(prefix)) continue;
    const rest = file.slice(prefix.length);
    if (!rest.includes('/') && LOCK_NAME.test(rest)) blobs.set(line.slice(0, sp), file);
  }
  if (!blobs.size) return [];
  // One `git cat-file --batch` for all blobs: "<sha> blob <size>\n<content>\n" each.
  const out = execFileSync('git', ['cat-file', '--batch'], { cwd: root, input: [...blobs.keys()].join('\n') + '\n', maxBuffer: 1 << 30 });
  const res: LockSource[] = [];
  let at = 0;
  while (at < out.length) {
    const nl = out.indexOf(0x0a, at);
    const [sha = '', type, size] = out.subarray(at, nl).toString('utf8').split(' ');
    if (type !== 'blob') throw new PipelineError(`gc --all-commits: git could not read lock blob ${sha}`);
    const start = nl + 1;
    const end = start + Number(size);
    res.push({ label: `${blobs.get(sha)} (blob ${sha.slice(0, 10)})`, text: out.subarray(start, end).toString('utf8') });
    at = end + 1;
  }
  return res;
}

/** The lock sources a scope keeps. `profileLock` is the selected profile's lock (for `workspace`). */
export function lockSources(root: string, scope: GcScope, profileLock: string): LockSource[] {
  const read = (f: string): LockSource[] => (fs.existsSync(path.join(root, f)) ? [{ label: f, text: fs.readFileSync(path.join(root, f), 'utf8') }] : []);
  const experiments = experimentLockFiles(root).flatMap(read);
  if (scope === 'workspace') return [...read(profileLock), ...experiments];
  const here = [...workspaceLockFiles(root).flatMap(read), ...experiments];
  return scope === 'all-profiles' ? here : [...here, ...locksInHistory(root)];
}

/** Every cache key (md5, or `<md5>.dir`) the locks reference, directory manifests expanded. */
export function referencedObjects(locks: Lock[], cache: Cache): Set<string> {
  const keep = new Set<string>();
  const add = (p: LockedPath) => {
    if (!p.md5 || keep.has(p.md5)) return;
    keep.add(p.md5);
    if (p.md5.endsWith('.dir')) for (const e of cache.readManifest(p.md5) ?? []) keep.add(e.md5);
  };
  for (const lock of locks) for (const e of Object.values(lock)) for (const p of [...e.deps, ...e.outs]) add(p);
  return keep;
}

/** Files two levels down (`<xx>/<rest>`), as [key = xx + rest, absolute path]. */
function twoLevelFiles(dir: string): [string, string][] {
  if (!fs.existsSync(dir)) return [];
  const out: [string, string][] = [];
  for (const a of fs.readdirSync(dir)) {
    const sub = path.join(dir, a);
    if (!fs.statSync(sub).isDirectory()) continue;
    for (const b of fs.readdirSync(sub)) out.push([a + b, path.join(sub, b)]);
  }
  return out;
}

/** What gc would remove; reads only. */
export function planGc(cacheDir: string, runsDir: string, sources: LockSource[]): GcPlan {
  const cache = new Cache(cacheDir);
  const keep = referencedObjects(sources.map((s) => parseLockText(s.text, s.label)), cache);
  const objects = twoLevelFiles(cacheDir);
  const removeObjects = objects.filter(([key]) => !keep.has(key));
  const runs = twoLevelFiles(runsDir);
  const removeRuns = runs.filter(([, abs]) => {
    try {
      const outs = JSON.parse(fs.readFileSync(abs, 'utf8')) as LockedPath[];
      return !Array.isArray(outs) || !outs.every((o) => keep.has(o.md5));
    } catch {
      return true; // unreadable entry: useless to a repro
    }
  });
  return {
    locks: sources.map((s) => s.label),
    objects: { total: objects.length, remove: removeObjects.map(([, abs]) => abs), removeBytes: removeObjects.reduce((n, [, abs]) => n + fs.statSync(abs).size, 0) },
    runs: { total: runs.length, remove: removeRuns.map(([, abs]) => abs) },
  };
}

/** Delete what the plan lists, then the emptied two-character folders. */
export function applyGc(plan: GcPlan): void {
  const dirs = new Set<string>();
  for (const f of [...plan.objects.remove, ...plan.runs.remove]) {
    fs.rmSync(f, { force: true });
    dirs.add(path.dirname(f));
  }
  for (const d of dirs) {
    try {
      fs.rmdirSync(d);
    } catch {
      /* not empty */
    }
  }
}


/**
 * gc --force while an experiment runs could remove objects it stored but has not locked yet
 * (as for the workspace's repro, whose run lock gc holds): refuse, naming them.
 */
export function refuseWhileExperimentsRun(root: string): void {
  const running = runningExperiments(root);
  if (running.length) throw new PipelineError(`gc: experiment(s) running: ${running.map((r) => `${r.name} (pid ${r.pid})`).join(', ')}; run gc when they are done`);
}
