/**
 * `exp run`'s inputs as data: `-S key=value[,value...]` and `--seeds` -> the grid of override
 * sets (cartesian product, seeds innermost) -> one readable name per point. Pure: no I/O.
 */
import YAML from 'yaml';
import { PipelineError } from './errors.ts';
import { canonical, formatOverride, type Json } from './params.ts';
import { md5Text } from './hash.ts';
import { EXP_NAME_PATTERN } from './exp-store.ts';

/** One `-S`: a dotted key and its values (more than one makes a grid axis). */
export interface OverrideAxis {
  key: string;
  values: Json[];
}

/** The params key `--seeds` sets. */
export const SEED_KEY = 'seed';
/** A grid larger than this needs `--yes`. */
export const MAX_GRID_WITHOUT_YES = 1000;

const KEY = /^[A-Za-z_][\w-]*(\.[\w-]+)*$/;

/**
 * `train.lr=0.001,0.003` -> {key: 'train.lr', values: [0.001, 0.003]}. Values are YAML scalars or
 * flow collections (`[8,16]`, `cosine`, `null`); commas split values except inside brackets,
 * braces or quotes, so `model.channels=[8,16],[4,8]` is two lists.
 */
export function parseOverride(arg: string): OverrideAxis {
  const eq = arg.indexOf('=');
  if (eq < 0) throw new PipelineError(`-S ${arg}: expected key=value (e.g. -S train.lr=0.01)`);
  const key = arg.slice(0, eq).trim();
  if (!KEY.test(key)) throw new PipelineError(`-S ${arg}: '${key}' is not a dotted params key (e.g. train.lr)`);
  const items = splitTopLevel(arg.slice(eq + 1), arg);
  const values = items.map((item) => {
    if (!item.trim()) throw new PipelineError(`-S ${arg}: empty value${items.length > 1 ? ' in the list (a value holding a comma must be bracketed: [8,16])' : ''}`);
    try {
      return (YAML.parse(item) ?? null) as Json;
    } catch (e) {
      throw new PipelineError(`-S ${arg}: '${item}' is not a YAML value: ${(e as Error).message.split('\n')[0]}`);
    }
  });
  return { key, values };
}

/** Split at commas outside [], {} and quotes. */
function splitTopLevel(text: string, arg: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let cur = '';
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (quote || depth !== 0) throw new PipelineError(`-S ${arg}: unbalanced ${quote ? 'quote' : 'brackets'}`);
  out.push(cur);
  return out;
}

/** `1,2,3`, `1-3` or both (`1-3,7`) -> [1, 2, 3(, 7)]: whole numbers >= 0, no repeats. */
export function parseSeeds(text: string): number[] {
  const seeds: number[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new PipelineError(`--seeds ${text}: '${part}' is not a seed or a range (e.g. --seeds 1,2,3 or --seeds 1-3)`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new PipelineError(`--seeds ${text}: range ${part} ends before it starts`);
    if (hi - lo >= MAX_GRID_WITHOUT_YES * 10) throw new PipelineError(`--seeds ${text}: range ${part} is too large`);
    for (let s = lo; s <= hi; s++) {
      if (seeds.includes(s)) throw new PipelineError(`--seeds ${text}: seed ${s} is listed twice`);
      seeds.push(s);
    }
  }
  return seeds;
}

/** The axes in order, `--seeds` last; a key given twice is an error (say both values in one -S). */
export function gridAxes(sets: string[], seeds: number[] | undefined): OverrideAxis[] {
  const axes = sets.map(parseOverride);
  if (seeds) axes.push({ key: SEED_KEY, values: seeds });
  const seen = new Set<string>();
  for (const a of axes) {
    if (seen.has(a.key)) throw new PipelineError(a.key === SEED_KEY && seeds ? `-S ${SEED_KEY}=... and --seeds both set '${SEED_KEY}': use one` : `-S ${a.key} is given twice: list its values in one -S (${a.key}=a,b)`);
    seen.add(a.key);
  }
  return axes;
}

/** Number of points of the grid (the product of the axes' lengths). */
export function gridSize(axes: OverrideAxis[]): number {
  return axes.reduce((n, a) => n * a.values.length, 1);
}

/** Refuse a grid over MAX_GRID_WITHOUT_YES points unless confirmed, before anything is expanded or run. */
export function checkGridSize(axes: OverrideAxis[], yes: boolean): void {
  const n = gridSize(axes);
  if (n > MAX_GRID_WITHOUT_YES && !yes) {
    const dims = axes.map((a) => `${a.key} (${a.values.length})`).join(' x ');
    throw new PipelineError(`exp run: the grid has ${n} points (${dims}), more than ${MAX_GRID_WITHOUT_YES}; pass --yes to run them all`);
  }
}

/** Every point of the grid: the cartesian product in axis order (the last axis varies fastest). */
export function expandGrid(axes: OverrideAxis[]): Record<string, Json>[] {
  let points: Record<string, Json>[] = [{}];
  for (const a of axes) points = points.flatMap((p) => a.values.map((v) => ({ ...p, [a.key]: v })));
  return points;
}

/**
 * Names for the points: `--name N` gives N (one point) or N-1, N-2, ... (zero-padded so they
 * sort); otherwise a name read from the overrides, e.g. `demo-lr0.02-s1` (profile, last key
 * part + value, seed as s<n>), or `<profile>-exp-<hash7>` when that would be long or unreadable.
 */
export function pointNames(points: Record<string, Json>[], profile: string, name?: string): string[] {
  if (name !== undefined) {
    if (!EXP_NAME_PATTERN.test(name)) throw new PipelineError(`--name ${name}: use letters, digits, '_', '.' and '-', starting with a letter or digit`);
    if (points.length === 1) return [name];
    const width = String(points.length).length;
    return points.map((_, i) => `${name}-${String(i + 1).padStart(width, '0')}`);
  }
  const names = points.map((p) => readableName(p, profile));
  // Two points can read alike (`a.lr` and `b.lr`): then the hash names them apart.
  return names.map((n, i) => (names.indexOf(n) !== i || names.lastIndexOf(n) !== i ? hashName(points[i]!, profile) : n));
}

function readableName(point: Record<string, Json>, profile: string): string {
  const keys = Object.keys(point);
  if (!keys.length) return hashName(point, profile);
  const lasts = keys.map((k) => k.split('.').pop()!);
  const parts = keys.map((k, i) => {
    const label = k === SEED_KEY ? 's' : lasts.indexOf(lasts[i]!) === lasts.lastIndexOf(lasts[i]!) ? lasts[i]! : k.replace(/\./g, '_');
    const v = point[k]!;
    const value = Array.isArray(v) ? v.map((x) => String(x)).join('x') : typeof v === 'object' && v !== null ? canonical(v) : String(v);
    return `${label}${value}`;
  });
  const name = `${profile === 'default' ? '' : `${profile.replace(/\+/g, '_')}-`}${parts.join('-')}`;
  return EXP_NAME_PATTERN.test(name) && name.length <= 48 ? name : hashName(point, profile);
}

function hashName(point: Record<string, Json>, profile: string): string {
  return `${profile === 'default' ? '' : `${profile.replace(/\+/g, '_')}-`}exp-${md5Text(`${profile}\0${canonical(point)}`).slice(0, 7)}`;
}

/** `-S train.lr=0.02 -S seed=1`: a point as the user would write it. */
export function describePoint(point: Record<string, Json>): string {
  const keys = Object.keys(point);
  return keys.length ? keys.map((k) => `-S ${formatOverride(k, point[k]!)}`).join(' ') : '(no overrides)';
}
