import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { overlaps } from '../src/graph.ts';
import { outToken, type Stage } from '../src/parse.ts';
import { stageCmd } from '../src/staging.ts';
import { formatLock, parseLockText, type Lock } from '../src/lock.ts';
import { schedule } from '../src/schedule.ts';
import { RunCache } from '../src/runcache.ts';

describe('overlaps(dep, out): does reading dep read (part of) out', () => {
  it.each([
    ['out/a.txt', 'out/a.txt', true],
    ['out/dir/x.txt', 'out/dir', true], // a file inside a directory out
    ['out', 'out/dir/x.txt', true], // a directory dep holding the out
    ['out/ab', 'out/a', false], // shared prefix, different path
    ['out/a', 'out/ab/x', false],
    ['data/*.wav', 'data/x.wav', true], // glob: its static base covers the out
    ['data/*.wav', 'other/x.wav', false],
    ['data/**/x.txt', 'data', true],
    ['**/*.txt', 'anything/at/all', true], // no static base: reads everything
  ])('%s vs %s -> %s', (dep, out, expected) => {
    expect(overlaps(dep, out)).toBe(expected);
  });
});

describe('outToken(cmd, out, deps): the path in cmd that carries an out', () => {
  it('is the out itself when cmd names it (also as ./out, after = or :, quoted)', () => {
    expect(outToken('tool --out out/a.txt', 'out/a.txt', [])).toBe('out/a.txt');
    expect(outToken('tool --out=./out/a.txt', 'out/a.txt', [])).toBe('out/a.txt');
    expect(outToken('tool "out/a.txt"', 'out/a.txt', [])).toBe('out/a.txt');
  });

  it('is the deepest parent directory in cmd for an --out-dir stage', () => {
    expect(outToken('train --out-dir out/model', 'out/model/sub/weights.bin', [])).toBe('out/model');
    expect(outToken('train --out-dir out/model --log out/model/sub', 'out/model/sub/weights.bin', [])).toBe('out/model/sub');
  });

  it('skips a parent that also covers a dep, and a longer name that merely starts with the out', () => {
    expect(outToken('tool --in out/in.txt --out-dir out', 'out/res.txt', ['out/in.txt'])).toBeUndefined();
    expect(outToken('tool --out a.txt.bak', 'a.txt', [])).toBeUndefined();
    expect(outToken('tool --out out/a', 'out/ab', [])).toBe('out');
  });

  it('counts any path under a parent as that parent (staging rewrites it with the parent)', () => {
    expect(outToken('tool --out out/a.txt.bak', 'out/a.txt', [])).toBe('out');
  });
});

describe('stageCmd: out tokens point into staging', () => {
  const stage = (cmd: string, outs: string[], metrics: string[] = [], deps: string[] = []): Stage => ({
    name: 's', cmd, deps, depTemplates: {}, params: [], outs, metrics, plots: [], line: 1,
  });

  it('rewrites each out token once, longer tokens first, and leaves deps alone', () => {
    const s = stage('tool --in data/in.txt --out out/a --out2 out/a/b.txt --report=out/r.json', ['out/a', 'out/a/b.txt'], ['out/r.json'], ['data/in.txt']);
    expect(stageCmd(s, '.pipeline/staging/s.1')).toEqual({
      cmd: 'tool --in data/in.txt --out .pipeline/staging/s.1/out/a --out2 .pipeline/staging/s.1/out/a/b.txt --report=.pipeline/staging/s.1/out/r.json',
      tokens: ['out/a/b.txt', 'out/r.json', 'out/a'],
    });
  });

  it('rewrites an --out-dir parent token every time it appears, once for all outs under it', () => {
    const s = stage('mkdir -p out/model && train --out-dir out/model', ['out/model/w.bin'], ['out/model/m.json']);
    expect(stageCmd(s, 'st')).toEqual({ cmd: 'mkdir -p st/out/model && train --out-dir st/out/model', tokens: ['out/model'] });
  });
});

describe('formatLock', () => {
  const lock: Lock = {
    b: { cmd: 'make b', deps: [], params: {}, outs: [{ path: 'b.txt', md5: 'b'.repeat(32), size: 1 }] },
    a: {
      cmd: 'make a',
      deps: [{ path: 'data', md5: `${'d'.repeat(32)}.dir`, size: 9, nfiles: 3 }],
      params: { 'z.y': { b: 2, a: [{ d: 1, c: 0 }] }, 'a.k': 1 },
      outs: [{ path: 'a.txt', md5: 'a'.repeat(32), size: 4 }],
    },
    gone: { cmd: 'x', deps: [], params: {}, outs: [] },
  };

  it('writes stages in the given order (others dropped), keys sorted deep, empty sections left out', () => {
    expect(formatLock(lock, ['a', 'b'])).toBe(
      [
        '# Written by ser-pipeline (do not edit): what each stage last ran with and produced.',
        'schema: ser-pipeline/1',
        'stages:',
        '  a:',
        '    cmd: make a',
        '    deps:',
        '      - path: data',
        `        md5: ${'d'.repeat(32)}.dir`,
        '        size: 9',
        '        nfiles: 3',
        '    params:',
        '      z.y:',
        '        a:',
        '          - c: 0',
        '            d: 1',
        '        b: 2',
        '      a.k: 1',
        '    outs:',
        '      - path: a.txt',
        `        md5: ${'a'.repeat(32)}`,
        '        size: 4',
        '  b:',
        '    cmd: make b',
        '    outs:',
        '      - path: b.txt',
        `        md5: ${'b'.repeat(32)}`,
        '        size: 1',
        '',
      ].join('\n'),
    );
  });

  it('parses back to the same entries', () => {
    const text = formatLock(lock, ['a', 'b']);
    expect(parseLockText(text, 'pipeline.lock')).toEqual({ a: lock.a, b: lock.b });
    expect(YAML.parse(text).schema).toBe('ser-pipeline/1');
  });
});

describe('schedule', () => {
  /** Stages that finish when the test says so; records start order and the most running at once. */
  function harness(results: Record<string, boolean | Error> = {}) {
    const started: string[] = [];
    const finish = new Map<string, () => void>();
    let running = 0;
    let maxRunning = 0;
    const runStage = (stage: string) =>
      new Promise<boolean>((resolve, reject) => {
        started.push(stage);
        maxRunning = Math.max(maxRunning, ++running);
        finish.set(stage, () => {
          running--;
          const r = results[stage] ?? true;
          if (r instanceof Error) reject(r);
          else resolve(r);
        });
      });
    const tick = () => new Promise((r) => setTimeout(r, 0));
    return { started, finish: async (s: string) => (finish.get(s)!(), tick()), runStage, maxRunning: () => maxRunning, tick };
  }
  // a, b and e are independent; c reads a and b; d reads c.
  const upstream: Record<string, string[]> = { a: [], b: [], e: [], c: ['a', 'b'], d: ['c'] };

  it('starts a stage only when its upstream is done, up to jobs at once', async () => {
    const h = harness();
    const done = schedule({ order: ['a', 'b', 'e', 'c', 'd'], upstreamOf: (s) => upstream[s]!, jobs: 2, runStage: h.runStage });
    expect(h.started).toEqual(['a', 'b']);
    await h.finish('a');
    expect(h.started).toEqual(['a', 'b', 'e']); // c still waits for b
    await h.finish('b');
    expect(h.started).toEqual(['a', 'b', 'e', 'c']);
    await h.finish('c');
    expect(h.started).toEqual(['a', 'b', 'e', 'c', 'd']);
    await h.finish('e');
    await h.finish('d');
    await done;
    expect(h.maxRunning()).toBe(2);
  });

  it('runs one at a time with jobs 1, and does not wait for upstream stages outside the selection', async () => {
    const h = harness();
    const done = schedule({ order: ['b', 'c'], upstreamOf: (s) => upstream[s]!, jobs: 1, runStage: h.runStage });
    expect(h.started).toEqual(['b']);
    await h.finish('b');
    await h.finish('c');
    await done;
    expect(h.maxRunning()).toBe(1);
  });

  it('after a failure starts nothing new but lets running stages finish', async () => {
    const h = harness({ a: false });
    let settled = false;
    const done = schedule({ order: ['a', 'b', 'c', 'd'], upstreamOf: (s) => upstream[s]!, jobs: 2, runStage: h.runStage }).then(() => (settled = true));
    await h.finish('a');
    expect(settled).toBe(false); // b still running
    await h.finish('b');
    await done;
    expect(h.started).toEqual(['a', 'b']);
  });

  it('rejects with an error a stage throws', async () => {
    const h = harness({ a: new Error('boom') });
    const done = schedule({ order: ['a', 'c'], upstreamOf: (s) => upstream[s]!, jobs: 1, runStage: h.runStage });
    const outcome = done.catch((e: Error) => e.message);
    await h.finish('a');
    expect(await outcome).toBe('boom');
    expect(h.started).toEqual(['a']);
  });
});

describe('RunCache', () => {
  it('records outs under the run key and finds them; a missing or unreadable entry is a miss', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ser-runcache-'));
    try {
      const runs = new RunCache(dir, 'artifacts');
      const key = 'ab' + 'c'.repeat(30);
      const outs = [{ path: 'out/a.txt', md5: 'd'.repeat(32), size: 3 }];
      expect(runs.lookup(key)).toBeUndefined();
      runs.record(key, outs);
      expect(runs.entryPath(key)).toBe(path.join(dir, 'ab', `${'c'.repeat(30)}.json`));
      expect(runs.lookup(key)).toEqual(outs);
      fs.writeFileSync(runs.entryPath(key), '{"truncated');
      expect(runs.lookup(key)).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
