// Params: from the engine (PIPELINE_PARAMS), or params.yaml (+ profile overlay) when run by hand;
// typed access by dotted key with checks that name the key in their error.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ParamError, UserError } from './errors.ts';

export type Params = Record<string, unknown>;

/** A check turns an unknown param value into a T or throws a ParamError naming `key`. */
export type Check<T> = (value: unknown, key: string) => T;

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  argv?: string[];
  /** Directory holding params.yaml (default: the current directory, the repository root). */
  cwd?: string;
  /** false: read params.yaml (+ overlay) even when PIPELINE_PARAMS is set (a command outside the pipeline). Default true. */
  fromEngine?: boolean;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge key by key; arrays and scalars in `over` replace those in `base`. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : v;
  return out;
}

/** The profile from `--profile <name>` / `--profile=<name>` in argv, else PIPELINE_PROFILE. */
export function profileFrom(argv: string[], env: NodeJS.ProcessEnv): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--profile') return argv[i + 1] ?? '';
    if (a.startsWith('--profile=')) return a.slice('--profile='.length);
  }
  return env.PIPELINE_PROFILE ?? '';
}

function readYaml(path: string): Params {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e: any) {
    throw new UserError(`${path}: cannot read (${e?.code ?? e?.message ?? e})`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e: any) {
    throw new UserError(`${path}: invalid YAML (${String(e?.message ?? e).split('\n')[0]})`);
  }
  if (doc == null) return {};
  if (!isPlainObject(doc)) throw new UserError(`${path}: top level must be a mapping`);
  return doc;
}

/**
 * The stage's params: the JSON in PIPELINE_PARAMS (set by the engine: only the declared keys),
 * else params.yaml in `cwd`, deep-merged with params.<profile>.yaml when a profile is given.
 */
export function loadStageParams(opts: LoadOptions = {}): Params {
  const env = opts.env ?? process.env;
  const raw = opts.fromEngine === false ? undefined : env.PIPELINE_PARAMS;
  if (raw !== undefined && raw !== '') {
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (e: any) {
      throw new UserError(`PIPELINE_PARAMS: invalid JSON (${e?.message ?? e})`);
    }
    if (!isPlainObject(v)) throw new UserError('PIPELINE_PARAMS: must be a JSON object');
    return v;
  }
  const cwd = opts.cwd ?? process.cwd();
  const base = join(cwd, 'params.yaml');
  if (!existsSync(base)) {
    throw new UserError(`${base}: not found (run from the repository root, or set PIPELINE_PARAMS)`);
  }
  let params = readYaml(base);
  const profile = profileFrom(opts.argv ?? process.argv.slice(2), env);
  if (profile) {
    if (!/^[A-Za-z0-9_-]+$/.test(profile)) throw new UserError(`profile: bad name ${JSON.stringify(profile)}`);
    const overlay = join(cwd, `params.${profile}.yaml`);
    if (!existsSync(overlay)) throw new UserError(`${overlay}: not found (profile "${profile}")`);
    params = deepMerge(params, readYaml(overlay)) as Params;
  }
  return params;
}

/** The value at a dotted key (`split.fractions.train`), checked; a missing key is a ParamError. */
export function getParam<T>(p: Params, key: string, check: Check<T>): T {
  let v: unknown = p;
  for (const part of key.split('.')) {
    if (!isPlainObject(v) || !(part in v)) {
      // nullable checks accept a missing key as null only when explicitly asked (see nullable()).
      if ((check as { acceptsMissing?: boolean }).acceptsMissing) return check(null, key);
      throw new ParamError(key, `params: ${key} is missing`);
    }
    v = v[part];
  }
  return check(v, key);
}

function got(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return JSON.stringify(v);
}

function fail(key: string, expected: string, v: unknown): never {
  throw new ParamError(key, `params: ${key} must be ${expected}, got ${got(v)}`);
}

function fmt(n: number): string {
  return String(n);
}

/** A finite number, optionally an integer and within [min, max]. */
export function num(opts: { min?: number; max?: number; integer?: boolean } = {}): Check<number> {
  const { min, max, integer } = opts;
  const what = integer ? 'an integer' : 'a number';
  const range =
    min !== undefined && max !== undefined
      ? ` in [${fmt(min)}, ${fmt(max)}]`
      : min !== undefined
        ? ` >= ${fmt(min)}`
        : max !== undefined
          ? ` <= ${fmt(max)}`
          : '';
  const expected = what + range;
  return (v, key) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) fail(key, expected, v);
    if (integer && !Number.isInteger(v)) fail(key, expected, v);
    if ((min !== undefined && v < min) || (max !== undefined && v > max)) fail(key, expected, v);
    return v;
  };
}

/** A string, optionally one of a fixed set. */
export function str(opts: { oneOf?: readonly string[]; nonEmpty?: boolean } = {}): Check<string> {
  const expected = opts.oneOf
    ? `one of ${opts.oneOf.map((s) => JSON.stringify(s)).join(', ')}`
    : opts.nonEmpty
      ? 'a non-empty string'
      : 'a string';
  return (v, key) => {
    if (typeof v !== 'string') fail(key, expected, v);
    if (opts.oneOf && !opts.oneOf.includes(v)) fail(key, expected, v);
    if (opts.nonEmpty && v === '') fail(key, expected, v);
    return v;
  };
}

const boolCheck: Check<boolean> = (v, key) => {
  if (typeof v !== 'boolean') fail(key, 'true or false', v);
  return v;
};

/** true or false. Usable as `bool()` or `bool`. */
export function bool(): Check<boolean>;
export function bool(v: unknown, key: string): boolean;
export function bool(...args: unknown[]): Check<boolean> | boolean {
  return args.length === 0 ? boolCheck : boolCheck(args[0], args[1] as string);
}

/** An array whose elements pass `check` (element keys read `key[i]`), optionally of a length. */
export function arr<T>(check: Check<T>, opts: { length?: number; minLength?: number } = {}): Check<T[]> {
  return (v, key) => {
    const expected =
      opts.length !== undefined
        ? `an array of ${opts.length}`
        : opts.minLength !== undefined
          ? `an array of at least ${opts.minLength}`
          : 'an array';
    if (!Array.isArray(v)) fail(key, expected, v);
    if (opts.length !== undefined && v.length !== opts.length) fail(key, expected, v);
    if (opts.minLength !== undefined && v.length < opts.minLength) fail(key, expected, v);
    return v.map((x, i) => check(x, `${key}[${i}]`));
  };
}

/** null (or a missing key) passes as null; anything else must pass `check`. */
export function nullable<T>(check: Check<T>): Check<T | null> {
  const c: Check<T | null> = (v, key) => (v === null || v === undefined ? null : check(v, key));
  (c as { acceptsMissing?: boolean }).acceptsMissing = true;
  return c;
}

const recordCheck: Check<Record<string, unknown>> = (v, key) => {
  if (!isPlainObject(v)) fail(key, 'a mapping', v);
  return v;
};

/** A mapping (plain object). Usable as `record` or `record()`. */
export function record(): Check<Record<string, unknown>>;
export function record(v: unknown, key: string): Record<string, unknown>;
export function record(...args: unknown[]): Check<Record<string, unknown>> | Record<string, unknown> {
  return args.length === 0 ? recordCheck : recordCheck(args[0], args[1] as string);
}
