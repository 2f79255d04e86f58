import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { cleanup, count, threeStageWorkspace, workspace, type Ws } from './helpers.ts';

let ws: Ws;
afterEach(() => cleanup(ws));

function setup() {
  ws = threeStageWorkspace(expect);
  return ws;
}

describe('run-cache, early cutoff, selection, stage env', () => {
  it('switching a param back restores outs from the run-cache without rerunning', () => {
    setup();
    ws.write('params.yaml', 'p:\n  x: 2\n  y: 1\n');
    ws.cli('repro');
    expect(ws.read('out/a.txt')).toBe('x=2\n');
    ws.write('params.yaml', 'p:\n  x: 1\n  y: 1\n');
    const r = ws.cli('repro');
    expect(r.out).toContain('a: restored from run-cache without running');
    expect(r.out).toContain('c: restored from run-cache');
    expect(ws.read('out/a.txt')).toBe('x=1\n');
    expect([ws.runs('a'), ws.runs('c')]).toEqual([2, 2]);
    expect(ws.cli('status', '--check').code).toBe(0);
  });

  it('identical outputs cut off downstream (early cutoff)', () => {
    ws = workspace({
      'pipeline.yaml': `stages:
  a:
    cmd: ${count('a')}; echo same > a.txt
    params: [p]
    outs: [a.txt]
  b:
    cmd: ${count('b')}; cp a.txt b.txt
    deps: [a.txt]
    outs: [b.txt]
`,
      'params.yaml': 'p: 1\n',
    });
    ws.cli('repro');
    ws.write('params.yaml', 'p: 2\n');
    const r = ws.cli('repro');
    expect(r.out).toContain('outs identical to the lock');
    expect(r.out).toContain('b: cached');
    expect([ws.runs('a'), ws.runs('b')]).toEqual([2, 1]);
  });

  it('--force, --single-item, --downstream and --dry select what runs', () => {
    setup();
    expect(ws.cli('repro', '--force', '-s', 'b').code).toBe(0);
    expect([ws.runs('a'), ws.runs('b'), ws.runs('c')]).toEqual([1, 2, 1]);
    ws.cli('repro', '--force', '--downstream', 'b');
    expect([ws.runs('a'), ws.runs('b'), ws.runs('c')]).toEqual([1, 3, 2]);
    ws.write('params.yaml', 'p:\n  x: 5\n  y: 1\n');
    const dry = ws.cli('repro', '--dry');
    expect(dry.out).toMatch(/a: would run \(.*param p.x: 1 -> 5\)/);
    expect(dry.out).toContain('b: up to date');
    expect(ws.runs('a')).toBe(1);
  });

  it('stages see only their declared params, nested, plus stage env', () => {
    ws = workspace({
      'pipeline.yaml': `stages:
  e:
    cmd: >-
      node -e "process.stdout.write(JSON.stringify({p: JSON.parse(process.env.PIPELINE_PARAMS), s: process.env.PIPELINE_STAGE, prof: process.env.PIPELINE_PROFILE, scratch: !!process.env.PIPELINE_SCRATCH}))" > env.json
    params: [train.lr, features]
    outs: [env.json]
`,
      'params.yaml': 'train: {lr: 0.1, epochs: 3}\nfeatures: {n_mels: 8}\nother: 1\n',
    });
    expect(ws.cli('repro').code).toBe(0);
    expect(JSON.parse(ws.read('env.json'))).toEqual({ p: { train: { lr: 0.1 }, features: { n_mels: 8 } }, s: 'e', prof: '', scratch: true });
  });
});
