// Pure core of the split stage: per-emotion stratified or speaker-independent membership.
import { createRng, EMOTIONS } from '@ser/stage-kit';

/** The labels a split needs, one per clip. */
export interface ClipLabels {
  id: string;
  actor: number;
  /** 0-7 (RAVDESS code - 1). */
  emotion: number;
}

export interface Fractions {
  train: number;
  val: number;
  test: number;
}

/** split.json: membership by id; each list sorted (code-unit order) for stable bytes. */
export interface SplitResult {
  by: 'random' | 'actor';
  seed: number;
  train: string[];
  val: string[];
  test: string[];
}

export type SplitName = 'train' | 'val' | 'test';
export const SPLITS: readonly SplitName[] = ['train', 'val', 'test'];
/** Emotion names by label: stage-kit's EMOTIONS, the one list. */
export const EMOTION_NAMES = EMOTIONS;

/** Thrown for inputs the user controls (params, data); the stage turns it into a UserError. */
export class SplitError extends Error {
  readonly userError = true;
}

const EPS = 1e-9;

/**
 * Sizes of train/val/test for `n` clips, as `np.split(perm, [int(f_train*n), int((f_train+f_val)*n)])`:
 * cut points are the floors of the cumulative fractions (a 1e-9 tolerance absorbs float error,
 * e.g. (0.7 + 0.2) * 10 = 8.999...), test takes the rest. 192 clips -> 153/19/20; 96 -> 76/10/10.
 */
export function splitCounts(n: number, f: Fractions): [number, number, number] {
  const a = Math.min(n, Math.floor(f.train * n + EPS));
  const b = Math.min(n, Math.floor((f.train + f.val) * n + EPS));
  return [a, b - a, n - b];
}

export function checkFractions(f: Fractions): void {
  const sum = f.train + f.val + f.test;
  if (Math.abs(sum - 1) > 1e-6) {
    throw new SplitError(`params: split.fractions must sum to 1, got ${f.train} + ${f.val} + ${f.test} = ${+sum.toFixed(9)}`);
  }
}

function checkIds(clips: readonly ClipLabels[]): void {
  const seen = new Set<string>();
  for (const c of clips) {
    if (seen.has(c.id)) throw new SplitError(`duplicate clip id "${c.id}"`);
    seen.add(c.id);
  }
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function result(by: SplitResult['by'], seed: number, lists: Record<SplitName, string[]>): SplitResult {
  const out = { by, seed, train: lists.train.sort(byCodeUnit), val: lists.val.sort(byCodeUnit), test: lists.test.sort(byCodeUnit) };
  if (out.train.length === 0) throw new SplitError('split: the train split is empty');
  return out;
}

/**
 * Per-emotion stratified split (paper III.B.2). For each emotion in ascending code order, its ids
 * are sorted (so the input row order does not matter), permuted by one seeded RNG stream
 * (Fisher-Yates, createRng(seed)), and cut by splitCounts: the first part is train, then val, then
 * test. (The paper uses np.random.permutation; our RNG is not NumPy's, so the same seed gives
 * other but equally random members.)
 */
export function stratifiedSplit(clips: readonly ClipLabels[], f: Fractions, seed: number): SplitResult {
  checkFractions(f);
  checkIds(clips);
  const rng = createRng(seed);
  const byEmotion = new Map<number, string[]>();
  for (const c of clips) {
    const list = byEmotion.get(c.emotion) ?? [];
    list.push(c.id);
    byEmotion.set(c.emotion, list);
  }
  const lists: Record<SplitName, string[]> = { train: [], val: [], test: [] };
  for (const emotion of [...byEmotion.keys()].sort((a, b) => a - b)) {
    const ids = rng.shuffle(byEmotion.get(emotion)!.sort(byCodeUnit));
    const [nTrain, nVal] = splitCounts(ids.length, f);
    lists.train.push(...ids.slice(0, nTrain));
    lists.val.push(...ids.slice(nTrain, nTrain + nVal));
    lists.test.push(...ids.slice(nTrain + nVal));
  }
  return result('random', seed, lists);
}

/**
 * Speaker-independent split: clips of `valActors` go to val, of `testActors` to test, all other
 * actors to train; no actor is in two splits. Listed actors must exist in the data and be disjoint.
 */
export function actorSplit(clips: readonly ClipLabels[], valActors: readonly number[], testActors: readonly number[], seed: number): SplitResult {
  checkIds(clips);
  const present = new Set(clips.map((c) => c.actor));
  for (const [key, list] of [
    ['split.val_actors', valActors],
    ['split.test_actors', testActors],
  ] as const) {
    if (list.length === 0) throw new SplitError(`params: ${key} must list at least one actor`);
    for (const a of list) {
      if (!present.has(a)) {
        throw new SplitError(`params: ${key} lists actor ${a}, who has no clips (actors in the data: ${[...present].sort((x, y) => x - y).join(', ')})`);
      }
    }
    if (new Set(list).size !== list.length) throw new SplitError(`params: ${key} lists an actor twice`);
  }
  const both = valActors.filter((a) => testActors.includes(a));
  if (both.length > 0) throw new SplitError(`params: actor ${both[0]} is in both split.val_actors and split.test_actors`);
  const lists: Record<SplitName, string[]> = { train: [], val: [], test: [] };
  for (const c of clips) {
    const s: SplitName = valActors.includes(c.actor) ? 'val' : testActors.includes(c.actor) ? 'test' : 'train';
    lists[s].push(c.id);
  }
  return result('actor', seed, lists);
}

/**
 * Speaker-independent k-fold groups: the actors present, split by gender (RAVDESS: odd actor =
 * male), each gender sorted and permuted with createRng(seed), then males followed by females
 * dealt round-robin into `k` folds, so folds differ in size by at most one actor per gender.
 * Fold `fold` is test, fold `(fold + 1) % k` is val, the rest train.
 */
export function actorFolds(actors: readonly number[], k: number, seed: number): number[][] {
  const uniq = [...new Set(actors)].sort((a, b) => a - b);
  if (!Number.isInteger(k) || k < 3) throw new SplitError(`params: split.folds must be 0 (use the listed actors) or an integer >= 3, got ${k}`);
  if (k > uniq.length) throw new SplitError(`params: split.folds is ${k}, but the data has only ${uniq.length} actors`);
  const rng = createRng(seed);
  const males = rng.shuffle(uniq.filter((a) => a % 2 === 1));
  const females = rng.shuffle(uniq.filter((a) => a % 2 === 0));
  const folds: number[][] = Array.from({ length: k }, () => []);
  [...males, ...females].forEach((a, i) => folds[i % k]!.push(a));
  return folds.map((f) => f.sort((a, b) => a - b));
}

/** Fold `fold` of `k` as (val actors, test actors) for actorSplit. */
export function foldActors(actors: readonly number[], k: number, fold: number, seed: number): { valActors: number[]; testActors: number[] } {
  if (!Number.isInteger(fold) || fold < 0 || fold >= k) throw new SplitError(`params: split.fold must be an integer in [0, ${k - 1}], got ${fold}`);
  const folds = actorFolds(actors, k, seed);
  return { valActors: folds[(fold + 1) % k]!, testActors: folds[fold]! };
}

/** Clip counts per split and emotion: rows = emotions present (ascending), for the log. */
export function sizeTable(clips: readonly ClipLabels[], s: SplitResult): { emotion: number; train: number; val: number; test: number }[] {
  const where = new Map<string, SplitName>();
  for (const name of SPLITS) for (const id of s[name]) where.set(id, name);
  const rows = new Map<number, { emotion: number; train: number; val: number; test: number }>();
  for (const c of clips) {
    const r = rows.get(c.emotion) ?? { emotion: c.emotion, train: 0, val: 0, test: 0 };
    const w = where.get(c.id);
    if (w) r[w]++;
    rows.set(c.emotion, r);
  }
  return [...rows.values()].sort((a, b) => a.emotion - b.emotion);
}

/** The size table as aligned text lines (with a total row). */
export function formatSizes(table: ReturnType<typeof sizeTable>): string[] {
  const lines = [`${'emotion'.padEnd(10)} ${'train'.padStart(6)} ${'val'.padStart(6)} ${'test'.padStart(6)}`];
  const tot = { train: 0, val: 0, test: 0 };
  for (const r of table) {
    const name = EMOTION_NAMES[r.emotion] ?? String(r.emotion);
    lines.push(`${name.padEnd(10)} ${String(r.train).padStart(6)} ${String(r.val).padStart(6)} ${String(r.test).padStart(6)}`);
    tot.train += r.train;
    tot.val += r.val;
    tot.test += r.test;
  }
  lines.push(`${'total'.padEnd(10)} ${String(tot.train).padStart(6)} ${String(tot.val).padStart(6)} ${String(tot.test).padStart(6)}`);
  return lines;
}
