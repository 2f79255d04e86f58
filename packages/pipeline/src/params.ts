import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { PipelineError } from './errors.ts';
import { memoParse } from './memo.ts';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge key by key, anything else in `over` replaces `base`. */
export function deepMerge(base: Json, over: Json): Json {
  if (isObject(base) && isObject(over)) {
    const out: JsonObject = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k]!, v) : v;
    return out;
  }
  return over;
}

/** Value at a dotted key (`train.lr`); `undefined` when absent. */
export function getDotted(obj: Json, key: string): Json | undefined {
  let cur: Json | undefined = obj;
  for (const part of key.split('.')) {
    if (Array.isArray(cur) && /^\d+$/.test(part)) cur = cur[Number(part)];
    else if (isObject(cur) && part in cur) cur = cur[part];
    else return undefined;
  }
  return cur;
}

/** Nested object holding only the given dotted keys: `['train.lr']` -> `{train: {lr: ...}}`. */
export function nestedSubset(values: Record<string, Json>): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(values)) {
    const parts = key.split('.');
    let cur = out;
    for (const p of parts.slice(0, -1)) {
      if (!isObject(cur[p])) cur[p] = {};
      cur = cur[p] as JsonObject;
    }
    const last = parts[parts.length - 1]!;
    cur[last] = isObject(cur[last]) && isObject(value) ? (deepMerge(cur[last], value) as JsonObject) : value;
  }
  return out;
}

/** Stable JSON (sorted object keys) for comparing param values. */
export function canonical(v: Json | undefined): string {
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** Flatten nested params to dotted leaf keys (arrays are leaves). */
export function flatten(v: Json, prefix = '', out: Record<string, Json> = {}): Record<string, Json> {
  if (isObject(v) && Object.keys(v).length > 0) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out[prefix] = v;
  return out;
}

export function parseYamlText(text: string, file: string): Json {
  try {
    return (YAML.parse(text) ?? {}) as Json;
  } catch (e) {
    const err = e as { linePos?: { line: number }[]; message: string };
    const line = err.linePos?.[0]?.line;
    throw new PipelineError(`${line ? `${file}:${line}` : file}: invalid YAML: ${err.message.split('\n')[0]}`);
  }
}

/**
 * The overlays a profile stacks, in merge order: `demo+webgpu` -> [demo, webgpu]; none for the
 * default profile. Each names a params.<overlay>.yaml.
 */
export function profileOverlays(profile: string): string[] {
  return profile === 'default' ? [] : profile.split('+');
}

/** params.yaml, then each overlay's params.<overlay>.yaml, in merge order. */
export function paramsFileNames(profile: string): string[] {
  return ['params.yaml', ...profileOverlays(profile).map((o) => `params.${o}.yaml`)];
}

/** One params file as read: its name (relative to the root), text and parsed mapping. */
export interface ParamsSource {
  name: string;
  text: string;
  value: JsonObject;
}

/** params.yaml (when present) and params.<profile>.yaml (must exist for a named profile), in merge order. */
export function readParamsSources(root: string, profile: string): ParamsSource[] {
  const sources: ParamsSource[] = [];
  for (const name of paramsFileNames(profile)) {
    const file = path.join(root, name);
    if (!fs.existsSync(file)) {
      if (name === 'params.yaml') continue;
      throw new PipelineError(`${name}: not found (needed by --profile ${profile})`);
    }
    const text = fs.readFileSync(file, 'utf8');
    const v = memoParse(root, 'params', text, () => parseYamlText(text, name));
    if (!isObject(v)) throw new PipelineError(`${name}: top level must be a mapping`);
    sources.push({ name, text, value: v });
  }
  return sources;
}

/** The sources deep-merged in order (the profile overlay over params.yaml). */
export function mergeParams(sources: ParamsSource[]): JsonObject {
  let merged: Json = {};
  for (const s of sources) merged = deepMerge(merged, s.value);
  return merged as JsonObject;
}

/** params.yaml deep-merged with params.<profile>.yaml (the overlay must exist for a named profile). */
export function loadParams(root: string, profile: string): JsonObject {
  return mergeParams(readParamsSources(root, profile));
}


/** `train.lr=0.01`, `model.channels=[8,16]`: an override as the user writes it after -S. */
export function formatOverride(key: string, value: Json): string {
  return `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`;
}
