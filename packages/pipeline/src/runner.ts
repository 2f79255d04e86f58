/**
 * repro: runs stale stages in topological order (in parallel up to -j), restoring outs from the
 * cache or the run-cache when possible, staging outs so a failed or killed stage writes nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { PipelineError, located } from './errors.ts';
import { allOuts, tokenRegex, outToken, type Pipeline, type Stage } from './parse.ts';
import { buildGraph, closure, producerOf, type Graph } from './graph.ts';
import { Hasher, withManifest, type HashInfo } from './hash.ts';
import { Cache, writeAtomic } from './cache.ts';
import { readLock, writeLock, type Lock, type LockEntry, type LockedPath } from './lock.ts';
import { computeStatus, evaluateStage, runKey, toLocked, type StageState } from './status.ts';
import { canonical, nestedSubset, type Json } from './params.ts';
import { acquireRunLock } from './runlock.ts';

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

export function workDirs(root: string) {
  const base = path.join(root, '.pipeline');
  return {
    base,
    cache: path.join(base, 'cache'),
    runs: path.join(base, 'runs'),
    staging: path.join(base, 'staging'),
    scratch: path.join(base, 'scratch'),
    state: path.join(base, 'state.json'),
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

export function selectStages(p: Pipeline, g: Graph, o: ReproOptions): string[] {
  const targets = o.targets?.length ? resolveTargets(p, o.targets) : p.stages.map((s) => s.name);
  let sel: Set<string>;
  if (o.singleItem) sel = new Set(targets);
  else if (o.downstream) sel = closure(targets, g.downstream);
  else sel = closure(targets, g.upstream);
  return g.order.filter((n) => sel.has(n));
}

/** Rewrite every out token in cmd to its staging path. */
export function stageCmd(s: Stage, stagingRel: string): { cmd: string; tokens: string[] } {
  const tokens = [...new Set(allOuts(s).map((o) => outToken(s.cmd, o, s.deps)!))].sort((a, b) => b.length - a.length);
  let cmd = s.cmd;
  for (const t of tokens) cmd = cmd.replace(tokenRegex(t, 'g'), (_m, pre: string) => `${pre}${stagingRel}/${t}`);
  return { cmd, tokens };
}

function fmtSec(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** Lines from a stream, each prefixed; `\r` progress updates become lines too. */
function pipeLines(stream: NodeJS.ReadableStream, prefix: string, write: (s: string) => void) {
  let buf = '';
  stream.setEncoding?.('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    const parts = buf.split(/\r\n|\n|\r/);
    buf = parts.pop()!;
    for (const line of parts) if (line.length) write(`${prefix}${line}\n`);
  });
  stream.on('end', () => {
    if (buf.length) write(`${prefix}${buf}\n`);
    buf = '';
  });
}

const children = new Set<number>();
let signalsHooked = false;
function hookSignals() {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      for (const pid of children) {
        try {
          process.kill(-pid, 'SIGTERM');
        } catch {
          /* gone */
        }
      }
      process.exit(130);
    });
  }
}

function runShell(p: Pipeline, s: Stage, cmd: string, scratch: string, params: object): Promise<number> {
  const bin = path.join(p.root, 'node_modules', '.bin');
  const env = {
    ...process.env,
    PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`,
    PIPELINE_PARAMS: JSON.stringify(params),
    PIPELINE_SCRATCH: scratch,
    PIPELINE_STAGE: s.name,
    PIPELINE_PROFILE: p.profile === 'default' ? '' : p.profile,
  };
  hookSignals();
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', cmd], { cwd: p.root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (child.pid) children.add(child.pid);
    pipeLines(child.stdout!, `[${s.name}] `, (l) => process.stdout.write(l));
    pipeLines(child.stderr!, `[${s.name}] `, (l) => process.stderr.write(l));
    child.on('error', () => resolve(127));
    child.on('close', (code, signal) => {
      if (child.pid) children.delete(child.pid);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

function lockEntryFrom(st: StageState, outs: Map<string, HashInfo>): LockEntry {
  const deps: LockedPath[] = st.stage.deps.map((d) => toLocked(d, st.deps.get(d)!));
  return { cmd: st.stage.cmd, deps, params: st.params, outs: allOuts(st.stage).map((o) => toLocked(o, outs.get(o)!)) };
}

function sameOuts(a: LockEntry | undefined, b: LockEntry): boolean {
  return !!a && JSON.stringify(a.outs.map((x) => [x.path, x.md5])) === JSON.stringify(b.outs.map((x) => [x.path, x.md5]));
}

export async function repro(p: Pipeline, o: ReproOptions = {}): Promise<ReproResult> {
  const t0 = Date.now();
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const g = buildGraph(p);
  const selected = selectStages(p, g, o);
  const dirs = workDirs(p.root);
  const hasher = new Hasher(p.root, dirs.state);
  const outcomes = new Map<string, Outcome>();
  log(`repro${o.dry ? ' --dry' : ''} (${o.profileLabel ?? `profile ${p.profile}`}): ${selected.length} stage(s) selected, lock ${p.lockFile}`);

  if (o.dry) {
    const lock = readLock(p.root, p.lockFile);
    const status = computeStatus(p, g, lock, hasher);
    for (const n of selected) {
      const st = status.get(n)!;
      const stale = o.force || st.stale;
      log(stale ? `${n}: would run (${o.force && !st.stale ? 'forced' : st.reasons.map((r) => r.message).join('; ')})` : `${n}: up to date`);
      outcomes.set(n, stale ? 'ran' : 'cached');
    }
    hasher.save();
    const nrun = [...outcomes.values()].filter((x) => x === 'ran').length;
    log(`dry run: ${nrun} stage(s) would run, ${selected.length - nrun} up to date (${fmtSec(Date.now() - t0)})`);
    return { outcomes, mismatched: [], ok: true, seconds: (Date.now() - t0) / 1000 };
  }

  const release = await acquireRunLock(p.root, !!o.wait, (pid) => log(`waiting for repro pid ${pid} to finish (.pipeline/repro.lock)...`));
  try {
    return await runSelected(p, g, selected, o, hasher, log, t0);
  } finally {
    hasher.save();
    release();
  }
}

async function runSelected(p: Pipeline, g: Graph, selected: string[], o: ReproOptions, hasher: Hasher, log: (l: string) => void, t0: number): Promise<ReproResult> {
  const dirs = workDirs(p.root);
  const cache = new Cache(dirs.cache);
  const lock: Lock = readLock(p.root, p.lockFile);
  const before: Lock = JSON.parse(JSON.stringify(lock));
  const outcomes = new Map<string, Outcome>();
  const order = p.stages.map((s) => s.name);
  const sel = new Set(selected);
  cleanStaging(dirs.staging);

  // A dep no stage produces must exist before anything runs.
  for (const n of selected) {
    const s = p.byName.get(n)!;
    for (const d of s.deps) {
      if (!producerOf(p, d) && hasher.hashPath(d) === undefined) {
        const from = s.depTemplates[d] ? ` (${s.depTemplates[d]}: check that value)` : '';
        const hint = s.hint ? `: ${s.hint}` : '';
        throw new PipelineError(located(p.file, s.line, s.name, `dep '${d}'${from} does not exist and no stage produces it${hint}`));
      }
    }
  }

  const jobs = Math.max(1, o.jobs ?? 1);
  const done = new Set<string>();
  const running = new Map<string, Promise<void>>();
  let failed = false;

  const process1 = async (name: string): Promise<void> => {
    const s = p.byName.get(name)!;
    const st = evaluateStage(p, s, lock[name], hasher);
    const forced = !!o.force;
    if (!forced && st.reasons.length === 0) {
      outcomes.set(name, 'cached');
      log(`${name}: cached`);
      return;
    }
    // Only outs missing/modified while inputs match the lock: restore them from the cache.
    const entry = lock[name];
    if (!forced && entry && st.reasons.every((r) => r.type === 'out' && r.change !== 'removed' && r.change !== 'added') && entry.outs.every((l) => cache.has(l as HashInfo))) {
      for (const l of entry.outs) {
        if (st.outs.get(l.path)?.md5 !== l.md5) cache.checkout(l as HashInfo, path.resolve(p.root, l.path), hasher);
        hasher.invalidate(l.path);
      }
      outcomes.set(name, 'restored');
      log(`${name}: restored outs from cache (${st.reasons.map((r) => r.message).join('; ')})`);
      return;
    }
    const key = runKey(st);
    const runFile = path.join(dirs.runs, key.slice(0, 2), `${key.slice(2)}.json`);
    if (!forced && fs.existsSync(runFile)) {
      const cachedOuts = JSON.parse(fs.readFileSync(runFile, 'utf8')) as LockedPath[];
      if (cachedOuts.every((l) => cache.has(l as HashInfo)) && cachedOuts.map((x) => x.path).join('\0') === allOuts(s).join('\0')) {
        const outs = new Map<string, HashInfo>();
        for (const l of cachedOuts) {
          if (st.outs.get(l.path)?.md5 !== l.md5) cache.checkout(l as HashInfo, path.resolve(p.root, l.path), hasher);
          hasher.invalidate(l.path);
          outs.set(l.path, l as HashInfo);
        }
        lock[name] = lockEntryFrom(st, outs);
        writeLock(p.root, p.lockFile, lock, order);
        outcomes.set(name, 'run-cache');
        log(`${name}: restored from run-cache without running (${st.reasons.map((r) => r.message).join('; ')})`);
        return;
      }
    }
    log(`${name}: running (${forced && !st.reasons.length ? 'forced' : st.reasons.map((r) => r.message).join('; ')})`);
    log(`[${name}] $ ${s.cmd}`);
    const stagingRel = path.posix.join('.pipeline', 'staging', `${name}.${process.pid}`);
    const stagingAbs = path.resolve(p.root, stagingRel);
    fs.rmSync(stagingAbs, { recursive: true, force: true });
    const { cmd, tokens } = stageCmd(s, stagingRel);
    for (const t of tokens) fs.mkdirSync(path.dirname(path.join(stagingAbs, t)), { recursive: true });
    const scratch = path.join(dirs.scratch, name, key.slice(0, 16));
    removeEmptyScratch(path.dirname(scratch));
    fs.mkdirSync(scratch, { recursive: true });
    const ts = Date.now();
    const code = await runShell(p, s, cmd, scratch, nestedSubset(st.params));
    if (code !== 0) {
      fs.rmSync(stagingAbs, { recursive: true, force: true });
      const resumable = hasFiles(scratch);
      if (!resumable) removeEmptyScratch(path.dirname(scratch));
      outcomes.set(name, 'failed');
      const kept = resumable ? `; scratch ${path.relative(p.root, scratch)} kept for a resume` : '';
      log(`${name}: FAILED with exit code ${code} after ${fmtSec(Date.now() - ts)}; nothing recorded${kept}`);
      failed = true;
      return;
    }
    // Hash and cache staged outs, then move them into place.
    const outs = new Map<string, HashInfo>();
    for (const out of allOuts(s)) {
      const staged = path.join(stagingAbs, out);
      if (!fs.existsSync(staged)) {
        fs.rmSync(stagingAbs, { recursive: true, force: true });
        outcomes.set(name, 'failed');
        log(`${name}: FAILED: the command exited 0 but did not write out '${out}'; nothing recorded`);
        failed = true;
        return;
      }
      const h = hashStaged(hasher, staged);
      cache.store(staged, h);
      outs.set(out, h);
    }
    for (const out of allOuts(s)) {
      const dest = path.resolve(p.root, out);
      const staged = path.join(stagingAbs, out);
      fs.rmSync(dest, { recursive: true, force: true });
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.renameSync(staged, dest);
      rememberPlaced(hasher, dest, outs.get(out)!);
      hasher.invalidate(out);
    }
    fs.rmSync(stagingAbs, { recursive: true, force: true });
    fs.rmSync(scratch, { recursive: true, force: true });
    removeEmptyScratch(path.dirname(scratch));
    // Deps as they are now (a stage may legitimately fill a dep, e.g. download into an empty dir).
    for (const d of s.deps) {
      hasher.invalidate(d);
      const h = hasher.hashPath(d);
      if (h) st.deps.set(d, h);
    }
    const newEntry = lockEntryFrom(st, outs);
    const unchanged = sameOuts(lock[name], newEntry);
    lock[name] = newEntry;
    writeLock(p.root, p.lockFile, lock, order);
    writeAtomic(runFile, JSON.stringify(newEntry.outs));
    outcomes.set(name, 'ran');
    log(`${name}: done in ${fmtSec(Date.now() - ts)}${unchanged ? ' (outs identical to the lock: downstream can stay cached)' : ''}`);
  };

  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      if (running.size === 0 && (failed || done.size + skippedCount() === selected.length)) return resolve();
      if (failed) return;
      for (const n of selected) {
        if (running.size >= jobs) break;
        if (done.has(n) || running.has(n)) continue;
        const ups = (g.upstream.get(n) ?? []).filter((u) => sel.has(u));
        if (!ups.every((u) => done.has(u))) continue;
        const pr = process1(n)
          .then(() => {
            running.delete(n);
            done.add(n);
            pump();
          })
          .catch((e) => {
            running.delete(n);
            failed = true;
            reject(e);
          });
        running.set(n, pr);
      }
      if (running.size === 0 && done.size < selected.length && !failed) resolve();
    };
    const skippedCount = () => 0;
    pump();
  });

  for (const n of selected) if (!outcomes.has(n)) outcomes.set(n, 'skipped');
  const count = (x: Outcome) => [...outcomes.values()].filter((v) => v === x).length;
  const mismatched: string[] = [];
  if (o.check) {
    const except = new Set(o.checkExcept?.length ? resolveTargets(p, o.checkExcept) : []);
    for (const n of selected) {
      if (except.has(n)) continue;
      const a = before[n];
      const b = lock[n];
      if (!a || !b || canonical(a as unknown as Json) !== canonical(b as unknown as Json)) mismatched.push(n);
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  const parts = [`${count('ran')} ran`, `${count('cached')} cached`, `${count('restored')} restored from cache`, `${count('run-cache')} restored from run-cache`];
  if (count('failed')) parts.push(`${count('failed')} failed`);
  if (count('skipped')) parts.push(`${count('skipped')} not run`);
  log(`repro${p.profile !== 'default' ? ` (profile ${p.profile})` : ''}: ${parts.join(', ')} in ${fmtSec(seconds * 1000)}`);
  if (process.env.PIPELINE_STATS) log(`stats: hashed ${hasher.filesHashed} file(s), ${hasher.bytesHashed} bytes`);
  if (o.check) {
    if (mismatched.length) {
      for (const n of mismatched) log(`check: stage '${n}': ${p.lockFile} entry before the run differs from what the run produced${diffSummary(before[n], lock[n])}`);
    } else log(`check: ${p.lockFile} matches what this run produced for all ${selected.length - (o.checkExcept?.length ? resolveTargets(p, o.checkExcept).filter((n) => selected.includes(n)).length : 0)} checked stage(s)`);
  }
  return { outcomes, mismatched, ok: !failed && mismatched.length === 0, seconds };
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

function hashStaged(hasher: Hasher, abs: string): HashInfo {
  const st = fs.statSync(abs);
  if (st.isDirectory()) return withManifest(hasher.walk(abs, false));
  return { md5: hasher.fileMd5(abs, st, false), size: st.size };
}

function rememberPlaced(hasher: Hasher, dest: string, h: HashInfo) {
  if (h.entries) for (const e of h.entries) hasher.remember(path.join(dest, e.relpath), fs.statSync(path.join(dest, e.relpath)), e.md5);
  else hasher.remember(dest, fs.statSync(dest), h.md5);
}

/** True when `dir` holds at least one file (at any depth): something a rerun could resume from. */
function hasFiles(dir: string): boolean {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  return entries.some((e) => !e.isDirectory() || hasFiles(path.join(dir, e.name)));
}

/**
 * A stage's scratch folder (`.pipeline/scratch/<stage>`): drop the fingerprint folders with
 * nothing to resume (left by a failed or killed run that wrote nothing there), then the stage
 * folder itself when it is empty. Folders holding files stay for a resume.
 */
function removeEmptyScratch(stageDir: string): void {
  if (!fs.existsSync(stageDir)) return;
  for (const d of fs.readdirSync(stageDir)) {
    const abs = path.join(stageDir, d);
    if (!hasFiles(abs)) fs.rmSync(abs, { recursive: true, force: true });
  }
  try {
    fs.rmdirSync(stageDir);
  } catch {
    /* a fingerprint with something to resume is still there */
  }
}

/** Remove staging dirs left by dead repro processes (their orphans cannot touch live paths). */
function cleanStaging(dir: string) {
  if (!fs.existsSync(dir)) return;
  for (const d of fs.readdirSync(dir)) {
    const pid = Number(d.split('.').pop());
    let live = false;
    try {
      process.kill(pid, 0);
      live = pid !== process.pid;
    } catch {
      live = false;
    }
    if (!live) fs.rmSync(path.join(dir, d), { recursive: true, force: true });
  }
}
