// `ser-pipeline exp ...` end to end on a two-stage fixture: isolation, what re-runs, grids and
// seeds, errors before anything runs, the queue, apply, remove and gc.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, collect, count, workspace, type Ws } from './helpers.ts';
import type { ExpRecord } from '../src/exp-store.ts';

let ws: Ws;
afterEach(() => cleanup(ws));

// prep reads prep.scale; train reads train.* and seed and writes metrics from them
// (accuracy = 0.5 + lr * seed / 10), after sleeping train.delay seconds.
const PIPELINE = `stages:
  prep:
    cmd: ${count('prep')}; mkdir -p \${artifacts}/prep && echo "scale=\${prep.scale}" > \${artifacts}/prep/data.txt
    params: [prep.scale]
    outs: ["\${artifacts}/prep/data.txt"]
  train:
    cmd: >-
      ${count('train')}; sleep \${train.delay}; mkdir -p \${artifacts}/train &&
      node -e "const p=JSON.parse(process.env.PIPELINE_PARAMS); const a=Math.round((0.5+p.train.lr*p.seed/10)*1e6)/1e6;
      require('fs').writeFileSync('\${artifacts}/train/metrics.json', JSON.stringify({accuracy: a, loss: 1 - a, macro: {f1: a / 2}}))"
    deps: ["\${artifacts}/prep/data.txt"]
    params: [train, seed]
    metrics: ["\${artifacts}/train/metrics.json"]
`;
const PARAMS = `# fixture params
seed: 1
prep:
  scale: 2      # input scale
train:
  lr: 0.01      # learning rate
  delay: 0
  workers: 1
`;
const SCHEMA = JSON.stringify({
  type: 'object',
  additionalProperties: false,
  properties: {
    seed: { type: 'integer', minimum: 0 },
    prep: { type: 'object', properties: { scale: { type: 'number' } } },
    train: {
      type: 'object',
      additionalProperties: false,
      properties: { lr: { type: 'number', minimum: 0 }, delay: { type: 'number' }, workers: { anyOf: [{ enum: ['auto', null] }, { type: 'integer', minimum: 1 }] } },
    },
  },
});

/** The fixture after one `repro` (prep and train ran once). */
async function setup(): Promise<Ws> {
  ws = workspace({ 'pipeline.yaml': PIPELINE, 'params.yaml': PARAMS, 'params.schema.json': SCHEMA });
  const r = await cli('repro');
  expect(r.code, r.err).toBe(0);
  return ws;
}

/** The CLI in the fixture, without blocking the test runner's event loop. */
const cli = (...args: string[]) => collect(ws.spawnCli(...args));
const record = (name: string): ExpRecord => JSON.parse(ws.read(`.pipeline/exps/${name}/exp.json`));
const ok = (r: { code: number; out: string; err: string }) => {
  expect(r.code, r.out + r.err).toBe(0);
  return r;
};

/** Every file of the user's workspace outside .pipeline, with its text. */
function userFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(ws.dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (r === '.pipeline') continue;
      if (e.isDirectory()) walk(r);
      else out[r] = ws.read(r);
    }
  };
  walk('');
  return out;
}

describe('exp run', () => {
  it("runs in its own folder, leaves the user's params, lock and artifacts alone, and re-runs only the stages the override reaches", async () => {
    await setup();
    const before = userFiles();
    const r = ok(await cli('exp', 'run', '-S', 'train.lr=0.02', '--name', 'e1'));
    expect(r.out).toContain('prep: restored from run-cache without running');
    expect(userFiles()).toEqual(before);
    expect([ws.runs('prep'), ws.runs('train')]).toEqual([1, 2]);
    const e = record('e1');
    expect(e).toMatchObject({
      name: 'e1',
      status: 'done',
      profile: 'default',
      overrides: { 'train.lr': 0.02 },
      workspace: '.pipeline/exps/e1',
      artifacts: '.pipeline/exps/e1/artifacts',
      lockFile: '.pipeline/exps/e1/pipeline.lock',
      outcomes: { prep: 'run-cache', train: 'ran' },
      metrics: { '${artifacts}/train/metrics.json': { accuracy: 0.502, loss: 0.498, macro: { f1: 0.251 } } },
    });
    expect(e.params).toEqual({ seed: 1, 'prep.scale': 2, 'train.lr': 0.02, 'train.delay': 0, 'train.workers': 1 });
    expect(e.durationS).toBeGreaterThan(0);
    expect(ws.read('.pipeline/exps/e1/pipeline.lock')).toContain('.pipeline/exps/e1/artifacts/train/metrics.json');
    // The same name again is refused; --force replaces it (now restored from the run-cache).
    expect((await cli('exp', 'run', '-S', 'train.lr=0.02', '--name', 'e1')).err).toContain('experiment(s) e1 already exist; pass --force');
    ok(await cli('exp', 'run', '-S', 'train.lr=0.02', '--name', 'e1', '--force'));
    expect(record('e1').outcomes).toEqual({ prep: 'run-cache', train: 'run-cache' });
    expect(ws.runs('train')).toBe(2);
  });

  it('bad input stops before anything runs or is written: unknown key (nearest suggested), wrong type, a grid over 1000 without --yes', async () => {
    await setup();
    const unknown = await cli('exp', 'run', '-S', 'train.lrr=0.1');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain("-S train.lrr=0.1: unknown params key 'train.lrr' (did you mean train.lr?)");
    const type = await cli('exp', 'run', '-S', 'train.lr=0.1,fast');
    expect(type.err).toContain('-S train.lr=fast: train.lr: expected a number >= 0, got "fast"');
    const lrs = Array.from({ length: 11 }, (_, i) => i / 100).join(',');
    const scales = Array.from({ length: 10 }, (_, i) => i + 1).join(',');
    const big = await cli('exp', 'run', '-S', `train.lr=${lrs}`, '-S', `prep.scale=${scales}`, '--seeds', '1-10');
    expect(big.err).toContain('the grid has 1100 points (train.lr (11) x prep.scale (10) x seed (10)), more than 1000; pass --yes');
    expect(ws.exists('.pipeline/exps')).toBe(false);
    expect([ws.runs('prep'), ws.runs('train')]).toEqual([1, 1]);
  });

  it('a grid with seeds runs every point; exp show --group seeds gives mean ± std per point', async () => {
    await setup();
    const r = ok(await cli('exp', 'run', '-S', 'train.lr=0.02,0.05', '--seeds', '1,2'));
    expect(r.out).toContain('4 experiment(s): lr0.02-s1, lr0.02-s2, lr0.05-s1, lr0.05-s2');
    expect(r.out).toContain('exp run: 4 of 4 experiment(s) done');
    expect(ws.runs('prep')).toBe(1);
    expect(record('lr0.05-s2').metrics['${artifacts}/train/metrics.json']).toMatchObject({ accuracy: 0.51 });
    const flat = ok(await cli('exp', 'show', '--sort-by', 'accuracy'));
    expect(flat.out.split('\n')[1]).toMatch(/^name\s+status\s+seed\s+train\.lr\s+accuracy\s+loss\s+duration$/);
    expect(flat.out.split('\n')[2]).toMatch(/^lr0\.05-s2\s+done\s+2\s+0\.05\s+0\.51\s+0\.49\s+[\d.]+ s$/);
    const grouped = ok(await cli('exp', 'show', '--group', 'seeds', '--sort-by', 'accuracy'));
    const lines = grouped.out.trim().split('\n');
    expect(lines).toHaveLength(4); // title, header, 2 points
    // lr 0.05: accuracy 0.505, 0.51 -> 0.5075 ± 0.0035; lr 0.02: 0.502, 0.504 -> 0.503 ± 0.0014
    expect(lines[2]).toMatch(/^lr0\.05\s+done\s+2\s+0\.05\s+0\.5075 ± 0\.0035\s+0\.4925 ± 0\.0035/);
    expect(lines[3]).toMatch(/^lr0\.02\s+done\s+2\s+0\.02\s+0\.503 ± 0\.0014\s+0\.497 ± 0\.0014/);
    const json = JSON.parse(ok(await cli('exp', 'show', '--group', 'seeds', '--json', '--keys', 'macro.f1')).out);
    expect(json.map((g: { name: string; n: number }) => [g.name, g.n])).toEqual([['lr0.02', 2], ['lr0.05', 2]]);
    expect(json[1].metrics['macro.f1'].mean).toBeCloseTo(0.25375, 6);
  });
});

describe('exp queue', () => {
  it('--queue only enqueues; queue start -j 2 runs two at once, each in its own process', async () => {
    await setup();
    ok(await cli('exp', 'run', '-S', 'train.lr=0.1,0.2,0.3', '-S', 'train.delay=1', '--name', 'q', '--queue'));
    expect(ws.runs('train')).toBe(1);
    expect(record('q-1').status).toBe('queued');
    const waiting = ok(await cli('exp', 'queue', 'status')).out;
    expect(waiting).toContain('0 running, 3 queued');
    expect(waiting).toMatch(/queued\s+q-1\s+1 core\(s\)\s+-S train\.lr=0\.1 -S train\.delay=1/);
    const r = ok(await cli('exp', 'queue', 'start', '-j', '2'));
    expect(r.out).toContain("up to 2 core(s) at a time; an experiment takes min(2, max(1, its params 'workers' value");
    expect(r.out).toMatch(/started q-1 \(pid \d+, 1 core\(s\)\)/);
    const recs = ['q-1', 'q-2', 'q-3'].map(record);
    expect(recs.map((x) => x.status)).toEqual(['done', 'done', 'done']);
    // Each ran in its own process, q-1 and q-2 at the same time, q-3 after one of them.
    expect(new Set(recs.map((x) => x.worker)).size).toBe(3);
    const span = (x: ExpRecord) => [Date.parse(x.startedAt!), Date.parse(x.finishedAt!)] as const;
    const [a, b, c] = recs.map(span) as [readonly [number, number], readonly [number, number], readonly [number, number]];
    expect(Math.max(a[0], b[0])).toBeLessThan(Math.min(a[1], b[1]));
    expect(c[0]).toBeGreaterThanOrEqual(Math.min(a[1], b[1]));
    expect(ws.read('.pipeline/exps/q-1/log.txt')).toContain('exp q-1: done');
    expect(ok(await cli('exp', 'queue', 'status')).out).toContain('0 running, 0 queued');
  });
});

describe('exp apply, exp remove, gc', () => {
  it("apply writes the overrides into params.yaml keeping comments and layout; remove drops the folder; gc keeps an experiment's outs until then", async () => {
    await setup();
    ok(await cli('exp', 'run', '-S', 'train.lr=0.07', '-S', 'train.workers=auto', '--name', 'best'));
    const applied = ok(await cli('exp', 'apply', 'best'));
    expect(applied.out).toContain('params.yaml: train.lr: 0.01 -> 0.07');
    expect(applied.out).toContain('params.yaml: train.workers: 1 -> auto');
    expect(ws.read('params.yaml')).toBe(PARAMS.replace('lr: 0.01      # learning rate', 'lr: 0.07      # learning rate').replace('workers: 1', 'workers: auto'));
    expect((await cli('exp', 'apply', 'bset')).err).toContain("experiment 'bset' not found (did you mean best?)");

    // The experiment's metrics object is referenced by its lock only.
    const md5 = /path: \.pipeline\/exps\/best\/artifacts\/train\/metrics\.json\n\s+md5: ([0-9a-f]{32})/.exec(ws.read('.pipeline/exps/best/pipeline.lock'))![1]!;
    const object = `.pipeline/cache/${md5.slice(0, 2)}/${md5.slice(2)}`;
    ok(await cli('gc', '--workspace', '--force'));
    expect(ws.exists(object)).toBe(true);
    const removed = ok(await cli('exp', 'remove', 'best'));
    expect(removed.out).toContain('removed 1 experiment(s): best');
    expect(ws.exists('.pipeline/exps/best')).toBe(false);
    ok(await cli('gc', '--workspace', '--force'));
    expect(ws.exists(object)).toBe(false);
  });
});
