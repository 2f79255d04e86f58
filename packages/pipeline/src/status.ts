/** Why a stage is stale: compares the workspace (deps, params, cmd, outs) with its lock entry. */
import { canonical, flatten, getDotted, isObject, type Json } from './params.ts';
import { allOuts, type Pipeline, type Stage } from './parse.ts';
import { md5Text, type HashInfo, type Hasher } from './hash.ts';
import type { Lock, LockEntry, LockedPath } from './lock.ts';
import { producerOf, type Graph } from './graph.ts';

export type Reason =
  | { type: 'new'; message: string }
  | { type: 'cmd'; old: string; new: string; message: string }
  | { type: 'param'; key: string; old?: Json; new?: Json; message: string }
  | { type: 'dep'; path: string; change: 'modified' | 'missing' | 'added' | 'removed'; message: string }
  | { type: 'out'; path: string; change: 'modified' | 'missing' | 'added' | 'removed'; message: string }
  | { type: 'upstream'; stage: string; message: string };

export interface StageState {
  stage: Stage;
  reasons: Reason[];
  /** Current hashes of deps (undefined = missing). */
  deps: Map<string, HashInfo | undefined>;
  params: Record<string, Json>;
  /** Current hashes of outs (undefined = missing). */
  outs: Map<string, HashInfo | undefined>;
}

function show(v: Json | undefined): string {
  return v === undefined ? '(absent)' : JSON.stringify(v);
}

export function currentParams(p: Pipeline, s: Stage): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const k of s.params) {
    const v = getDotted(p.params, k);
    out[k] = v === undefined ? null : v;
  }
  return out;
}

export function toLocked(pathRel: string, h: HashInfo): LockedPath {
  const o: LockedPath = { path: pathRel, md5: h.md5, size: h.size };
  if (h.nfiles !== undefined) o.nfiles = h.nfiles;
  return o;
}

/** What a run key hashes: the command, each dep with its md5, the params and the out paths. */
export interface RunInputs {
  cmd: string;
  deps: [path: string, md5: string | null][];
  params: [key: string, canonical: string][];
  outs: string[];
}

/**
 * Everything that decides a stage's outputs; also names its scratch dir and run-cache entry.
 * Paths are hashed with the artifacts root written as `${artifacts}`, so the same stage under
 * another artifacts root (an experiment's folder) has the same key and restores from the
 * run-cache. (Run-cache entries recorded before keys were written this way no longer match.)
 */
export function runKey(st: StageState, artifacts: string): string {
  const deps = st.stage.deps.map((d): [string, string | null] => [d, st.deps.get(d)?.md5 ?? null]);
  const params = Object.entries(st.params).map(([k, v]): [string, string] => [k, canonical(v)]);
  return runKeyOf({ cmd: st.stage.cmd, deps, params, outs: allOuts(st.stage) }, artifacts);
}

/** The run key of a lock entry: what that recorded run would have been keyed by. */
export function runKeyOfEntry(entry: LockEntry, artifacts: string): string {
  const deps = entry.deps.map((d): [string, string | null] => [d.path, d.md5 ?? null]);
  const params = Object.entries(entry.params).map(([k, v]): [string, string] => [k, canonical(v)]);
  return runKeyOf({ cmd: entry.cmd, deps, params, outs: entry.outs.map((o) => o.path) }, artifacts);
}

function runKeyOf(inputs: RunInputs, artifacts: string): string {
  return md5Text(portablePaths(JSON.stringify(inputs), artifacts));
}

/** The artifacts root as a whole path: not inside `my_artifacts`, `artifacts2` or `x/artifacts`. */
const rootRegexCache = new Map<string, RegExp>();
function rootRegex(artifacts: string): RegExp {
  let re = rootRegexCache.get(artifacts);
  if (!re) {
    re = new RegExp(`(?<![\\w./-])${artifacts.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w.-])`, 'g');
    rootRegexCache.set(artifacts, re);
  }
  return re;
}

/** `artifacts/demo/train/model` -> `${artifacts}/train/model` (every whole-path occurrence in `text`). */
export function portablePaths(text: string, artifacts: string): string {
  return text.replace(rootRegex(artifacts), () => '${artifacts}');
}

/** `${artifacts}/train/model` -> `<artifacts>/train/model`: the inverse of portablePaths. */
export function localPaths(text: string, artifacts: string): string {
  return text.replace(/\$\{artifacts\}/g, () => artifacts);
}

/** Compare one stage against its lock entry, hashing its deps and outs (memoised by the hasher). */
export function evaluateStage(p: Pipeline, s: Stage, entry: LockEntry | undefined, hasher: Hasher): StageState {
  const reasons: Reason[] = [];
  const deps = new Map<string, HashInfo | undefined>();
  for (const d of s.deps) deps.set(d, hasher.hashPath(d));
  const params = currentParams(p, s);
  const outs = new Map<string, HashInfo | undefined>();
  for (const o of allOuts(s)) outs.set(o, hasher.hashPath(o));
  if (!entry) {
    reasons.push({ type: 'new', message: `not in ${p.lockFile} (never run)` });
    return { stage: s, reasons, deps, params, outs };
  }
  if (entry.cmd !== s.cmd) reasons.push({ type: 'cmd', old: entry.cmd, new: s.cmd, message: 'cmd changed' });
  const keys = new Set([...Object.keys(entry.params), ...s.params]);
  for (const k of keys) {
    const oldV = entry.params[k];
    const newV = s.params.includes(k) ? params[k] : undefined;
    if (canonical(oldV) === canonical(newV)) continue;
    if (isObject(oldV) && isObject(newV)) {
      // A whole section (`segment`) is declared: name the leaves that changed (`segment.offset`).
      const a = flatten(oldV, k);
      const b = flatten(newV, k);
      for (const leaf of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
        if (canonical(a[leaf]) !== canonical(b[leaf])) reasons.push({ type: 'param', key: leaf, old: a[leaf], new: b[leaf], message: `param ${leaf}: ${show(a[leaf])} -> ${show(b[leaf])}` });
      }
    } else {
      reasons.push({ type: 'param', key: k, old: oldV, new: newV, message: `param ${k}: ${show(oldV)} -> ${show(newV)}` });
    }
  }
  compare('dep', entry.deps, s.deps, deps, reasons);
  compare('out', entry.outs, allOuts(s), outs, reasons);
  return { stage: s, reasons, deps, params, outs };
}

function compare(kind: 'dep' | 'out', locked: LockedPath[], declared: string[], current: Map<string, HashInfo | undefined>, reasons: Reason[]) {
  const byPath = new Map(locked.map((l) => [l.path, l]));
  for (const d of declared) {
    const l = byPath.get(d);
    const h = current.get(d);
    let change: 'modified' | 'missing' | 'added' | undefined;
    if (!h) change = 'missing';
    else if (!l) change = 'added';
    else if (l.md5 !== h.md5) change = 'modified';
    if (change) reasons.push({ type: kind, path: d, change, message: `${kind} ${d} ${change}` });
  }
  for (const l of locked) {
    if (!declared.includes(l.path)) reasons.push({ type: kind, path: l.path, change: 'removed', message: `${kind} ${l.path} no longer declared` });
  }
}

export interface StatusEntry {
  stale: boolean;
  reasons: Reason[];
}

/**
 * Status of every stage in topological order; a stage downstream of a stale one is stale too
 * (reason `upstream`), though at repro time it may turn out cached if the upstream outs are identical.
 */
export function computeStatus(p: Pipeline, g: Graph, lock: Lock, hasher: Hasher): Map<string, StatusEntry> {
  const res = new Map<string, StatusEntry>();
  for (const name of g.order) {
    const s = p.byName.get(name)!;
    const st = evaluateStage(p, s, lock[name], hasher);
    const reasons = [...st.reasons];
    for (const u of g.upstream.get(name) ?? []) {
      if (res.get(u)?.stale) reasons.push({ type: 'upstream', stage: u, message: `upstream stage '${u}' is stale` });
    }
    for (const d of s.deps) {
      if (st.deps.get(d) === undefined && !producerOf(p, d)) {
        const r = reasons.find((x) => x.type === 'dep' && x.path === d) as { message: string } | undefined;
        const why = `dep ${d} missing and no stage produces it${s.hint ? `: ${s.hint}` : ''}`;
        if (r) r.message = why;
        else reasons.push({ type: 'dep', path: d, change: 'missing', message: why });
      }
    }
    res.set(name, { stale: reasons.length > 0, reasons });
  }
  return res;
}
