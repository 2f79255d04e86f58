import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TensorFileWriter } from '@ser/tensor-io';
import { actorFolds, actorSplit, computeSplit, foldActors, runSplit, splitParamsFrom, sizeTable, splitCounts, stratifiedSplit, type ClipLabels, type SplitResult } from '../src/index.ts';

const root = resolve(__dirname, '../../..');
const bin = resolve(__dirname, '../bin/ser-split.mjs');
const dir = mkdtempSync(join(tmpdir(), 'split-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The RAVDESS speech corpus' labels: 24 actors x 60 clips; neutral has no strong intensity. */
function ravdessClips(): ClipLabels[] {
  const out: ClipLabels[] = [];
  const p2 = (n: number) => String(n).padStart(2, '0');
  for (let actor = 1; actor <= 24; actor++)
    for (let e = 1; e <= 8; e++)
      for (let intensity = 1; intensity <= (e === 1 ? 1 : 2); intensity++)
        for (let st = 1; st <= 2; st++)
          for (let rep = 1; rep <= 2; rep++) out.push({ id: `03-01-${p2(e)}-${p2(intensity)}-${p2(st)}-${p2(rep)}-${p2(actor)}`, actor, emotion: e - 1 });
  return out;
}
const clips = ravdessClips();
const paper = { train: 0.8, val: 0.1, test: 0.1 };

function expectPartition(s: SplitResult, all: ClipLabels[]) {
  const ids = [...s.train, ...s.val, ...s.test];
  expect(new Set(ids).size).toBe(ids.length); // disjoint
  expect([...ids].sort()).toEqual(all.map((c) => c.id).sort()); // complete
  for (const k of ['train', 'val', 'test'] as const) expect(s[k]).toEqual([...s[k]].sort());
}

describe('stratified split (paper)', () => {
  it('counts: floors of cumulative fractions, like np.split at int(0.8n), int(0.9n)', () => {
    expect(splitCounts(192, paper)).toEqual([153, 19, 20]);
    expect(splitCounts(96, paper)).toEqual([76, 10, 10]);
    expect(splitCounts(10, { train: 0.7, val: 0.2, test: 0.1 })).toEqual([7, 2, 1]); // 0.9*10 = 8.999...
    expect(splitCounts(0, paper)).toEqual([0, 0, 0]);
    expect(splitCounts(5, { train: 1, val: 0, test: 0 })).toEqual([5, 0, 0]);
  });

  it('on the RAVDESS label set: per-emotion 153/19/20 (neutral 76/10/10), totals 1147/143/150, disjoint', () => {
    expect(clips.length).toBe(1440);
    const s = stratifiedSplit(clips, paper, 42);
    expectPartition(s, clips);
    const t = sizeTable(clips, s);
    expect(t[0]).toEqual({ emotion: 0, train: 76, val: 10, test: 10 });
    for (const r of t.slice(1)) expect([r.train, r.val, r.test]).toEqual([153, 19, 20]);
    expect([s.train.length, s.val.length, s.test.length]).toEqual([1147, 143, 150]);
  });

  it('is deterministic per seed, independent of input order, and different for another seed', () => {
    const a = stratifiedSplit(clips, paper, 42);
    const shuffled = [...clips].reverse();
    expect(stratifiedSplit(shuffled, paper, 42)).toEqual(a);
    const b = stratifiedSplit(clips, paper, 43);
    expect(b.test).not.toEqual(a.test);
    expectPartition(b, clips);
  });

  it('rejects bad fractions and duplicate ids', () => {
    expect(() => stratifiedSplit(clips, { train: 0.8, val: 0.1, test: 0.2 }, 1)).toThrow('params: split.fractions must sum to 1, got 0.8 + 0.1 + 0.2 = 1.1');
    expect(() => stratifiedSplit([...clips, clips[0]!], paper, 1)).toThrow(`duplicate clip id "${clips[0]!.id}"`);
  });
});

describe('speaker-independent split', () => {
  it('puts listed actors in val/test, the rest in train; no actor in two splits', () => {
    const s = actorSplit(clips, [21, 22], [23, 24], 42);
    expectPartition(s, clips);
    const actorOf = new Map(clips.map((c) => [c.id, c.actor]));
    const actors = (ids: string[]) => new Set(ids.map((id) => actorOf.get(id)!));
    const [tr, va, te] = [actors(s.train), actors(s.val), actors(s.test)];
    expect([...va].sort()).toEqual([21, 22]);
    expect([...te].sort()).toEqual([23, 24]);
    expect(tr.size).toBe(20);
    for (const a of tr) expect(va.has(a) || te.has(a)).toBe(false);
    expect([s.train.length, s.val.length, s.test.length]).toEqual([1200, 120, 120]);
    expect(s.by).toBe('actor');
  });

  it('rejects unknown, duplicate and overlapping actors, naming the param', () => {
    expect(() => actorSplit(clips, [21, 25], [23], 1)).toThrow(/^params: split\.val_actors lists actor 25, who has no clips/);
    expect(() => actorSplit(clips, [21], [21, 23], 1)).toThrow('params: actor 21 is in both split.val_actors and split.test_actors');
    expect(() => actorSplit(clips, [], [23], 1)).toThrow('params: split.val_actors must list at least one actor');
    expect(() => actorSplit(clips, [2, 2], [23], 1)).toThrow('params: split.val_actors lists an actor twice');
  });
});

describe('speaker-independent k folds', () => {
  const actors = clips.map((c) => c.actor);
  it('partitions the actors into k gender-balanced folds; each fold is test once, no actor in two splits', () => {
    const folds = actorFolds(actors, 6, 42);
    expect(folds.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    for (const f of folds) {
      expect(f.length).toBe(4);
      expect(f.filter((a) => a % 2 === 1).length).toBe(2); // 2 male, 2 female
    }
    expect(actorFolds(actors, 6, 42)).toEqual(folds);
    expect(actorFolds(actors, 6, 43)).not.toEqual(folds);
    const tested = new Set<number>();
    for (let fold = 0; fold < 6; fold++) {
      const p = splitParamsFrom({ split: { by: 'actor', seed: 42, folds: 6, fold } });
      const s = computeSplit(clips, p);
      const actorOf = new Map(clips.map((c) => [c.id, c.actor]));
      const sets = (['train', 'val', 'test'] as const).map((k) => new Set(s[k].map((id) => actorOf.get(id)!)));
      expect(sets[0]!.size + sets[1]!.size + sets[2]!.size).toBe(24);
      for (const a of sets[2]!) tested.add(a);
      expect([...sets[2]!].sort((a, b) => a - b)).toEqual(folds[fold]);
      expect([...sets[1]!].sort((a, b) => a - b)).toEqual(folds[(fold + 1) % 6]);
    }
    expect(tested.size).toBe(24);
  });
  it('k = 5 folds differ in size by at most one actor', () => {
    const sizes = actorFolds(actors, 5, 1).map((f) => f.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });
  it('bad folds/fold name the param', () => {
    expect(() => splitParamsFrom({ split: { by: 'actor', seed: 1, folds: 2, fold: 0 } })).toThrow('params: split.folds must be 0 (use the listed actors) or an integer >= 3, got 2');
    expect(() => splitParamsFrom({ split: { by: 'actor', seed: 1, folds: 4, fold: 4 } })).toThrow('params: split.fold must be an integer in [0, 3], got 4');
    expect(() => foldActors(actors, 30, 0, 1)).toThrow('params: split.folds is 30, but the data has only 24 actors');
    // folds: 0 (or absent) uses the listed actors
    expect(splitParamsFrom({ split: { by: 'actor', seed: 1, folds: 0, val_actors: [1], test_actors: [2] } })).toEqual({ by: 'actor', seed: 1, valActors: [1], testActors: [2] });
  });
});

describe('stage', () => {
  const segments = join(dir, 'segments.arrow');
  beforeAll(async () => {
    const w = await TensorFileWriter.open(segments, {
      columns: [
        { name: 'id', type: 'utf8' },
        { name: 'actor', type: 'int32' },
        { name: 'emotion', type: 'int32' },
      ],
      shape: [2],
      metadata: { sample_rate: '1' },
    });
    for (const c of clips) await w.write({ labels: { ...c }, tensor: new Float32Array(2) });
    await w.close();
  });
  const params = { split: { by: 'random', fractions: paper, seed: 42, val_actors: [21, 22], test_actors: [23, 24] } };

  it('writes split.json {by, seed, train, val, test}, byte-identical across runs', async () => {
    const a = join(dir, 'a', 'split.json');
    const b = join(dir, 'b', 'split.json');
    const s = await runSplit({ inputs: { in: segments }, outputs: { out: a }, params });
    await runSplit({ inputs: { in: segments }, outputs: { out: b }, params });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    const j = JSON.parse(readFileSync(a, 'utf8'));
    expect(Object.keys(j)).toEqual(['by', 'seed', 'train', 'val', 'test']);
    expect(j).toEqual(s);
    const actor = await runSplit({ inputs: { in: segments }, outputs: { out: join(dir, 'c', 'split.json') }, params: { split: { ...params.split, by: 'actor' } } });
    expect(actor.test.length).toBe(120);
  });

  it('CLI: prints the size table; bad params give one line naming the key and no output', () => {
    const ok = spawnSync(process.execPath, [bin, '--in', segments, '--out', join(dir, 'cli', 'split.json')], {
      cwd: root,
      env: { ...process.env, PIPELINE_PARAMS: JSON.stringify(params) },
      encoding: 'utf8',
    });
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/neutral\s+76\s+10\s+10/);
    expect(ok.stdout).toMatch(/total\s+1147\s+143\s+150/);
    const out = join(dir, 'bad', 'split.json');
    const bad = spawnSync(process.execPath, [bin, '--in', segments, '--out', out], {
      cwd: root,
      env: { ...process.env, PIPELINE_PARAMS: JSON.stringify({ split: { ...params.split, fractions: { train: 'abc', val: 0.1, test: 0.1 } } }) },
      encoding: 'utf8',
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('error: params: split.fractions.train must be a number in [0, 1], got "abc"\n');
    expect(existsSync(out)).toBe(false);
  });

  it('missing label column names the file', async () => {
    const f = join(dir, 'nolabels.arrow');
    const w = await TensorFileWriter.open(f, { columns: [{ name: 'id', type: 'utf8' }], shape: [1] });
    await w.close();
    await expect(runSplit({ inputs: { in: f }, outputs: { out: join(dir, 'x.json') }, params })).rejects.toThrow(`${f}: missing column "actor"`);
  });
});
