/**
 * Strict params: the merged params (params.yaml + profile overlay) against the project's JSON
 * Schema, `params.schema.json` next to params.yaml (no schema file: params are not checked).
 * The engine knows no params key: the schema is project data. Each error names the file and line
 * that set the bad key or value, the dotted key, and what was expected:
 *   params.demo.yaml:40: train.lrr: unknown key (did you mean train.lr?)
 *   params.yaml:52: train.lr: expected a number >= 0, got "fast"
 */
import fs from 'node:fs';
import path from 'node:path';
import { PipelineError, located } from './errors.ts';
import { memoParse } from './memo.ts';
import { canonical, deepMerge, flatten, formatOverride, getDotted, isObject, nestedSubset, type Json, type JsonObject, type ParamsSource } from './params.ts';
import { createAjv, positionsOf, type Positions } from './yaml-schema.ts';

export const PARAMS_SCHEMA_FILE = 'params.schema.json';

/** The subset of JSON Schema (draft-07) the messages describe. */
export interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  enum?: Json[];
  const?: Json;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  pattern?: string;
  description?: string;
}

type Part = string | number;

/** Reads `params.schema.json` at the root; undefined when there is none. */
export function readParamsSchema(root: string): { text: string; schema: SchemaNode } | undefined {
  const file = path.join(root, PARAMS_SCHEMA_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PipelineError(`${PARAMS_SCHEMA_FILE}: cannot read (${(e as Error).message})`);
  }
  try {
    return { text, schema: JSON.parse(text) as SchemaNode };
  } catch (e) {
    throw new PipelineError(`${PARAMS_SCHEMA_FILE}: invalid JSON: ${(e as Error).message}`);
  }
}

/**
 * Throws one PipelineError listing every problem (one line each, in file and line order) when
 * the merged params do not match the schema. Memoised by the texts of the schema and the params
 * files (and the -S overrides merged in), so an unchanged workspace never loads ajv.
 */
export function checkParamsSchema(root: string, sources: ParamsSource[], merged: JsonObject, overrides: Record<string, Json> = {}): void {
  const found = readParamsSchema(root);
  if (!found) return;
  const texts = [...sources.map((s) => `${s.name}\0${s.text}`), `-S\0${canonical(overrides)}`].join('\0');
  memoParse(root, `params-schema\0${found.text}`, texts, () => {
    const problems = paramsProblems(found.schema, sources, merged);
    if (problems.length) throw new PipelineError(problems.join('\n'));
    return true;
  });
}

/** Every problem of `merged` against `schema`, as `file:line: key: message` lines. */
export function paramsProblems(schema: SchemaNode, sources: ParamsSource[], merged: JsonObject): string[] {
  let validate;
  try {
    validate = createAjv({ allErrors: true }).compile(schema);
  } catch (e) {
    throw new PipelineError(`${PARAMS_SCHEMA_FILE}: invalid schema: ${(e as Error).message}`);
  }
  if (validate(merged)) return [];
  const problems: { at: Where; text: string }[] = [];
  const missing: { at: Where; key: string; text: string }[] = [];
  const suggested = new Set<string>();
  const valueErrorPaths = new Set<string>();
  const where = locator(sources);
  for (const e of validate.errors ?? []) {
    const parts = instanceParts(e.instancePath, merged);
    if (e.keyword === 'additionalProperties') {
      const key = String(e.params.additionalProperty);
      const full = [...parts, key];
      const hint = suggestion(schema, parts, key);
      if (hint.keys.length === 1) suggested.add(hint.keys[0]!);
      problems.push({ at: where(full, full), text: `${displayKey(full)}: unknown key${hint.text}` });
    } else if (e.keyword === 'required') {
      const full = [...parts, String(e.params.missingProperty)];
      missing.push({ at: where(parts, parts), key: displayKey(full), text: `${displayKey(full)}: missing (expected ${describe(nodeAt(schema, full))})` });
    } else if (!valueErrorPaths.has(e.instancePath)) {
      // One message per value, from the schema node (anyOf branches report several ajv errors).
      valueErrorPaths.add(e.instancePath);
      problems.push({ at: where(parts, parts), text: `${displayKey(parts)}: expected ${describe(nodeAt(schema, parts))}, got ${show(valueAt(merged, parts))}` });
    }
  }
  // `ofset` set and `offset` missing: the typo's "did you mean" already says it.
  problems.push(...missing.filter((m) => !suggested.has(m.key)));
  problems.sort((a, b) => a.at.order - b.at.order || (a.at.line ?? 0) - (b.at.line ?? 0));
  return problems.map((p) => located(p.at.file, p.at.line, undefined, p.text));
}

// ---------------------------------------------------------------- where a key was set

interface Where {
  file: string;
  line: number | undefined;
  /** Merge order of the file (params.yaml first). */
  order: number;
}

/**
 * The file that set `owner` (the last one in merge order that has that path: the overlay wins)
 * and the line of `lineOf` in it. YAML positions are built only here, on error.
 */
function locator(sources: ParamsSource[]): (owner: Part[], lineOf: Part[]) => Where {
  const positions = new Map<string, Positions>();
  return (owner, lineOf) => {
    // A missing top-level key belongs in params.yaml.
    let i = owner.length ? sources.length - 1 : 0;
    while (i > 0 && !hasPath(sources[i]!.value, owner)) i--;
    const src = sources[i];
    if (!src) return { file: 'params.yaml', line: undefined, order: 0 };
    if (!positions.has(src.name)) positions.set(src.name, positionsOf(src.text));
    return { file: src.name, line: lineOf.length ? positions.get(src.name)!.line(lineOf) : undefined, order: i };
  };
}

function hasPath(v: Json, parts: Part[]): boolean {
  let cur: Json | undefined = v;
  for (const p of parts) {
    if (Array.isArray(cur) && typeof p === 'number') cur = cur[p];
    else if (isObject(cur) && Object.prototype.hasOwnProperty.call(cur, p)) cur = cur[p as string];
    else return false;
    if (cur === undefined) return false;
  }
  return true;
}

function valueAt(v: Json, parts: Part[]): Json | undefined {
  let cur: Json | undefined = v;
  for (const p of parts) cur = Array.isArray(cur) ? cur[p as number] : isObject(cur) ? cur[p as string] : undefined;
  return cur;
}

/** `/train/betas/0` -> ['train', 'betas', 0] (indices are numbers where the value is a list). */
function instanceParts(instancePath: string, merged: Json): Part[] {
  const parts: Part[] = [];
  let cur: Json | undefined = merged;
  for (const raw of instancePath.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const part: Part = Array.isArray(cur) && /^\d+$/.test(key) ? Number(key) : key;
    parts.push(part);
    cur = valueAt(cur ?? null, [part]);
  }
  return parts;
}

/** ['train', 'betas', 0] -> `train.betas[0]` (as stage-kit's getParam names list elements). */
export function displayKey(parts: Part[]): string {
  return parts.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '');
}

function show(v: Json | undefined): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

// ---------------------------------------------------------------- schema walking

/** The schema of the value at `parts` (undefined where the schema does not say). */
export function nodeAt(schema: SchemaNode, parts: Part[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema;
  for (const p of parts) {
    if (!node) return undefined;
    node = typeof p === 'number' ? node.items : node.properties?.[p];
  }
  return node;
}

/** Every dotted key the schema declares (sections and leaves), e.g. ['train'], ['train', 'lr']. */
export function schemaKeys(schema: SchemaNode, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [k, child] of Object.entries(schema.properties ?? {})) {
    out.push([...prefix, k]);
    out.push(...schemaKeys(child, [...prefix, k]));
  }
  return out;
}

/** Human wording of what a schema node accepts: `an integer in [1, 24]`, `one of "max", "avg"`. */
export function describe(node: SchemaNode | undefined): string {
  if (!node) return 'a value the schema allows';
  if (node.anyOf) return node.anyOf.map(describe).join(' or ');
  if ('const' in node) return show(node.const);
  if (node.enum) return node.enum.length === 1 ? show(node.enum[0]) : `one of ${node.enum.map(show).join(', ')}`;
  const types = node.type === undefined ? [] : Array.isArray(node.type) ? node.type : [node.type];
  const words = types.filter((t) => t !== 'null').map((t) => describeType(t, node));
  if (types.includes('null')) words.push('null');
  return words.join(' or ') || 'any value';
}

function describeType(type: string, node: SchemaNode): string {
  switch (type) {
    case 'integer':
      return `an integer${range(node)}`;
    case 'number':
      return `a number${range(node)}`;
    case 'string':
      return node.pattern ? `a string matching /${node.pattern}/` : node.minLength ? 'a non-empty string' : 'a string';
    case 'boolean':
      return 'true or false';
    case 'array': {
      const { minItems: lo, maxItems: hi } = node;
      const size = lo !== undefined && lo === hi ? ` of ${lo}` : lo ? ` of at least ${lo}` : hi !== undefined ? ` of at most ${hi}` : '';
      return `a list${size}${node.items ? `, each ${describe(node.items)}` : ''}`;
    }
    case 'object':
      return node.properties ? `a mapping with keys ${Object.keys(node.properties).join(', ')}` : 'a mapping';
    default:
      return type;
  }
}

function range(node: SchemaNode): string {
  const lo = node.minimum ?? node.exclusiveMinimum;
  const hi = node.maximum ?? node.exclusiveMaximum;
  const loEx = node.minimum === undefined && node.exclusiveMinimum !== undefined;
  const hiEx = node.maximum === undefined && node.exclusiveMaximum !== undefined;
  if (lo !== undefined && hi !== undefined) return ` in ${loEx ? '(' : '['}${lo}, ${hi}${hiEx ? ')' : ']'}`;
  if (lo !== undefined) return ` ${loEx ? '>' : '>='} ${lo}`;
  if (hi !== undefined) return ` ${hiEx ? '<' : '<='} ${hi}`;
  return '';
}

// ---------------------------------------------------------------- did you mean

/**
 * ` (did you mean train.lr?)`: a close sibling key, else the same name in another section, else
 * the known keys; `keys` are the suggested dotted keys.
 */
export function suggestion(schema: SchemaNode, parentParts: Part[], key: string): { text: string; keys: string[] } {
  const siblings = Object.keys(nodeAt(schema, parentParts)?.properties ?? {});
  const near = nearest(key, siblings);
  const keys =
    near !== undefined
      ? [displayKey([...parentParts, near])]
      : schemaKeys(schema).filter((k) => k[k.length - 1] === key).map((k) => displayKey(k));
  if (keys.length) return { text: ` (did you mean ${keys.join(' or ')}?)`, keys };
  const known = siblings.length ? ` (known keys${parentParts.length ? ` under ${displayKey(parentParts)}` : ''}: ${siblings.join(', ')})` : '';
  return { text: known, keys };
}

/** The candidate closest to `word` (case-insensitive edit distance), if close enough to be a typo. */
export function nearest(word: string, candidates: string[]): string | undefined {
  const w = word.toLowerCase();
  const limit = Math.max(1, Math.floor(w.length / 3));
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d <= limit && (!best || d < best.d)) best = { c, d };
  }
  return best?.c;
}

/** Edit distance where swapping two adjacent letters counts as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

// ---------------------------------------------------------------- -S overrides

/**
 * `base` with each dotted key of `overrides` (`train.lr` -> 0.01) set. Only keys that exist in
 * `base` may be set (a typo would otherwise add a key no stage reads): an unknown key is a
 * PipelineError naming `-S key=value` and the nearest known key.
 */
export function applyOverrides(base: JsonObject, overrides: Record<string, Json>): JsonObject {
  let out: JsonObject = base;
  for (const [key, value] of Object.entries(overrides)) {
    if (getDotted(base, key) === undefined) throw new PipelineError(`-S ${formatOverride(key, value)}: unknown params key '${key}'${nearestKeyHint(base, key)}`);
    out = deepMerge(out, nestedSubset({ [key]: value })) as JsonObject;
  }
  return out;
}

/** ` (did you mean train.lr?)`: a close sibling of the first missing part, else the same name in another section. */
function nearestKeyHint(base: JsonObject, key: string): string {
  const parts = key.split('.');
  let cur: JsonObject = base;
  let i = 0;
  while (i < parts.length - 1 && isObject(cur[parts[i]!])) cur = cur[parts[i++]!] as JsonObject;
  const near = nearest(parts[i]!, Object.keys(cur));
  // `q.y` -> `p.y` when the typo is in a section name and the rest exists under it.
  const fixed = near === undefined ? undefined : [...parts.slice(0, i), near, ...parts.slice(i + 1)].join('.');
  if (fixed !== undefined && getDotted(base, fixed) !== undefined) return ` (did you mean ${fixed}?)`;
  if (near !== undefined) return ` (did you mean ${[...parts.slice(0, i), near].join('.')}?)`;
  const last = parts[parts.length - 1]!;
  const elsewhere = Object.keys(flatten(base)).filter((k) => k === last || k.endsWith(`.${last}`));
  return elsewhere.length ? ` (did you mean ${elsewhere.join(' or ')}?)` : '';
}

/**
 * Each override's value against the schema of its key (params.schema.json; none: nothing to
 * check): `-S train.lr=fast: expected a number >= 0, got "fast"`, all problems at once.
 */
export function checkOverrideTypes(root: string, overrides: Record<string, Json>): void {
  const found = readParamsSchema(root);
  if (!found || !Object.keys(overrides).length) return;
  const problems: string[] = [];
  for (const [key, value] of Object.entries(overrides)) {
    const node = nodeAt(found.schema, key.split('.'));
    if (!node) continue;
    const validate = createAjv({ allErrors: false }).compile(node);
    if (!validate(value)) problems.push(`-S ${formatOverride(key, value)}: ${key}: expected ${describe(node)}, got ${show(value)}`);
  }
  if (problems.length) throw new PipelineError(problems.join('\n'));
}
