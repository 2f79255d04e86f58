// Split stage edge: params, segments labels in, split.json out.
import { arr, getParam, nullable, num, stageLog, str, UserError, writeJsonAtomic, type Params, type StageArgs } from '@ser/stage-kit';
import { readTensorLabels } from '@ser/tensor-io';
import { actorSplit, foldActors, formatSizes, sizeTable, SplitError, stratifiedSplit, type ClipLabels, type SplitResult } from './core.ts';

export type SplitParams =
  | { by: 'random'; seed: number; fractions: { train: number; val: number; test: number } }
  | { by: 'actor'; seed: number; valActors: number[]; testActors: number[] }
  | { by: 'actor'; seed: number; folds: number; fold: number };

/** Reads and checks the split params (only those the chosen mode uses). */
export function splitParamsFrom(params: Params): SplitParams {
  const by = getParam(params, 'split.by', str({ oneOf: ['random', 'actor'] })) as 'random' | 'actor';
  const seed = getParam(params, 'split.seed', num({ integer: true, min: 0 }));
  if (by === 'random') {
    const frac = (k: string) => getParam(params, `split.fractions.${k}`, num({ min: 0, max: 1 }));
    return { by, seed, fractions: { train: frac('train'), val: frac('val'), test: frac('test') } };
  }
  const folds = getParam(params, 'split.folds', nullable(num({ integer: true, min: 0 }))) ?? 0;
  if (folds > 0) {
    if (folds < 3) throw new UserError(`params: split.folds must be 0 (use the listed actors) or an integer >= 3, got ${folds}`);
    return { by, seed, folds, fold: getParam(params, 'split.fold', num({ integer: true, min: 0, max: folds - 1 })) };
  }
  const actors = arr(num({ integer: true, min: 1 }));
  return { by, seed, valActors: getParam(params, 'split.val_actors', actors), testActors: getParam(params, 'split.test_actors', actors) };
}

/** The split for these clips and params (pure; SplitError -> UserError naming the input). */
export function computeSplit(clips: readonly ClipLabels[], p: SplitParams): SplitResult {
  if (p.by === 'random') return stratifiedSplit(clips, p.fractions, p.seed);
  if ('folds' in p) {
    const { valActors, testActors } = foldActors(clips.map((c) => c.actor), p.folds, p.fold, p.seed);
    return actorSplit(clips, valActors, testActors, p.seed);
  }
  return actorSplit(clips, p.valActors, p.testActors, p.seed);
}

/** Reads `inputs.in` (segments, labels only), writes `outputs.out` (split.json). */
export async function runSplit(a: StageArgs<'in', 'out'>): Promise<SplitResult> {
  const { in: inPath } = a.inputs;
  const { out: outPath } = a.outputs;
  const log = stageLog(a);
  const p = splitParamsFrom(a.params);
  const { count, labels } = await readTensorLabels(inPath, { columns: ['id', 'actor', 'emotion'] });
  const clips: ClipLabels[] = [];
  for (let i = 0; i < count; i++) {
    clips.push({ id: String(labels.id![i]), actor: Number(labels.actor![i]), emotion: Number(labels.emotion![i]) });
  }
  let s: SplitResult;
  try {
    s = computeSplit(clips, p);
  } catch (e) {
    if (e instanceof SplitError) throw new UserError(e.message.startsWith('params:') ? e.message : `${inPath}: ${e.message}`);
    throw e;
  }
  if (p.by === 'random') {
    log(`split: per-emotion stratified, fractions ${p.fractions.train}/${p.fractions.val}/${p.fractions.test}, seed ${p.seed}`);
  } else {
    const actorOf = new Map(clips.map((c) => [c.id, c.actor]));
    const actorsOf = (ids: string[]) => [...new Set(ids.map((id) => actorOf.get(id)!))].sort((a, b) => a - b);
    const fold = 'folds' in p ? ` (fold ${p.fold} of ${p.folds}, seed ${p.seed})` : '';
    log(`split: speaker-independent${fold}, val actors [${actorsOf(s.val).join(', ')}], test actors [${actorsOf(s.test).join(', ')}]`);
  }
  for (const line of formatSizes(sizeTable(clips, s))) log(line);
  await writeJsonAtomic(outPath, s);
  return s;
}
