import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  ParamError,
  UserError,
  arr,
  bool,
  createRng,
  deepMerge,
  getParam,
  isUserError,
  loadStageParams,
  nullable,
  num,
  isInteractive,
  parseArgs,
  progress,
  progressBar,
  statusLine,
  record,
  str,
} from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'stage-kit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('params', () => {
  const p = { split: { by: 'random', fractions: { train: 'abc', val: 0.1 }, val_actors: [21, 'x'] }, seed: 42, flag: true, fmax: null };

  it('getParam reads dotted keys and names the key in errors', () => {
    expect(getParam(p, 'seed', num({ integer: true }))).toBe(42);
    expect(getParam(p, 'split.fractions.val', num({ min: 0, max: 1 }))).toBe(0.1);
    expect(() => getParam(p, 'split.fractions.train', num({ min: 0, max: 1 }))).toThrow(
      'params: split.fractions.train must be a number in [0, 1], got "abc"',
    );
    expect(() => getParam(p, 'split.fractions.test', num())).toThrow('params: split.fractions.test is missing');
    expect(() => getParam(p, 'split.by', str({ oneOf: ['actor', 'folds'] }))).toThrow(
      'params: split.by must be one of "actor", "folds", got "random"',
    );
    expect(() => getParam(p, 'split.val_actors', arr(num({ integer: true, min: 1, max: 24 })))).toThrow(
      'params: split.val_actors[1] must be an integer in [1, 24], got "x"',
    );
    expect(() => getParam(p, 'seed', arr(num(), { length: 2 }))).toThrow('params: seed must be an array of 2, got 42');
    expect(() => getParam(p, 'seed', num({ max: 10 }))).toThrow('params: seed must be a number <= 10, got 42');
    expect(getParam(p, 'flag', bool())).toBe(true);
    expect(getParam(p, 'flag', bool)).toBe(true);
    expect(() => getParam(p, 'seed', bool())).toThrow('params: seed must be true or false, got 42');
    expect(getParam(p, 'fmax', nullable(num()))).toBeNull();
    expect(getParam(p, 'nothing_here', nullable(num()))).toBeNull();
    expect(getParam(p, 'seed', nullable(num()))).toBe(42);
    expect(getParam(p, 'split.fractions', record)).toEqual(p.split.fractions);
    expect(() => getParam(p, 'seed', record())).toThrow('params: seed must be a mapping, got 42');
    const e = (() => {
      try {
        getParam(p, 'split.fractions.train', num());
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(ParamError);
    expect(e).toBeInstanceOf(UserError);
    expect((e as ParamError).key).toBe('split.fractions.train');
  });

  it('loadStageParams prefers PIPELINE_PARAMS', () => {
    expect(loadStageParams({ env: { PIPELINE_PARAMS: '{"split":{"seed":7}}' }, cwd: '/nonexistent' })).toEqual({ split: { seed: 7 } });
    expect(() => loadStageParams({ env: { PIPELINE_PARAMS: '{oops' } })).toThrow(/^PIPELINE_PARAMS: invalid JSON/);
  });

  it('falls back to params.yaml, deep-merging the profile overlay from --profile or PIPELINE_PROFILE', () => {
    writeFileSync(join(dir, 'params.yaml'), 'seed: 1\nsplit:\n  seed: 42\n  fractions: {train: 0.8, val: 0.1}\n  val_actors: [21, 22]\n');
    writeFileSync(join(dir, 'params.demo.yaml'), 'split:\n  fractions: {val: 0.2}\n  val_actors: [3]\n');
    expect(loadStageParams({ env: {}, argv: [], cwd: dir })).toEqual({
      seed: 1,
      split: { seed: 42, fractions: { train: 0.8, val: 0.1 }, val_actors: [21, 22] },
    });
    const demo = { seed: 1, split: { seed: 42, fractions: { train: 0.8, val: 0.2 }, val_actors: [3] } };
    expect(loadStageParams({ env: {}, argv: ['--in', 'x', '--profile', 'demo'], cwd: dir })).toEqual(demo);
    expect(loadStageParams({ env: { PIPELINE_PROFILE: 'demo' }, argv: [], cwd: dir })).toEqual(demo);
    expect(() => loadStageParams({ env: {}, argv: ['--profile=nope'], cwd: dir })).toThrow(/params\.nope\.yaml: not found/);
    expect(() => loadStageParams({ env: {}, argv: [], cwd: join(dir, 'missing') })).toThrow(/params\.yaml: not found/);
    writeFileSync(join(dir, 'params.bad.yaml'), 'a: [1,\n');
    expect(() => loadStageParams({ env: {}, argv: ['--profile', 'bad'], cwd: dir })).toThrow(/params\.bad\.yaml: invalid YAML/);
  });

  it('deepMerge replaces arrays and scalars, merges objects', () => {
    expect(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 })).toEqual({ a: { b: 1, c: [3] }, d: 1, e: 2 });
  });
});

describe('parseArgs', () => {
  const spec = {
    in: { type: 'string', required: true },
    'out-dir': { type: 'string', required: true },
    verbose: { type: 'boolean' },
    n: { type: 'string', default: '3' },
  } as const;

  it('parses flags, =values, booleans, defaults and positionals', () => {
    expect(parseArgs(['--in', 'a.arrow', '--out-dir=o', '--verbose'], spec)).toEqual({ in: 'a.arrow', 'out-dir': 'o', verbose: true, n: '3' });
    expect(parseArgs(['stage', '--in', 'a', '--out-dir', 'b', '--profile', 'demo'], spec, { positionals: ['command'] })).toEqual({
      command: 'stage',
      in: 'a',
      'out-dir': 'b',
      n: '3',
      profile: 'demo',
    });
  });

  it('names the culprit flag', () => {
    expect(() => parseArgs(['--in', 'a'], spec)).toThrow('missing required flag --out-dir');
    expect(() => parseArgs(['--in', 'a', '--out-dir', 'b', '--outdir', 'c'], spec)).toThrow(/unknown flag --outdir/);
    expect(() => parseArgs(['--in', '--out-dir', 'b'], spec)).toThrow('flag --in needs a value');
    expect(() => parseArgs(['--in', 'a', '--out-dir', 'b', 'extra'], spec)).toThrow('unexpected argument "extra"');
    expect(() => parseArgs(['--in', 'a', '--in', 'b'], spec)).toThrow('flag --in given twice');
    expect(() => parseArgs(['--in', 'a'], spec, { prog: 'ser-x' })).toThrow(UserError);
  });
});

describe('rng', () => {
  it('is deterministic per seed and different across seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 100 }, () => c.next())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('has sane statistics: uniform mean/var, normal mean/var, unbiased int', () => {
    const r = createRng(1);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const x = r.next();
      s += x;
      s2 += x * x;
    }
    expect(s / n).toBeCloseTo(0.5, 2);
    expect(s2 / n - (s / n) ** 2).toBeCloseTo(1 / 12, 2);
    let m = 0;
    let v = 0;
    let tail = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      m += z;
      v += z * z;
      if (Math.abs(z) > 1.96) tail++;
    }
    expect(m / n).toBeCloseTo(0, 1.5);
    expect(v / n).toBeCloseTo(1, 1.5);
    expect(tail / n).toBeCloseTo(0.05, 2);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[r.int(6)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
  });

  it('shuffle is a deterministic permutation and every position is reachable', () => {
    const base = Array.from({ length: 10 }, (_, i) => i);
    const s1 = createRng(5).shuffle([...base]);
    expect(createRng(5).shuffle([...base])).toEqual(s1);
    expect([...s1].sort((x, y) => x - y)).toEqual(base);
    const firstSeen = new Set<number>();
    const r = createRng(9);
    for (let i = 0; i < 500; i++) firstSeen.add(r.shuffle([...base])[0]!);
    expect(firstSeen.size).toBe(10);
  });
});

describe('runCli', () => {
  const kit = resolve(__dirname, '../src/index.ts');
  function run(body: string) {
    const f = join(dir, `cli-${Math.random().toString(36).slice(2)}.mts`);
    writeFileSync(f, `import { runCli, UserError, getParam, num } from ${JSON.stringify(kit)};\n${body}\n`);
    return spawnSync(process.execPath, ['--import', 'tsx', f], { encoding: 'utf8', cwd: resolve(__dirname, '../../..') });
  }

  it('user errors: one line on stderr, exit 1; bugs: a stack, exit 1', () => {
    const u = run(`await runCli(() => { throw new UserError('data/x.wav: not a RIFF file'); });`);
    expect(u.status).toBe(1);
    expect(u.stderr).toBe('error: data/x.wav: not a RIFF file\n');
    const p = run(`await runCli(() => getParam({ a: { b: 'abc' } }, 'a.b', num({ min: 0, max: 1 })));`);
    expect(p.status).toBe(1);
    expect(p.stderr).toBe('error: params: a.b must be a number in [0, 1], got "abc"\n');
    const t = run(`class TensorFileError extends Error { userError = true }\nawait runCli(() => { throw new TensorFileError('x.arrow: missing column "id"'); });`);
    expect(t.stderr).toBe('error: x.arrow: missing column "id"\n');
    const b = run(`await runCli(() => { (undefined as any).foo; });`);
    expect(b.status).toBe(1);
    expect(b.stderr).toMatch(/internal error.*TypeError[\s\S]*\n\s+at /);
    const ok = run(`await runCli(() => { console.log('fine'); });`);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe('fine\n');
  });

  it('isUserError recognises marked errors only', () => {
    expect(isUserError(new UserError('x'))).toBe(true);
    expect(isUserError(Object.assign(new Error('x'), { userError: true }))).toBe(true);
    expect(isUserError(new Error('x'))).toBe(false);
    expect(isUserError('x')).toBe(false);
  });
});

describe('progress', () => {
  it('prints the first and last line and at most one per second in between', () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: any) => (lines.push(String(s)), true));
    try {
      for (let i = 1; i <= 100; i++) progress(i, 100, 'work', 10_000 + i * 25); // 2.5 s in all
    } finally {
      spy.mockRestore();
    }
    expect(lines[0]).toBe('work: 1/100 (1%)\n');
    expect(lines.at(-1)).toBe('work: 100/100 (100%)\n');
    expect(lines.length).toBe(4); // t = 0, 1.0 s, 2.0 s, final
  });
});

describe('statusLine and progressBar', () => {
  it('on a terminal redraws one line in place (at most every 100 ms), cut to the width, and erases it', () => {
    const out: string[] = [];
    const line = statusLine({ tty: true, columns: 12, write: (s) => out.push(s) });
    expect(line.tty).toBe(true);
    line.update('a', false, 0);
    line.update('b', false, 99); // too soon
    line.update('c', true, 99); // final: always
    line.update('0123456789abcdef', false, 300);
    line.clear();
    line.clear(); // nothing drawn since: nothing to erase
    expect(out).toEqual(['\r\x1b[2Ka', '\r\x1b[2Kc', '\r\x1b[2K0123456789a', '\r\x1b[2K']);
  });

  it('without a terminal prints plain lines at most once per second (final ones always), never control codes', () => {
    const out: string[] = [];
    const line = statusLine({ tty: false, write: (s) => out.push(s) });
    for (let t = 0; t <= 2500; t += 250) line.update(`t=${t}`, false, t);
    line.update('done', true, 2600);
    line.clear();
    expect(out).toEqual(['t=0\n', 't=1000\n', 't=2000\n', 'done\n']);
  });

  it('detects a terminal only when stdout and stderr both are one (a pipe or log file gets plain lines)', () => {
    const [o, e] = [process.stdout.isTTY, process.stderr.isTTY];
    try {
      process.stdout.isTTY = true;
      process.stderr.isTTY = true;
      expect(isInteractive({})).toBe(true);
      expect(isInteractive({ TERM: 'dumb' })).toBe(false);
      process.stderr.isTTY = false;
      expect(isInteractive({})).toBe(false);
    } finally {
      process.stdout.isTTY = o;
      process.stderr.isTTY = e;
    }
  });

  it('draws done/total as a bar', () => {
    expect(progressBar(0, 4, 8)).toBe('[--------]');
    expect(progressBar(1, 4, 8)).toBe('[##>-----]');
    expect(progressBar(4, 4, 8)).toBe('[########]');
    expect(progressBar(9, 4, 8)).toBe('[########]');
  });
});
