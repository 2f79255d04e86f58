// Augment stage edge: params, split.json, segments in; augment/{train,val,test}.arrow out.
import { readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { arr, getParam, num, progress, stageLog, UserError, type Params, type StageArgs } from '@ser/stage-kit';
import { readTensorCount, readTensorRows, readTensorSchema, TensorFileWriter, type TensorSchema } from '@ser/tensor-io';
import { augmentClip, augmentSchema, cleanCopy, type AugmentParams } from './core.ts';

export type SplitName = 'train' | 'val' | 'test';
const SPLITS: readonly SplitName[] = ['train', 'val', 'test'];

export function augmentParamsFrom(params: Params): AugmentParams {
  const copies = getParam(params, 'augment.copies', num({ integer: true, min: 0, max: 100 }));
  const snrDb = getParam(params, 'augment.snr_db', arr(num({ min: -100, max: 200 }), { length: 2 })) as [number, number];
  if (snrDb[0] > snrDb[1]) throw new UserError(`params: augment.snr_db must be [low, high] with low <= high, got [${snrDb.join(', ')}]`);
  const seed = getParam(params, 'augment.seed', num({ integer: true, min: 0 }));
  return { copies, snrDb, seed };
}

/** id -> split from split.json; checks its shape and that no id is listed twice. */
export async function readSplit(path: string): Promise<Map<string, SplitName>> {
  let j: any;
  try {
    j = JSON.parse(await readFile(path, 'utf8'));
  } catch (e: any) {
    throw new UserError(e?.code === 'ENOENT' ? `${path}: no such file` : `${path}: not valid JSON (${e?.message ?? e})`);
  }
  const where = new Map<string, SplitName>();
  for (const s of SPLITS) {
    const list = j?.[s];
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
      throw new UserError(`${path}: "${s}" must be a list of clip ids`);
    }
    for (const id of list as string[]) {
      if (where.has(id)) throw new UserError(`${path}: clip "${id}" is in both ${where.get(id)} and ${s}`);
      where.set(id, s);
    }
  }
  return where;
}

/**
 * Streams `inputs.in` (segments) once, writing train (clean + noisy copies), val and test as
 * defined by `inputs.split` (split.json) into `outputs.dir`.
 */
export async function runAugment(a: StageArgs<'in' | 'split', 'dir'>): Promise<Record<SplitName, number>> {
  const { in: inPath, split: splitPath } = a.inputs;
  const { dir: outDir } = a.outputs;
  const log = stageLog(a);
  const p = augmentParamsFrom(a.params);
  const where = await readSplit(splitPath);
  const input = await readTensorSchema(inPath);
  if (input.shape[0] === -1) throw new UserError(`${inPath}: expected fixed-length segments, got shape [-1]`);
  for (const c of ['copy', 'snr_db']) {
    if (input.columns.some((k) => k.name === c)) throw new UserError(`${inPath}: already has a "${c}" column (augmented twice?)`);
  }
  const schema: TensorSchema = augmentSchema(input, p);
  const total = await readTensorCount(inPath);
  log(`augment: ${p.copies} noisy copies per train clip, SNR ~ U[${p.snrDb[0]}, ${p.snrDb[1]}) dB, seed ${p.seed}`);

  const writers: Partial<Record<SplitName, TensorFileWriter>> = {};
  const counts: Record<SplitName, number> = { train: 0, val: 0, test: 0 };
  const seen = new Set<string>();
  let silent = 0;
  try {
    for (const s of SPLITS) writers[s] = await TensorFileWriter.open(join(outDir, `${s}.arrow`), schema);
    let done = 0;
    for await (const row of readTensorRows(inPath, { columns: ['id'] })) {
      const id = String(row.labels.id);
      const s = where.get(id);
      if (!s) throw new UserError(`${splitPath}: clip "${id}" of ${inPath} is in no split (stale split.json?)`);
      seen.add(id);
      const rows = s === 'train' ? augmentClip(row.tensor, id, p) : [cleanCopy(row.tensor)];
      if (rows.some((r) => r.snrDb === Infinity)) silent++;
      for (const r of rows) {
        await writers[s]!.write({ labels: { ...row.labels, copy: r.copy, snr_db: r.snrDb }, tensor: r.tensor });
        counts[s]++;
      }
      progress(++done, total, 'augment');
    }
    const missing = [...where.keys()].find((id) => !seen.has(id));
    if (missing !== undefined) throw new UserError(`${splitPath}: clip "${missing}" is not in ${inPath} (stale split.json?)`);
    for (const s of SPLITS) await writers[s]!.close();
  } catch (e) {
    for (const s of SPLITS) await writers[s]?.abort();
    await rmdir(outDir).catch(() => {}); // only if we left it empty
    throw e;
  }
  log(`augment: train ${counts.train} rows (clean + noisy), val ${counts.val}, test ${counts.test}`);
  if (silent > 0) log(`augment: ${silent} silent train clip(s): copies left without noise (snr_db = Infinity)`);
  return counts;
}
