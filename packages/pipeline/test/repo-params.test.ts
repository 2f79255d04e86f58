// The project's params.schema.json against the project itself: every committed params*.yaml
// validates, and the schema, the stages' code and pipeline.yaml agree on which keys exist.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '../src/parse.ts';
import { mergeParams, readParamsSources, flatten, type ParamsSource } from '../src/params.ts';
import { PARAMS_SCHEMA_FILE, nodeAt, paramsProblems, schemaKeys, type SchemaNode } from '../src/params-schema.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const schema = JSON.parse(fs.readFileSync(path.join(ROOT, PARAMS_SCHEMA_FILE), 'utf8')) as SchemaNode;
const paramsFiles = fs.readdirSync(ROOT).filter((f) => /^params(\.[A-Za-z0-9_-]+)?\.yaml$/.test(f)).sort();
const profiles = paramsFiles.map((f) => (f === 'params.yaml' ? 'default' : f.slice('params.'.length, -'.yaml'.length)));

// A copy of the files the engine reads, so the checks write nothing (parse memo) into the repository.
const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'ser-params-'));
for (const f of [...paramsFiles, PARAMS_SCHEMA_FILE, 'pipeline.yaml']) fs.copyFileSync(path.join(ROOT, f), path.join(copy, f));
afterAll(() => fs.rmSync(copy, { recursive: true, force: true }));

const has = (key: string) => {
  const parts = key.split('.');
  // `${k}` in a template key stands for any key its section declares.
  if (parts[parts.length - 1]!.startsWith('${')) return Object.keys(nodeAt(schema, parts.slice(0, -1))?.properties ?? {}).length > 0;
  return nodeAt(schema, parts) !== undefined;
};

/** Every `*.ts` under packages/<pkg>/src (stage-kit defines getParam, the engine reads no key). */
function stageSources(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) out.push(p);
    }
  };
  for (const pkg of fs.readdirSync(path.join(ROOT, 'packages'))) {
    if (pkg === 'stage-kit' || pkg === 'pipeline') continue;
    const src = path.join(ROOT, 'packages', pkg, 'src');
    if (fs.existsSync(src)) walk(src);
  }
  return out;
}

const KEY_ARG = /\bgetParam\(\s*[\w.]+\s*,\s*(?:'([^']*)'|"([^"]*)"|`([^`]*)`|(\w+))/g;

/**
 * The params keys stage code reads: the key argument of each getParam call, and for a one-line
 * wrapper `const f = (key: string) => getParam(p, key, ...)`, the literal keys passed to `f`.
 * A key the scan cannot resolve is reported, so a new way of reading params cannot slip past.
 */
function keysReadByStages(): { keys: Map<string, string>; unresolved: string[] } {
  const keys = new Map<string, string>(); // key -> file:line of one read
  const unresolved: string[] = [];
  for (const file of stageSources()) {
    const text = fs.readFileSync(file, 'utf8');
    const rel = path.relative(ROOT, file);
    const lineOf = (i: number) => text.slice(0, i).split('\n').length;
    for (const m of text.matchAll(KEY_ARG)) {
      const literal = m[1] ?? m[2] ?? m[3];
      if (literal !== undefined) {
        keys.set(literal.replace(/\$\{[^}]*\}/g, '${k}'), `${rel}:${lineOf(m.index!)}`);
        continue;
      }
      const param = m[4]!;
      const wrapper = new RegExp(`(\\w+)\\s*=\\s*\\(\\s*${param}\\s*:\\s*string\\s*\\)[^=]*=>\\s*getParam\\(`).exec(text);
      if (!wrapper) {
        unresolved.push(`${rel}:${lineOf(m.index!)}: getParam(..., ${param}, ...)`);
        continue;
      }
      for (const c of text.matchAll(new RegExp(`\\b${wrapper[1]}\\(\\s*'([^']+)'`, 'g'))) keys.set(c[1]!, `${rel}:${lineOf(c.index!)}`);
    }
  }
  return { keys, unresolved };
}

function sourcesOf(profile: string): ParamsSource[] {
  return readParamsSources(copy, profile);
}

describe('the committed params files', () => {
  it('finds the committed profiles', () => {
    expect(profiles).toEqual(expect.arrayContaining(['default', 'demo', 'ravdess-cpu', 'ravdess-cpu-actor']));
  });

  it.each(profiles)('profile %s: params.yaml + overlay match the schema (every value has the declared type and range)', (profile) => {
    const sources = sourcesOf(profile);
    expect(paramsProblems(schema, sources, mergeParams(sources))).toEqual([]);
    // And through the engine, as `status` loads it.
    expect(() => loadPipeline({ root: copy, profile })).not.toThrow();
  });

  it('ravdess-cpu-actor is ravdess-cpu with the speaker-independent split and nothing else', () => {
    // The README compares the two profiles as one recipe on two splits.
    const merged = (profile: string) => flatten(mergeParams(sourcesOf(profile)));
    const cpu = merged('ravdess-cpu');
    const actor = merged('ravdess-cpu-actor');
    const differing = [...new Set([...Object.keys(cpu), ...Object.keys(actor)])]
      .filter((k) => JSON.stringify(cpu[k]) !== JSON.stringify(actor[k]))
      .sort();
    expect(differing).toEqual(['split.by']);
    expect(actor['split.by']).toBe('actor');
  });

  it.each(paramsFiles)('%s points YAML editors at the schema on its first line', (f) => {
    expect(fs.readFileSync(path.join(ROOT, f), 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./params.schema.json');
  });
});

describe('one home for each key: the schema declares what the stages read', () => {
  const read = keysReadByStages();

  it('the scan finds the keys stages read (it is not silently empty)', () => {
    expect(read.unresolved).toEqual([]);
    expect([...read.keys.keys()]).toEqual(expect.arrayContaining(['train.lr', 'segment.offset', 'model.pool.size', 'split.fractions.${k}', 'data.source']));
  });

  it('every key a stage reads with getParam is declared in params.schema.json', () => {
    const undeclared = [...read.keys].filter(([k]) => !has(k)).map(([k, at]) => `${k} (read at ${at})`);
    expect(undeclared).toEqual([]);
  });

  it('the features block: the schema declares exactly the keys the features stage accepts', () => {
    const core = fs.readFileSync(path.join(ROOT, 'packages/features/src/core.ts'), 'utf8');
    // KEYS: the log-mel maths; RUN_KEYS: how it runs (workers), kept out of the features metadata.
    const featureKeys = ['KEYS', 'RUN_KEYS'].flatMap((name) => {
      const list = new RegExp(`const ${name} = \\[([^\\]]*)\\]`).exec(core);
      expect(list, `${name} in packages/features/src/core.ts`).not.toBeNull();
      return [...list![1]!.matchAll(/'([^']+)'/g)].map((m) => m[1]);
    }).sort();
    expect(Object.keys(nodeAt(schema, ['features'])!.properties!).sort()).toEqual(featureKeys);
  });

  it('every params key a stage declares in pipeline.yaml is in the schema', () => {
    const undeclared = new Set<string>();
    for (const profile of profiles) {
      for (const s of loadPipeline({ root: copy, profile, lenientParams: true }).stages) for (const k of s.params) if (!has(k)) undeclared.add(`${s.name}: ${k}`);
    }
    expect([...undeclared]).toEqual([]);
  });

  it('every key the schema declares is set in some committed params file (no stale schema keys)', () => {
    const set = new Set<string>();
    for (const profile of profiles) {
      const v = sourcesOf(profile).at(-1)!.value; // the profile's own file
      for (const k of Object.keys(flatten(v))) for (let parts = k.split('.'); parts.length; parts = parts.slice(0, -1)) set.add(parts.join('.'));
    }
    const leaves = schemaKeys(schema).filter((k) => !nodeAt(schema, k)!.properties);
    expect(leaves.map((k) => k.join('.')).filter((k) => !set.has(k))).toEqual([]);
  });

  it('every schema key has a one-line description', () => {
    const bad = schemaKeys(schema).filter((k) => !/^[^\n]{3,}$/.test(nodeAt(schema, k)!.description ?? '')).map((k) => k.join('.'));
    expect(bad).toEqual([]);
  });
});
