/**
 * pipeline.lock (or pipeline.<profile>.lock): YAML, committed, stable key order.
 *
 * schema: ser-pipeline/1
 * stages:
 *   <stage>:
 *     cmd: <interpolated cmd>
 *     deps:   [{ path, md5, size, nfiles? }]
 *     params: { <declared key>: <value> }
 *     outs:   [{ path, md5, size, nfiles? }]      # outs, then metrics, then plots
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { PipelineError } from './errors.ts';
import { writeAtomic } from './cache.ts';
import { memoParse } from './memo.ts';
import { isObject, type Json } from './params.ts';

export const LOCK_SCHEMA = 'ser-pipeline/1';

export interface LockedPath {
  path: string;
  md5: string;
  size: number;
  nfiles?: number;
}

export interface LockEntry {
  cmd: string;
  deps: LockedPath[];
  params: Record<string, Json>;
  outs: LockedPath[];
}

export type Lock = Record<string, LockEntry>;

export function parseLockText(text: string, file: string): Lock {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new PipelineError(`${file}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc == null) return {};
  if (!isObject(doc as Json) || !isObject((doc as { stages?: Json }).stages ?? {})) throw new PipelineError(`${file}: not a pipeline lock file`);
  const stages = ((doc as { stages?: Record<string, Partial<LockEntry>> }).stages ?? {}) as Record<string, Partial<LockEntry>>;
  const out: Lock = {};
  for (const [name, e] of Object.entries(stages)) {
    out[name] = { cmd: e.cmd ?? '', deps: e.deps ?? [], params: e.params ?? {}, outs: e.outs ?? [] };
  }
  return out;
}

export function readLock(root: string, lockFile: string): Lock {
  const abs = path.resolve(root, lockFile);
  if (!fs.existsSync(abs)) return {};
  const text = fs.readFileSync(abs, 'utf8');
  return memoParse(root, 'lock', text, () => parseLockText(text, lockFile));
}

function sortDeep(v: Json): Json {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (isObject(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortDeep(v[k]!)]));
  return v;
}

function lockedPath(p: LockedPath): LockedPath {
  const o: LockedPath = { path: p.path, md5: p.md5, size: p.size };
  if (p.nfiles !== undefined) o.nfiles = p.nfiles;
  return o;
}

/** Serialise with stages in `order` (pipeline order); stages not in `order` are dropped. */
export function formatLock(lock: Lock, order: string[]): string {
  const stages: Record<string, unknown> = {};
  for (const name of order) {
    const e = lock[name];
    if (!e) continue;
    const entry: Record<string, unknown> = { cmd: e.cmd };
    if (e.deps.length) entry.deps = e.deps.map(lockedPath);
    if (Object.keys(e.params).length) entry.params = Object.fromEntries(Object.entries(e.params).map(([k, v]) => [k, sortDeep(v)]));
    if (e.outs.length) entry.outs = e.outs.map(lockedPath);
    stages[name] = entry;
  }
  const header = '# Written by ser-pipeline (do not edit): what each stage last ran with and produced.\n';
  return header + YAML.stringify({ schema: LOCK_SCHEMA, stages }, { lineWidth: 0 });
}

export function writeLock(root: string, lockFile: string, lock: Lock, order: string[]): void {
  const abs = path.resolve(root, lockFile);
  const text = formatLock(lock, order);
  if (fs.existsSync(abs) && fs.readFileSync(abs, 'utf8') === text) return;
  writeAtomic(abs, text);
}

/** Flattens nested params to dotted keys: { train: { lr: 1 } } -> { 'train.lr': 1 }; arrays stay values. */
function flattenParams(prefix: string, v: Json, out: Record<string, Json>): void {
  if (isObject(v)) {
    const entries = Object.entries(v as Record<string, Json>);
    if (entries.length === 0) out[prefix] = v;
    for (const [k, x] of entries) flattenParams(prefix ? `${prefix}.${k}` : k, x, out);
  } else {
    out[prefix] = v;
  }
}

/**
 * Every param that reached any stage recorded in `lock` (the union of the stages' declared
 * params, as dotted keys in sorted order) and its sha256 over that canonical JSON: the run's
 * provenance, which differs as soon as one param of any stage differs.
 */
export function lockParamsDigest(lock: Lock, stages: string[] = Object.keys(lock)): { params: Record<string, Json>; sha256: string } {
  const flat: Record<string, Json> = {};
  for (const name of stages) {
    const entry = lock[name];
    if (!entry) throw new PipelineError(`stage '${name}' is not in the lock`);
    for (const [k, v] of Object.entries(entry.params)) flattenParams(k, v, flat);
  }
  const params: Record<string, Json> = {};
  for (const k of Object.keys(flat).sort()) params[k] = flat[k]!;
  return { params, sha256: createHash('sha256').update(JSON.stringify(params)).digest('hex') };
}
