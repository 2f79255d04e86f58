/** dag, params diff, metrics show/diff: read-only views of the pipeline, params, lock and cache. */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { PipelineError } from './errors.ts';
import { allOuts, type Pipeline } from './parse.ts';
import type { Graph } from './graph.ts';
import { canonical, deepMerge, flatten, getDotted, isObject, paramsFileNames, parseYamlText, type Json } from './params.ts';
import { parseLockText, readLock } from './lock.ts';
import { Cache } from './cache.ts';
import { workDirs } from './runner.ts';

export function dagText(p: Pipeline, g: Graph): string {
  const lines: string[] = [];
  for (const n of g.order) {
    const ups = g.upstream.get(n)!;
    const desc = p.byName.get(n)!.desc;
    lines.push(`${n}${ups.length ? `  <- ${ups.join(', ')}` : ''}${desc ? `    # ${desc}` : ''}`);
  }
  lines.push('', 'edges:');
  for (const n of g.order) for (const d of g.downstream.get(n)!) lines.push(`  ${n} -> ${d}`);
  return lines.join('\n');
}

export function dagMermaid(p: Pipeline, g: Graph): string {
  const id = (n: string) => n.replace(/[^A-Za-z0-9_]/g, '_');
  const lines = ['flowchart TD'];
  for (const n of g.order) lines.push(`  ${id(n)}["${n}"]`);
  for (const n of g.order) for (const d of g.downstream.get(n)!) lines.push(`  ${id(n)} --> ${id(d)}`);
  return lines.join('\n');
}

export function gitShow(root: string, rev: string, file: string): string | undefined {
  try {
    return execFileSync('git', ['show', `${rev}:${file}`], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

/**
 * The commit a user-given revision names, or a PipelineError naming it: an unknown revision must
 * not read as "no file there" (which would call every metric new or blame params.yaml).
 */
export function resolveRev(root: string, rev: string): string {
  const run = (args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    run(['rev-parse', '--git-dir']);
  } catch {
    throw new PipelineError(`git revision '${rev}': ${root} is not inside a git repository`);
  }
  try {
    if (rev.startsWith('-')) throw new Error('option-like');
    return run(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  } catch {
    throw new PipelineError(`unknown git revision '${rev}' (not a branch, tag or commit in this repository)`);
  }
}

function paramsAt(p: Pipeline, rev: string | undefined): Json {
  const commit = rev === undefined ? undefined : resolveRev(p.root, rev);
  let merged: Json = {};
  for (const name of paramsFileNames(p.profile)) {
    const text = commit ? gitShow(p.root, commit, name) : fs.existsSync(path.join(p.root, name)) ? fs.readFileSync(path.join(p.root, name), 'utf8') : undefined;
    if (text === undefined) {
      if (rev && name === 'params.yaml') throw new PipelineError(`params diff: ${name} not found at git revision '${rev}'`);
      continue;
    }
    merged = deepMerge(merged, parseYamlText(text, rev ? `${rev}:${name}` : name));
  }
  return merged;
}

export interface ParamChange {
  key: string;
  old?: Json;
  new?: Json;
}

/**
 * No revs: the params each locked stage declared, lock value vs workspace value.
 * One rev: params at rev vs workspace. Two revs: revA vs revB. Keys are flattened to leaves.
 */
export function paramsDiff(p: Pipeline, revs: string[]): ParamChange[] {
  let a: Record<string, Json>;
  let b: Record<string, Json>;
  if (revs.length === 0) {
    const lock = readLock(p.root, p.lockFile);
    a = {};
    b = {};
    for (const s of p.stages) {
      if (!lock[s.name]) continue; // never run: nothing to compare with
      for (const k of s.params) {
        const locked = lock[s.name]?.params[k];
        if (locked !== undefined) Object.assign(a, flatten(locked, k));
        const cur = getDotted(p.params, k);
        if (cur !== undefined) Object.assign(b, flatten(cur, k));
      }
    }
  } else {
    a = flatten(paramsAt(p, revs[0]));
    b = flatten(revs[1] ? paramsAt(p, revs[1]) : p.params);
  }
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => canonical(a[k]) !== canonical(b[k])).map((k) => ({ key: k, old: a[k], new: b[k] }));
}

export function formatTable(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i] ?? 0)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

const show = (v: Json | undefined) => (v === undefined ? '-' : typeof v === 'string' ? v : JSON.stringify(v));

export function formatParamsDiff(changes: ParamChange[]): string {
  if (!changes.length) return 'no params changed';
  return formatTable(['param', 'old', 'new'], changes.map((c) => [c.key, show(c.old), show(c.new)]));
}

/** Numeric and string leaves of every declared metrics file, workspace or at a git rev (via the lock + cache). */
export function readMetrics(p: Pipeline, rev?: string): Map<string, Record<string, Json>> {
  const res = new Map<string, Record<string, Json>>();
  const files = p.stages.flatMap((s) => s.metrics);
  let lockAtRev: ReturnType<typeof readLock> | undefined;
  const commit = rev === undefined ? undefined : resolveRev(p.root, rev);
  if (commit) {
    const text = gitShow(p.root, commit, p.lockFile);
    lockAtRev = text ? parseLockText(text, `${rev}:${p.lockFile}`) : {};
  }
  const cache = new Cache(workDirs(p.root).cache);
  for (const f of files) {
    let text: string | undefined;
    if (!commit) {
      const abs = path.resolve(p.root, f);
      text = fs.existsSync(abs) ? fs.readFileSync(abs, 'utf8') : undefined;
    } else {
      text = gitShow(p.root, commit, f);
      if (text === undefined && lockAtRev) {
        const md5 = Object.values(lockAtRev).flatMap((e) => e.outs).find((o) => o.path === f)?.md5;
        const obj = md5 ? cache.objectPath(md5) : undefined;
        if (obj && fs.existsSync(obj)) text = fs.readFileSync(obj, 'utf8');
      }
    }
    if (text === undefined) continue;
    let v: Json;
    try {
      v = JSON.parse(text);
    } catch {
      throw new PipelineError(`${f}: metrics file is not valid JSON`);
    }
    const flat = flatten(v);
    res.set(f, Object.fromEntries(Object.entries(flat).filter(([, x]) => typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean')));
  }
  return res;
}

export type Metrics = Map<string, Record<string, Json>>;

/**
 * Does a `--keys` pattern select a metric key? A pattern with `*` is a glob (`*` matches any
 * characters, dots included: `*.f1`); one without is the key itself or a section of it
 * (`per_emotion` selects `per_emotion.happy.f1`, not `per_emotion_x`).
 */
export function keyMatches(key: string, pattern: string): boolean {
  if (!pattern.includes('*')) return key === pattern || key.startsWith(`${pattern}.`);
  const re = new RegExp(`^${pattern.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(key);
}

/** Only the keys some pattern selects; a pattern that selects nothing anywhere is the user's error. */
export function filterMetrics(sides: Metrics[], patterns: string[]): Metrics[] {
  const all = [...new Set(sides.flatMap((m) => [...m.values()].flatMap((v) => Object.keys(v))))];
  if (!all.length) return sides;
  for (const pat of patterns) {
    if (!all.some((k) => keyMatches(k, pat))) {
      const some = all.slice(0, 12).join(', ') + (all.length > 12 ? ', ...' : '');
      throw new PipelineError(`--keys '${pat}' matches no metric key (keys: ${some})`);
    }
  }
  return sides.map((m) => {
    const out: Metrics = new Map();
    for (const [f, vals] of m) {
      const kept = Object.entries(vals).filter(([k]) => patterns.some((pat) => keyMatches(k, pat)));
      if (kept.length) out.set(f, Object.fromEntries(kept));
    }
    return out;
  });
}

/** Numbers rounded to `digits` decimal places (strings and booleans as they are). */
export function roundValue<T extends Json | undefined>(v: T, digits: number | undefined): T {
  return (typeof v === 'number' && digits !== undefined ? +v.toFixed(digits) : v) as T;
}

export function roundMetrics(m: Metrics, digits: number | undefined): Metrics {
  if (digits === undefined) return m;
  return new Map([...m].map(([f, vals]) => [f, Object.fromEntries(Object.entries(vals).map(([k, v]) => [k, roundValue(v, digits)]))]));
}

export function formatMetricsShow(m: Map<string, Record<string, Json>>): string {
  if (!m.size) return 'no metrics files yet (run repro)';
  const rows: string[][] = [];
  for (const [f, vals] of m) for (const [k, v] of Object.entries(vals)) rows.push([f, k, show(v)]);
  return formatTable(['path', 'metric', 'value'], rows);
}

export interface MetricChange {
  path: string;
  key: string;
  old?: Json;
  new?: Json;
  change?: number;
}

export function metricsDiff(a: Map<string, Record<string, Json>>, b: Map<string, Record<string, Json>>): MetricChange[] {
  const out: MetricChange[] = [];
  const paths = [...new Set([...a.keys(), ...b.keys()])];
  for (const f of paths) {
    const x = a.get(f) ?? {};
    const y = b.get(f) ?? {};
    for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])]) {
      if (canonical(x[k]) === canonical(y[k])) continue;
      const c: MetricChange = { path: f, key: k, old: x[k], new: y[k] };
      if (typeof x[k] === 'number' && typeof y[k] === 'number') c.change = (y[k] as number) - (x[k] as number);
      out.push(c);
    }
  }
  return out;
}

export function roundChanges(ch: MetricChange[], digits: number | undefined): MetricChange[] {
  if (digits === undefined) return ch;
  return ch.map((c) => ({ ...c, old: roundValue(c.old, digits), new: roundValue(c.new, digits), ...(c.change === undefined ? {} : { change: roundValue(c.change, digits) }) }));
}

export function formatMetricsDiff(ch: MetricChange[]): string {
  if (!ch.length) return 'no metrics changed';
  return formatTable(['path', 'metric', 'old', 'new', 'change'], ch.map((c) => [c.path, c.key, show(c.old), show(c.new), c.change === undefined ? '-' : String(+c.change.toPrecision(6))]));
}
