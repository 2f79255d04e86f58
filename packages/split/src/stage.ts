// Split stage edge: params, segments labels in, split.json out.
import { arr, getParam, log, num, str, UserError, writeJsonAtomic, type Params } from '@ser/stage-kit';
import { readTensorLabels } from '@ser/tensor-io';
import { actorSplit, formatSizes, sizeTable, SplitError, stratifiedSplit, type ClipLabels, type SplitResult } from './core.ts';

export type SplitParams =
  | { by: 'random'; seed: number; fractions: { train: number; val: number; test: number } }
  | { by: 'actor'; seed: number; valActors: number[]; testActors: number[] };

/** Reads and checks the split params (only those the chosen mode uses). */
export function splitParamsFrom(params: Params): SplitParams {
  const by = getParam(params, 'split.by', str({ oneOf: ['random', 'actor'] })) as 'random' | 'actor';
  const seed = getParam(params, 'split.seed', num({ integer: true, min: 0 }));
  if (by === 'random') {
    const frac = (k: string) => getParam(params, `split.fractions.${k}`, num({ min: 0, max: 1 }));
    return { by, seed, fractions: { train: frac('train'), val: frac('val'), test: frac('test') } };
  }
  const actors = arr(num({ integer: true, min: 1 }));
  return { by, seed, valActors: getParam(params, 'split.val_actors', actors), testActors: getParam(params, 'split.test_actors', actors) };
}

/** The split for these clips and params (pure; SplitError -> UserError naming the input). */
export function computeSplit(clips: readonly ClipLabels[], p: SplitParams): SplitResult {
  return p.by === 'random' ? stratifiedSplit(clips, p.fractions, p.seed) : actorSplit(clips, p.valActors, p.testActors, p.seed);
}

/** Reads `inPath` (labels only), writes `outPath` (split.json). */
export async function runSplit(inPath: string, outPath: string, params: Params): Promise<SplitResult> {
  const p = splitParamsFrom(params);
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
  log(
    p.by === 'random'
      ? `split: per-emotion stratified, fractions ${p.fractions.train}/${p.fractions.val}/${p.fractions.test}, seed ${p.seed}`
      : `split: speaker-independent, val actors [${p.valActors.join(', ')}], test actors [${p.testActors.join(', ')}]`,
  );
  for (const line of formatSizes(sizeTable(clips, s))) log(line);
  await writeJsonAtomic(outPath, s);
  return s;
}
