/**
 * pipeline.yaml -> validated, interpolated stages for one profile.
 * Errors name file, line and stage (`pipeline.yaml:12: stage 'train': ...`).
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML, { LineCounter } from 'yaml';
import { PipelineError, located } from './errors.ts';
import { memoParse } from './memo.ts';
import { mergeParams, paramsFileNames, profileOverlays, readParamsSources, getDotted, isObject, type Json, type JsonObject } from './params.ts';
import { applyOverrides, checkOverrideTypes, checkParamsSchema } from './params-schema.ts';
import { Positions, createAjv, type Validator } from './yaml-schema.ts';
import { plotDefProblem, plotEntryPath, stagePlots, type StagePlot } from './plot-defs.ts';

export const PIPELINE_FILE = 'pipeline.yaml';
export const DEFAULT_PROFILE = 'default';

export interface Stage {
  name: string;
  desc?: string;
  /** How to get the stage's source deps (deps no stage produces), added to the error when one is missing. */
  hint?: string;
  /** Interpolated command (workspace paths, before staging rewrite). */
  cmd: string;
  deps: string[];
  /** dep -> its pipeline.yaml template, for deps written with `${...}` (error messages name it). */
  depTemplates: Record<string, string>;
  /** Dotted params keys. */
  params: string[];
  outs: string[];
  metrics: string[];
  /** Plot data files (outs), each once. */
  plots: string[];
  /** How `plots show` draws them: the `{ path, template, ... }` entries of `plots` (none when absent). */
  plotDefs?: StagePlot[];
  /** Line of the stage's key in pipeline.yaml (1-based). */
  line: number;
}

export interface Pipeline {
  root: string;
  /** pipeline.yaml as given (relative to root when inside it). */
  file: string;
  profile: string;
  /** `artifacts` or `artifacts/<profile>`. */
  artifacts: string;
  params: JsonObject;
  stages: Stage[];
  byName: Map<string, Stage>;
  /** Lock file path relative to root. */
  lockFile: string;
}

export function artifactsRoot(profile: string): string {
  return profile === DEFAULT_PROFILE ? 'artifacts' : `artifacts/${profile}`;
}

export function lockFileName(pipelineFile: string, profile: string): string {
  const dir = path.dirname(pipelineFile);
  const base = profile === DEFAULT_PROFILE ? 'pipeline.lock' : `pipeline.${profile}.lock`;
  return dir === '.' ? base : path.join(dir, base);
}

/** All outs of a stage: outs, metrics, plots (all are cached and staged alike). */
export function allOuts(s: Stage): string[] {
  return [...s.outs, ...s.metrics, ...s.plots];
}

// ---------------------------------------------------------------- schema validation

let validators: { top: Validator; stage: Validator; foreach: Validator; matrix: Validator } | undefined;

export const SCHEMA_PATH = new URL('../pipeline.schema.json', import.meta.url);


function getValidators() {
  if (validators) return validators;
  const schema = JSON.parse(fs.readFileSync(SCHEMA_PATH, 'utf8'));
  const ajv = createAjv({ allErrors: false });
  ajv.addSchema(schema, 'pipeline');
  // Top level without the stage oneOf (stages are checked one by one for precise messages).
  const top = ajv.compile({ ...schema, $id: undefined, properties: { ...schema.properties, stages: { type: 'object' } } });
  validators = {
    top,
    stage: ajv.getSchema('pipeline#/definitions/stage'),
    foreach: ajv.getSchema('pipeline#/definitions/foreachStage'),
    matrix: ajv.getSchema('pipeline#/definitions/matrixStage'),
  };
  return validators;
}

function schemaError(v: Validator, base: (string | number)[], pos: Positions, file: string, stage?: string): never {
  const e = v.errors![0]!;
  const parts = [...base, ...e.instancePath.split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))];
  let msg: string;
  if (e.keyword === 'additionalProperties') {
    const key = String(e.params.additionalProperty);
    parts.push(key);
    msg = `unknown key '${key}'`;
  } else if (e.keyword === 'required') {
    msg = `missing required key '${e.params.missingProperty}'`;
  } else if (e.keyword === 'enum') {
    msg = `'${parts.slice(base.length).join('.')}' must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
  } else {
    const field = e.instancePath ? `'${e.instancePath.slice(1).replace(/\//g, '.')}' ` : '';
    msg = `${field}${e.message}`;
  }
  throw new PipelineError(located(file, pos.line(parts), stage, msg));
}

// ---------------------------------------------------------------- interpolation

/**
 * A params string may name the profile's output folder as `${artifacts}` (e.g. a corpus an
 * earlier stage generates), so that a stacked profile reads its own copy: replaced everywhere in
 * the params, before stages, locks or the schema see them. No other `${...}` is expanded there.
 */
export function withArtifacts(params: JsonObject, artifacts: string): JsonObject {
  const walk = (v: Json): Json =>
    typeof v === 'string' ? v.replace(/\$\{\s*artifacts\s*\}/g, artifacts) : Array.isArray(v) ? v.map(walk) : isObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)])) : v;
  return walk(params) as JsonObject;
}

const VAR_RE = /\$\{\s*([^}]*?)\s*\}/g;

interface Ctx {
  file: string;
  line: number | undefined;
  stage: string;
  vars: JsonObject;
}

function lookup(key: string, ctx: Ctx): Json {
  const v = getDotted(ctx.vars, key);
  if (v === undefined) {
    throw new PipelineError(located(ctx.file, ctx.line, ctx.stage, `\${${key}} is not defined (not a params key, var, item or 'artifacts')`));
  }
  return v;
}

/** `${a.b}` -> value. A string that is exactly one `${...}` keeps the value's type. */
function interpValue(s: string, ctx: Ctx): Json {
  const whole = /^\$\{\s*([^}]*?)\s*\}$/.exec(s);
  if (whole) return lookup(whole[1]!, ctx);
  return interpString(s, ctx);
}

function interpString(s: string, ctx: Ctx): string {
  return s.replace(VAR_RE, (_m, key: string) => {
    const v = lookup(key, ctx);
    if (isObject(v)) throw new PipelineError(located(ctx.file, ctx.line, ctx.stage, `\${${key}} is a mapping; only scalars and lists can be interpolated into a string`));
    if (Array.isArray(v)) return v.map((x) => String(x)).join(' ');
    return String(v);
  });
}

function interpDeep(v: Json, ctx: Ctx): Json {
  if (typeof v === 'string') return interpValue(v, ctx);
  if (Array.isArray(v)) return v.map((x) => interpDeep(x, ctx));
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpDeep(x, ctx)]));
  return v;
}

// ---------------------------------------------------------------- loading

export interface LoadOptions {
  root: string;
  profile?: string;
  file?: string;
  /**
   * Skip the params checks: that every declared params key exists, and the params schema
   * (params.schema.json). Used by `dag`, `params diff`, `metrics` and the Nx plugin.
   */
  lenientParams?: boolean;
  /**
   * Dotted params keys set over the profile's params (`exp run -S train.lr=0.01`): each key must
   * exist, and each value must fit the params schema, before anything runs.
   */
  overrides?: Record<string, Json>;
  /** What `${artifacts}` resolves to, instead of the profile's (an experiment's own folder). */
  artifacts?: string;
  /** The lock file (relative to the root), instead of the profile's. */
  lockFile?: string;
}

function normPath(p: string, ctx: Ctx, what: string): string {
  const n = path.posix.normalize(p.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (n === '' || n === '.') throw new PipelineError(located(ctx.file, ctx.line, ctx.stage, `${what} '${p}' is the repository root`));
  return n;
}

function mergeVars(base: JsonObject, list: Json | undefined): JsonObject {
  let out = base;
  if (Array.isArray(list)) for (const v of list) if (isObject(v)) out = { ...out, ...v };
  return out;
}

export function loadPipeline(opts: LoadOptions): Pipeline {
  const root = path.resolve(opts.root);
  const profile = opts.profile || DEFAULT_PROFILE;
  const file = opts.file ?? PIPELINE_FILE;
  const abs = path.resolve(root, file);
  if (!fs.existsSync(abs)) throw new PipelineError(`${file}: not found in ${root}`);
  const text = fs.readFileSync(abs, 'utf8');
  // Positions need the YAML CST: built only when an error must name a line.
  let posCache: Positions | undefined;
  const parseDoc = () => {
    const lc = new LineCounter();
    const doc = YAML.parseDocument(text, { lineCounter: lc, prettyErrors: false });
    if (doc.errors.length) {
      const e = doc.errors[0]!;
      const line = e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line;
      throw new PipelineError(`${file}:${line}: invalid YAML: ${e.message.split('\n')[0]}`);
    }
    posCache = new Positions(doc, lc);
    return { doc, pos: posCache };
  };
  const lazyPos = { line: (parts: (string | number)[]) => (posCache ?? parseDoc().pos).line(parts) } as Positions;
  // Memoised per exact text (and schema): only text that passed the JSON Schema is memoised.
  const schemaText = fs.readFileSync(SCHEMA_PATH, 'utf8');
  const parsed = memoParse(root, `pipeline\0${schemaText}`, text, () => {
    const { doc, pos } = parseDoc();
    const raw = (doc.toJS() ?? {}) as Json;
    const v = getValidators();
    if (!v.top(raw)) schemaError(v.top, [], pos, file);
    for (const [name, def] of Object.entries(((raw as JsonObject).stages ?? {}) as JsonObject)) {
      if (!isObject(def)) throw new PipelineError(located(file, pos.line(['stages', name]), name, 'a stage must be a mapping'));
      const which = 'foreach' in def ? v.foreach : 'matrix' in def ? v.matrix : v.stage;
      if (!which(def)) schemaError(which, ['stages', name], pos, file, name);
    }
    const stageLines = Object.fromEntries(Object.keys(((raw as JsonObject).stages ?? {}) as JsonObject).map((n) => [n, pos.line(['stages', n]) ?? 0]));
    return { raw, stageLines };
  });
  const raw = parsed.raw;
  const pos = lazyPos;
  const rawStages = (raw as JsonObject).stages as JsonObject;

  const sources = readParamsSources(root, profile);
  const artifacts = opts.artifacts ?? artifactsRoot(profile);
  const overrides = opts.overrides ?? {};
  if (!opts.lenientParams) checkOverrideTypes(root, overrides);
  const params = withArtifacts(applyOverrides(mergeParams(sources), overrides), artifacts);
  // Unknown keys and bad values in params*.yaml stop here, before any stage runs.
  if (!opts.lenientParams) checkParamsSchema(root, sources, params, overrides);
  const globalVars = mergeVars({ ...params, artifacts }, (raw as JsonObject).vars);
  // `artifacts` is built in: a var or param of that name cannot shadow it.
  globalVars.artifacts = artifacts;

  const stages: Stage[] = [];
  for (const [name, def] of Object.entries(rawStages)) {
    const line = parsed.stageLines[name];
    if (!isObject(def)) throw new PipelineError(located(file, line, name, 'a stage must be a mapping'));
    const ctx0: Ctx = { file, line, stage: name, vars: globalVars };
    if ('foreach' in def) {
      let items = def.foreach as Json;
      if (typeof items === 'string') items = interpValue(items, ctx0);
      const body = def.do as JsonObject;
      const entries: [string, Json, Json | undefined][] = Array.isArray(items)
        ? items.map((it, i) => [typeof it === 'object' && it !== null ? String(i) : String(it), it, i])
        : isObject(items)
          ? Object.entries(items).map(([k, it]) => [k, it, k])
          : (() => { throw new PipelineError(located(file, line, name, 'foreach must be a list or a mapping')); })();
      for (const [suffix, item, key] of entries) {
        const vars = { ...ctx0.vars, item, ...(key !== undefined ? { key } : {}) };
        const s = buildStage(`${name}@${suffix}`, body, { ...ctx0, vars }, profile);
        if (s) stages.push(s);
      }
    } else if ('matrix' in def) {
      const { matrix, ...body } = def;
      let combos: JsonObject[] = [{}];
      for (const [k, vals] of Object.entries(matrix as JsonObject)) {
        combos = combos.flatMap((c) => (vals as Json[]).map((x) => ({ ...c, [k]: x })));
      }
      for (const c of combos) {
        const suffix = Object.values(c).map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join('-');
        const s = buildStage(`${name}@${suffix}`, body, { ...ctx0, vars: { ...ctx0.vars, item: c } }, profile);
        if (s) stages.push(s);
      }
    } else {
      const s = buildStage(name, def, ctx0, profile);
      if (s) stages.push(s);
    }
  }

  const byName = new Map(stages.map((s) => [s.name, s]));
  const p: Pipeline = { root, file, profile, artifacts, params, stages, byName, lockFile: opts.lockFile ?? lockFileName(file, profile) };
  validateSemantics(p, pos, opts.lenientParams ?? false);
  return p;
}

function buildStage(name: string, def: JsonObject, ctx: Ctx, profile: string): Stage | undefined {
  const profiles = def.profiles as string[] | undefined;
  // A stacked profile (`demo+webgpu`) has the stages of each of its overlays.
  if (profiles && !profileOverlays(profile).some((o) => profiles.includes(o))) return undefined;
  const c: Ctx = { ...ctx, stage: name, vars: mergeVars(ctx.vars, def.vars) };
  c.vars.artifacts = ctx.vars.artifacts!; // set on the root vars, copied into every stage's
  const list = (key: string): string[] => {
    const raw = def[key];
    if (raw === undefined) return [];
    const val = interpDeep(raw, c);
    let flat = (Array.isArray(val) ? val : [val]).flat(2);
    // One plot file may be drawn several ways; it is one out.
    if (key === 'plots') flat = [...new Set(flat.map(plotEntryPath))];
    return flat.map((x) => {
      if (typeof x !== 'string' && typeof x !== 'number') throw new PipelineError(located(c.file, c.line, name, `${key} entries must be strings`));
      return key === 'params' ? String(x) : normPath(String(x), c, key.replace(/s$/, ''));
    });
  };
  const cmd = interpString(String(def.cmd), c).trim();
  const deps = list('deps');
  const rawDeps = Array.isArray(def.deps) ? def.deps : def.deps === undefined ? [] : [def.deps];
  const depTemplates: Record<string, string> = {};
  if (rawDeps.length === deps.length) {
    rawDeps.forEach((r, i) => {
      if (typeof r === 'string' && r.includes('${')) depTemplates[deps[i]!] = r;
    });
  }
  return {
    name,
    desc: def.desc === undefined ? undefined : interpString(String(def.desc), c),
    hint: def.hint === undefined ? undefined : interpString(String(def.hint), c),
    cmd,
    deps,
    depTemplates,
    params: list('params'),
    outs: list('outs'),
    metrics: list('metrics'),
    plots: list('plots'),
    plotDefs: stagePlots(def.plots, (v) => interpDeep(v, c), (p) => normPath(p, c, 'plot')),
    line: c.line ?? 0,
  };
}

/** The token in `cmd` that carries an out: the out itself or its deepest parent dir present literally. */
export function outToken(cmd: string, out: string, deps: string[]): string | undefined {
  const parts = out.split('/');
  for (let n = parts.length; n >= 1; n--) {
    const tok = parts.slice(0, n).join('/');
    // A parent token must not also cover something the stage reads.
    if (n < parts.length && deps.some((d) => d === tok || d.startsWith(tok + '/') || tok.startsWith(d + '/'))) continue;
    if (tokenRegex(tok).test(cmd)) return tok;
  }
  return undefined;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches `tok` as a whole path in a shell command (bounded by start/space/quote/=/: and end/space/quote/slash). */
export function tokenRegex(tok: string, flags = ''): RegExp {
  return new RegExp(`(^|[\\s"'=:])(\\./)?${escapeRe(tok)}(?=$|[\\s"'/;|&)])`, flags);
}

function validateSemantics(p: Pipeline, pos: Positions, lenientParams: boolean): void {
  const { file } = p;
  const producer = new Map<string, string>();
  for (const s of p.stages) {
    const at = (key: string) => pos.line(['stages', s.name.split('@')[0]!, key]) ?? s.line;
    if (!lenientParams) {
      for (const k of s.params) {
        if (getDotted(p.params, k) === undefined) {
          throw new PipelineError(located(file, at('params'), s.name, `params key '${k}' is not in ${paramsFileNames(p.profile).join(' + ')}`));
        }
      }
    }
    for (const o of allOuts(s)) {
      if (o.startsWith('../') || path.isAbsolute(o)) throw new PipelineError(located(file, at('outs'), s.name, `out '${o}' is outside the repository`));
      const other = producer.get(o);
      if (other) throw new PipelineError(located(file, at('outs'), s.name, `out '${o}' is also produced by stage '${other}'`));
      for (const [q, st] of producer) {
        if (q.startsWith(o + '/') || o.startsWith(q + '/')) {
          throw new PipelineError(located(file, at('outs'), s.name, `out '${o}' overlaps out '${q}' of stage '${st}'`));
        }
      }
      producer.set(o, s.name);
      if (s.deps.some((d) => d === o || d.startsWith(o + '/') || o.startsWith(d + '/'))) {
        throw new PipelineError(located(file, at('deps'), s.name, `'${o}' is both a dep and an out of the stage`));
      }
      if (!outToken(s.cmd, o, s.deps)) {
        throw new PipelineError(located(file, at('cmd'), s.name, `out '${o}' (or a parent directory of it) does not appear in cmd, so the engine cannot stage it`));
      }
    }
    for (const d of s.plotDefs ?? []) {
      const problem = plotDefProblem(d);
      if (problem) throw new PipelineError(located(file, pos.line(['stages', s.name.split('@')[0]!, 'plots', d.index]) ?? s.line, s.name, problem));
    }
  }
}
