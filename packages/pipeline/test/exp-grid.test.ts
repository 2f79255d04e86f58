// exp run's inputs (-S, --seeds, names), cores and exp show's rows: pure functions.
import { describe, expect, it } from 'vitest';
import { checkGridSize, expandGrid, gridAxes, gridSize, parseOverride, parseSeeds, pointNames } from '../src/exp-grid.ts';
import { experimentCores, reservedCores } from '../src/exp.ts';
import { formatShow, sampleStd, showRows } from '../src/exp-show.ts';
import type { ExpRecord } from '../src/exp-store.ts';

describe('-S and --seeds', () => {
  it('values are YAML scalars or flow collections; commas split values outside brackets', () => {
    expect(parseOverride('train.lr=0.01')).toEqual({ key: 'train.lr', values: [0.01] });
    expect(parseOverride('train.schedule=cosine')).toEqual({ key: 'train.schedule', values: ['cosine'] });
    expect(parseOverride('model.channels=[8,16]')).toEqual({ key: 'model.channels', values: [[8, 16]] });
    expect(parseOverride('model.channels=[8,16],[4,8]')).toEqual({ key: 'model.channels', values: [[8, 16], [4, 8]] });
    expect(parseOverride('train.lr=0.001,0.003,0.01').values).toEqual([0.001, 0.003, 0.01]);
    expect(parseOverride('train.spec_augment=null').values).toEqual([null]);
    expect(parseOverride('data.name="a,b"').values).toEqual(['a,b']);
  });

  it('bad -S arguments name themselves', () => {
    expect(() => parseOverride('train.lr')).toThrow('-S train.lr: expected key=value');
    expect(() => parseOverride('train..lr=1')).toThrow("'train..lr' is not a dotted params key");
    expect(() => parseOverride('train.lr=0.1,')).toThrow('-S train.lr=0.1,: empty value in the list');
    expect(() => parseOverride('model.channels=[8,16')).toThrow('unbalanced brackets');
    expect(() => gridAxes(['train.lr=1', 'train.lr=2'], undefined)).toThrow('-S train.lr is given twice');
    expect(() => gridAxes(['seed=1'], [1, 2])).toThrow("-S seed=... and --seeds both set 'seed'");
  });

  it('--seeds takes a list, a range or both', () => {
    expect(parseSeeds('1,2,3')).toEqual([1, 2, 3]);
    expect(parseSeeds('1-3')).toEqual([1, 2, 3]);
    expect(parseSeeds('1-3,7')).toEqual([1, 2, 3, 7]);
    expect(() => parseSeeds('3-1')).toThrow('ends before it starts');
    expect(() => parseSeeds('a')).toThrow("'a' is not a seed or a range");
    expect(() => parseSeeds('1,1')).toThrow('seed 1 is listed twice');
  });

  it('the grid is the cartesian product, seeds varying fastest; over 1000 points needs --yes', () => {
    const axes = gridAxes(['train.lr=0.001,0.003,0.01', 'model.dropout=0.2,0.4'], undefined);
    const points = expandGrid(axes);
    expect(points).toHaveLength(6);
    expect(points[0]).toEqual({ 'train.lr': 0.001, 'model.dropout': 0.2 });
    expect(points[1]).toEqual({ 'train.lr': 0.001, 'model.dropout': 0.4 });
    expect(new Set(points.map((p) => JSON.stringify(p))).size).toBe(6);
    const seeded = expandGrid(gridAxes(['train.lr=0.02,0.05'], [1, 2]));
    expect(seeded).toEqual([
      { 'train.lr': 0.02, seed: 1 },
      { 'train.lr': 0.02, seed: 2 },
      { 'train.lr': 0.05, seed: 1 },
      { 'train.lr': 0.05, seed: 2 },
    ]);
    const big = gridAxes(['a=' + Array.from({ length: 11 }, (_, i) => i).join(','), 'b=' + Array.from({ length: 10 }, (_, i) => i).join(',')], parseSeeds('1-10'));
    expect(gridSize(big)).toBe(1100);
    expect(() => checkGridSize(big, false)).toThrow('the grid has 1100 points (a (11) x b (10) x seed (10)), more than 1000; pass --yes');
    expect(() => checkGridSize(big, true)).not.toThrow();
  });

  it('names: --name N, N-1..N-k for a grid; else read from the overrides', () => {
    const pts = expandGrid(gridAxes(['train.lr=0.02,0.05'], [1, 2]));
    expect(pointNames(pts, 'demo')).toEqual(['demo-lr0.02-s1', 'demo-lr0.02-s2', 'demo-lr0.05-s1', 'demo-lr0.05-s2']);
    expect(pointNames(pts, 'default', 'sweep')).toEqual(['sweep-1', 'sweep-2', 'sweep-3', 'sweep-4']);
    expect(pointNames([{ 'train.lr': 0.1 }], 'default', 'one')).toEqual(['one']);
    expect(pointNames([{ 'model.channels': [8, 16] }], 'default')).toEqual(['channels8x16']);
    // The same last key part in two sections: the full keys tell them apart.
    expect(pointNames([{ 'split.seed': 1, 'augment.seed': 2 }], 'default')).toEqual(['split_seed1-augment_seed2']);
    expect(pointNames([{}], 'demo')[0]).toMatch(/^demo-exp-[0-9a-f]{7}$/);
    expect(() => pointNames(pts, 'default', 'bad name')).toThrow('--name bad name');
  });
});

describe('cores', () => {
  it("an experiment counts as its largest params 'workers' (auto = every core), at least 1, at most the queue's", () => {
    expect(experimentCores({ 'train.lr': 0.1 }, 16)).toBe(1);
    expect(experimentCores({ 'train.workers': 3 }, 16)).toBe(3);
    expect(experimentCores({ 'train.workers': 'auto' }, 16)).toBe(16);
    expect(experimentCores({ 'train.workers': null }, 16)).toBe(1);
    expect(reservedCores({ cores: 16 } as ExpRecord, 2)).toBe(2);
    expect(reservedCores({ cores: 1 } as ExpRecord, 2)).toBe(1);
  });
});

function rec(name: string, params: Record<string, number | string>, accuracy: number | undefined, status: ExpRecord['status'] = 'done'): ExpRecord {
  const ws = `.pipeline/exps/${name}`;
  return {
    name,
    status,
    profile: 'demo',
    baseCommit: null,
    overrides: {},
    // data.dir names the experiment's own folder: the same param once written portably.
    params: { 'data.dir': `${ws}/artifacts/generate/corpus`, 'train.epochs': 3, ...params },
    metrics: accuracy === undefined ? {} : { '${artifacts}/evaluate/metrics.json': { accuracy, per_emotion: { happy: { f1: accuracy / 2 } } }, '${artifacts}/train/metrics.json': { accuracy: accuracy + 0.1, epochs: 3 } },
    workspace: ws,
    artifacts: `${ws}/artifacts`,
    lockFile: `${ws}/pipeline.lock`,
    createdAt: '2026-01-01T00:00:00.000Z',
    durationS: 10,
  };
}

describe('exp show rows', () => {
  const recs = [rec('a-s1', { 'train.lr': 0.02, seed: 1 }, 0.5), rec('a-s2', { 'train.lr': 0.02, seed: 2 }, 0.6), rec('b-s1', { 'train.lr': 0.05, seed: 1 }, 0.7), rec('b-s2', { 'train.lr': 0.05, seed: 2 }, 0.9)];

  it('params and metrics columns are those that differ (paths under each experiment read alike); a metric key in two files is prefixed', () => {
    const { paramKeys, metricKeys, rows } = showRows(recs, {});
    expect(paramKeys).toEqual(['train.lr', 'seed']);
    // epochs is 3 everywhere: left out unless asked for.
    expect(metricKeys).toEqual(['evaluate:accuracy', 'train:accuracy']);
    expect(showRows(recs, { keys: ['epochs', 'evaluate:accuracy'] }).metricKeys).toEqual(['accuracy', 'epochs']);
    expect(rows[0]!.metrics['evaluate:accuracy']).toEqual([0.5]);
    expect(showRows(recs, { keys: ['per_emotion.happy.f1'] }).metricKeys).toEqual(['per_emotion.happy.f1']);
  });

  it('a metric that echoes a param (evaluate writes `seed`) is not a metrics column unless asked for', () => {
    const echo = recs.map((r) => ({ ...r, metrics: { ...r.metrics, '${artifacts}/evaluate/metrics.json': { ...(r.metrics['${artifacts}/evaluate/metrics.json'] as object), seed: r.params.seed ?? null } } }));
    expect(showRows(echo, {}).metricKeys).toEqual(['evaluate:accuracy', 'train:accuracy']);
    expect(showRows(echo, { keys: ['seed'] }).metricKeys).toEqual(['seed']);
  });

  it('--group seeds: one row per point, mean ± sample std (n - 1); --sort-by sorts highest first', () => {
    const { rows, paramKeys } = showRows(recs, { groupSeeds: true, sortBy: 'evaluate:accuracy' });
    expect(paramKeys).toEqual(['train.lr']);
    expect(rows.map((r) => [r.name, r.n, r.params['train.lr']])).toEqual([
      ['b', 2, 0.05],
      ['a', 2, 0.02],
    ]);
    expect(sampleStd([0.7, 0.9])).toBeCloseTo(0.141421, 5);
    const text = formatShow(recs, { format: 'text', groupSeeds: true, sortBy: 'evaluate:accuracy' });
    expect(text.split('\n')[0]).toMatch(/^name\s+status\s+n\s+train\.lr\s+evaluate:accuracy\s+train:accuracy\s+duration$/);
    expect(text).toContain('0.8 ± 0.1414');
    expect(text).toContain('0.55 ± 0.0707');
    const json = JSON.parse(formatShow(recs, { format: 'json', groupSeeds: true }));
    expect(json[0].metrics['evaluate:accuracy']).toEqual({ mean: 0.55, std: expect.closeTo(0.0707107, 6), n: 2 });
    expect(() => showRows(recs, { sortBy: 'accuracy' })).toThrow('--sort-by accuracy: ambiguous, say which: evaluate:accuracy, train:accuracy');
    expect(() => showRows(recs, { sortBy: 'nope' })).toThrow('--sort-by nope: no such metric column');
  });

  it('csv and md tables', () => {
    const two = recs.slice(0, 2);
    expect(formatShow(two, { format: 'csv', keys: ['evaluate:accuracy'] })).toBe('name,status,seed,accuracy,duration\na-s1,done,1,0.5,10.0 s\na-s2,done,2,0.6,10.0 s');
    expect(formatShow(two, { format: 'md', keys: ['evaluate:accuracy'] }).split('\n')[1]).toBe('| --- | --- | --- | --- | --- |');
  });
});
