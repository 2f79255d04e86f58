// The engine pieces experiments stand on: params overrides, another artifacts root and lock, a
// repro with its own staging/scratch/run lock, and run keys that ignore the artifacts root.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPipeline } from '../src/parse.ts';
import { repro } from '../src/runner.ts';
import { experimentCores, planExperiments, reachedParams } from '../src/exp.ts';
import { portablePaths, localPaths } from '../src/status.ts';
import { spawn } from 'node:child_process';
import { cleanup, count, workspace, type Ws } from './helpers.ts';

let ws: Ws;
afterEach(() => {
  if (ws) cleanup(ws);
  delete process.env.RUNLOG;
});

// `a` reads p.x; `b` reads `a`'s out and p.y.
const PIPELINE = `stages:
  a:
    cmd: ${count('a')}; mkdir -p \${artifacts}/a && echo "x=\${p.x}" > \${artifacts}/a/out.txt
    params: [p.x]
    outs: ["\${artifacts}/a/out.txt"]
  b:
    cmd: ${count('b')}; mkdir -p \${artifacts}/b && cat \${artifacts}/a/out.txt > \${artifacts}/b/out.txt && echo "y=\${p.y}" >> \${artifacts}/b/out.txt
    deps: ["\${artifacts}/a/out.txt"]
    params: [p.y]
    outs: ["\${artifacts}/b/out.txt"]
`;
const SCHEMA = JSON.stringify({
  type: 'object',
  additionalProperties: false,
  properties: { p: { type: 'object', additionalProperties: false, properties: { x: { type: 'number' }, y: { type: 'number', minimum: 0 } } } },
});

const quiet = () => {};
const EXP = '.pipeline/exps/e1';

function setup(): Ws {
  ws = workspace({ 'pipeline.yaml': PIPELINE, 'params.yaml': 'p:\n  x: 1\n  y: 1\n', 'params.schema.json': SCHEMA });
  // The stages log their runs to RUNLOG (helpers' workspace sets it for the CLI only).
  process.env.RUNLOG = ws.log;
  return ws;
}

const loadExp = (overrides: Record<string, unknown>) =>
  loadPipeline({ root: ws.dir, overrides: overrides as never, artifacts: `${EXP}/artifacts`, lockFile: `${EXP}/pipeline.lock` });

describe('run keys and run-cache entries do not depend on the artifacts root', () => {
  it('portablePaths writes the root as ${artifacts} only where it is a whole path', () => {
    const text = 'cp artifacts/demo/a x artifacts/demo2/a my_artifacts/demo "artifacts/demo"';
    expect(portablePaths(text, 'artifacts/demo')).toBe('cp ${artifacts}/a x artifacts/demo2/a my_artifacts/demo "${artifacts}"');
    expect(localPaths(portablePaths(text, 'artifacts/demo'), '.pipeline/exps/e/artifacts')).toBe(
      'cp .pipeline/exps/e/artifacts/a x artifacts/demo2/a my_artifacts/demo ".pipeline/exps/e/artifacts"',
    );
  });

  it('the same stage under another artifacts root and lock restores from the run-cache, leaving the workspace alone', async () => {
    setup();
    const main = await repro(loadPipeline({ root: ws.dir }), { log: quiet });
    expect(main.ok).toBe(true);
    const mainLock = ws.read('pipeline.lock');
    // Same params: both stages come from the run-cache, nothing runs.
    const same = await repro(loadExp({}), { log: quiet, ownDir: EXP });
    expect(Object.fromEntries(same.outcomes)).toEqual({ a: 'run-cache', b: 'run-cache' });
    expect([ws.runs('a'), ws.runs('b')]).toEqual([1, 1]);
    expect(ws.read(`${EXP}/artifacts/b/out.txt`)).toBe('x=1\ny=1\n');
    // The experiment's lock names its own paths; the workspace's lock is untouched.
    expect(ws.read(`${EXP}/pipeline.lock`)).toContain(`${EXP}/artifacts/a/out.txt`);
    expect(ws.read('pipeline.lock')).toBe(mainLock);
    // p.y reaches only b: a stays cached, b runs in the experiment only.
    const ranB = await repro(loadExp({ 'p.y': 5 }), { log: quiet, ownDir: EXP });
    expect(Object.fromEntries(ranB.outcomes)).toEqual({ a: 'cached', b: 'ran' });
    expect(ws.read(`${EXP}/artifacts/b/out.txt`)).toBe('x=1\ny=5\n');
    expect(ws.read('artifacts/b/out.txt')).toBe('x=1\ny=1\n');
    expect(fs.existsSync(path.join(ws.dir, EXP, 'staging'))).toBe(true);
    // ... and what the experiment ran, the workspace now restores without running.
    ws.write('params.yaml', 'p:\n  x: 1\n  y: 5\n');
    const back = await repro(loadPipeline({ root: ws.dir }), { log: quiet });
    expect(Object.fromEntries(back.outcomes)).toEqual({ a: 'cached', b: 'run-cache' });
    expect([ws.runs('a'), ws.runs('b')]).toEqual([1, 2]);
  });

  it("an experiment's repro holds its own run lock: the workspace's lock does not block it", async () => {
    setup();
    // Another live process holds the workspace's run lock.
    const holder = spawn('sleep', ['30']);
    try {
      ws.write('.pipeline/repro.lock', `${holder.pid}\n`);
      expect((await repro(loadExp({}), { log: quiet, ownDir: EXP })).ok).toBe(true);
      await expect(repro(loadPipeline({ root: ws.dir }), { log: quiet })).rejects.toThrow(`another repro (pid ${holder.pid}) is running on this workspace (.pipeline/repro.lock)`);
      ws.write(`${EXP}/repro.lock`, `${holder.pid}\n`);
      await expect(repro(loadExp({}), { log: quiet, ownDir: EXP })).rejects.toThrow(`(${EXP}/repro.lock)`);
    } finally {
      holder.kill();
    }
  });
});

describe('params overrides (-S)', () => {
  it('set a key over the profile params; an unknown key names the nearest known key', () => {
    setup();
    expect(loadExp({ 'p.x': 7 }).params).toEqual({ p: { x: 7, y: 1 } });
    expect(() => loadExp({ 'p.xx': 7 })).toThrow("-S p.xx=7: unknown params key 'p.xx' (did you mean p.x?)");
    expect(() => loadExp({ 'q.y': 7 })).toThrow("-S q.y=7: unknown params key 'q.y' (did you mean p.y?)");
    expect(() => loadExp({ 'zz.y': 7 })).toThrow("-S zz.y=7: unknown params key 'zz.y' (did you mean p.y?)");
  });

  it('a value of the wrong type names -S key=value and what the schema expects', () => {
    setup();
    expect(() => loadExp({ 'p.y': 'fast' })).toThrow('-S p.y=fast: p.y: expected a number >= 0, got "fast"');
    expect(() => loadExp({ 'p.y': -1 })).toThrow('-S p.y=-1: p.y: expected a number >= 0, got -1');
  });
});

describe('planning experiments', () => {
  it('checks every point and writes nothing; --seeds needs a top-level seed key', () => {
    setup();
    const planned = planExperiments(ws.dir, { profile: 'default', sets: ['p.x=2,3', 'p.y=0'] });
    expect(planned.map((r) => [r.name, r.status, r.params['p.x']])).toEqual([
      ['x2-y0', 'queued', 2],
      ['x3-y0', 'queued', 3],
    ]);
    expect(fs.existsSync(path.join(ws.dir, '.pipeline/exps'))).toBe(false);
    // The second value of p.y is bad: nothing is planned.
    expect(() => planExperiments(ws.dir, { profile: 'default', sets: ['p.y=1,-1'] })).toThrow('-S p.y=-1: p.y: expected a number >= 0, got -1');
    expect(() => planExperiments(ws.dir, { profile: 'default', sets: ['p.x=1'], seeds: '1,2' })).toThrow("--seeds 1,2: params.yaml set no top-level 'seed' key for it to vary");
  });
});

describe('cores of an experiment', () => {
  it("counts the 'workers' params of the stages its overrides reach and their downstream only", () => {
    ws = workspace({
      'pipeline.yaml': `stages:
  feat:
    cmd: mkdir -p \${artifacts} && echo \${feat.n} > \${artifacts}/feat.txt
    params: [feat]
    outs: ["\${artifacts}/feat.txt"]
  train:
    cmd: cat \${artifacts}/feat.txt > \${artifacts}/model.txt
    deps: ["\${artifacts}/feat.txt"]
    params: [train.lr, train.workers]
    outs: ["\${artifacts}/model.txt"]
`,
      'params.yaml': 'feat:\n  n: 1\n  workers: auto\ntrain:\n  lr: 0.1\n  workers: 3\n',
    });
    const p = (o: Record<string, number>) => loadPipeline({ root: ws.dir, overrides: o });
    // train.lr reaches train only: feat (every core) is restored, not run.
    expect(reachedParams(p({ 'train.lr': 0.2 }), { 'train.lr': 0.2 })).toEqual({ 'train.lr': 0.2, 'train.workers': 3 });
    expect(experimentCores(reachedParams(p({ 'train.lr': 0.2 }), { 'train.lr': 0.2 }), 16)).toBe(3);
    // feat.n reaches feat and, downstream, train.
    expect(experimentCores(reachedParams(p({ 'feat.n': 2 }), { 'feat.n': 2 }), 16)).toBe(16);
    expect(reachedParams(p({}), {})).toEqual({});
  });
});
