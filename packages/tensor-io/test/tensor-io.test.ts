import { mkdtemp, readFile, readdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableFromIPC, FixedSizeList, List } from 'apache-arrow';
import {
  TensorFileError,
  TensorFileWriter,
  readTensorFile,
  readTensorLabels,
  readTensorCount,
  readTensorRows,
  readTensorSchema,
  type TensorSchema,
} from '../src/index.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tensor-io-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const labelsSchema: TensorSchema = {
  columns: [
    { name: 'id', type: 'utf8' },
    { name: 'actor', type: 'int32' },
    { name: 'snr_db', type: 'float32' },
  ],
  shape: [2, 3],
  metadata: { sample_rate: '48000', segment_offset: '0.5' },
};

function rowOf(i: number, size: number) {
  return {
    labels: { id: `clip-${i}-é`, actor: i + 1, snr_db: i % 2 ? NaN : i + 0.25 },
    tensor: Float32Array.from({ length: size }, (_, j) => i * 100 + j * 0.5),
  };
}

async function writeFixed(path: string, n: number, batchRows = 3, schema = labelsSchema) {
  const w = await TensorFileWriter.open(path, schema, { batchRows });
  for (let i = 0; i < n; i++) await w.write(rowOf(i, 6));
  await w.close();
}

describe('round trip', () => {
  it('fixed shape: rows, labels, data and metadata come back exactly', async () => {
    const p = join(dir, 'fixed.arrow');
    await writeFixed(p, 7);
    const schema = await readTensorSchema(p);
    expect(schema.shape).toEqual([2, 3]);
    expect(schema.columns).toEqual(labelsSchema.columns);
    expect(schema.metadata).toEqual({ sample_rate: '48000', segment_offset: '0.5' });

    const f = await readTensorFile(p, { columns: ['id', 'actor'], shape: [2, 3] });
    expect(f.count).toBe(7);
    expect(f.data.length).toBe(42);
    for (let i = 0; i < 7; i++) {
      const r = rowOf(i, 6);
      expect(Array.from(f.data.subarray(i * 6, i * 6 + 6))).toEqual(Array.from(r.tensor));
      expect(f.labels.id![i]).toBe(r.labels.id);
      expect(f.labels.actor![i]).toBe(r.labels.actor);
      if (i % 2) expect(Number.isNaN(f.labels.snr_db![i])).toBe(true);
      else expect(f.labels.snr_db![i]).toBeCloseTo(i + 0.25, 6);
    }
    const lab = await readTensorLabels(p, { columns: ['actor'] });
    expect(lab.count).toBe(7);
    expect(await readTensorCount(p)).toBe(7);
    expect(lab.labels).toEqual(f.labels);
    const rows = [];
    for await (const r of readTensorRows(p)) rows.push(r);
    expect(rows.length).toBe(7);
    expect(Array.from(rows[4]!.tensor)).toEqual(Array.from(rowOf(4, 6).tensor));
    expect(rows[4]!.labels.id).toBe('clip-4-é');
  });

  it('variable shape [-1] is List<Float32> and rows keep their lengths (incl. empty)', async () => {
    const p = join(dir, 'var.arrow');
    const w = await TensorFileWriter.open(p, { columns: [{ name: 'id', type: 'utf8' }], shape: [-1] }, { batchRows: 2 });
    for (let i = 0; i < 5; i++) await w.write({ labels: { id: `r${i}` }, tensor: Float32Array.from({ length: i * 3 }, (_, j) => j - i) });
    await w.close();
    const got = [];
    for await (const r of readTensorRows(p, { shape: [-1] })) got.push(r);
    expect(got.map((r) => r.tensor.length)).toEqual([0, 3, 6, 9, 12]);
    expect(Array.from(got[3]!.tensor)).toEqual(Array.from({ length: 9 }, (_, j) => j - 3));
    await expect(readTensorFile(p)).rejects.toThrow(/needs a fixed tensor shape/);
    // Any Arrow reader sees the documented layout.
    const t = tableFromIPC(await readFile(p));
    expect(t.schema.fields[1]!.type).toBeInstanceOf(List);
    expect(t.schema.fields[1]!.metadata.get('shape')).toBe('[-1]');
  });

  it('an independent Arrow reader sees FixedSizeList<Float32> with shape metadata', async () => {
    const p = join(dir, 'plain.arrow');
    await writeFixed(p, 4);
    const t = tableFromIPC(await readFile(p));
    expect(t.numRows).toBe(4);
    const field = t.schema.fields.find((f) => f.name === 'tensor')!;
    expect(field.type).toBeInstanceOf(FixedSizeList);
    expect((field.type as FixedSizeList).listSize).toBe(6);
    expect(field.metadata.get('shape')).toBe('[2,3]');
    expect(t.schema.metadata.get('sample_rate')).toBe('48000');
    expect(Array.from(t.getChild('tensor')!.get(2)!.toArray() as Float32Array)).toEqual(Array.from(rowOf(2, 6).tensor));
    expect(t.getChild('actor')!.get(3)).toBe(4);
  });

  it('streams: the file has one record batch per batchRows rows', async () => {
    const p = join(dir, 'batches.arrow');
    await writeFixed(p, 10, 4);
    const t = tableFromIPC(await readFile(p));
    expect(t.batches.map((b) => b.numRows)).toEqual([4, 4, 2]);
  });

  it('write copies the tensor: one buffer reused for every row gives the same bytes as fresh ones', async () => {
    const fresh = join(dir, 'fresh.arrow');
    await writeFixed(fresh, 10, 4); // batches of 4, 4, 2: the batch buffer is reused too
    const reused = join(dir, 'reused.arrow');
    const w = await TensorFileWriter.open(reused, labelsSchema, { batchRows: 4 });
    const buf = new Float32Array(6);
    for (let i = 0; i < 10; i++) {
      const r = rowOf(i, 6);
      buf.set(r.tensor);
      await w.write({ labels: r.labels, tensor: buf });
      buf.fill(NaN); // what the caller does with its buffer next must not reach the file
    }
    await w.close();
    expect((await readFile(reused)).equals(await readFile(fresh))).toBe(true);
    const vp = join(dir, 'var-reused.arrow');
    const v = await TensorFileWriter.open(vp, { columns: [{ name: 'id', type: 'utf8' }], shape: [-1] }, { batchRows: 2 });
    const vb = new Float32Array(4);
    for (let i = 0; i < 3; i++) {
      vb.fill(i);
      await v.write({ labels: { id: `r${i}` }, tensor: vb.subarray(0, i + 1) });
    }
    await v.close();
    const got = [];
    for await (const r of readTensorRows(vp, { shape: [-1] })) got.push(Array.from(r.tensor));
    expect(got).toEqual([[0], [1, 1], [2, 2, 2]]);
  });

  it('zero rows is a valid file', async () => {
    const p = join(dir, 'empty.arrow');
    await writeFixed(p, 0);
    const f = await readTensorFile(p);
    expect(f.count).toBe(0);
    expect(f.data.length).toBe(0);
  });
});

describe('determinism', () => {
  it('identical input gives byte-identical files, whatever the metadata insertion order', async () => {
    const a = join(dir, 'det-a.arrow');
    const b = join(dir, 'det-b.arrow');
    await writeFixed(a, 9);
    await writeFixed(b, 9, 3, { ...labelsSchema, metadata: { segment_offset: '0.5', sample_rate: '48000' } });
    const [ba, bb] = await Promise.all([readFile(a), readFile(b)]);
    expect(ba.equals(bb)).toBe(true);
  });
});

describe('validation', () => {
  it('missing column, wrong shape and not-an-Arrow-file name the file', async () => {
    const p = join(dir, 'v.arrow');
    await writeFixed(p, 2);
    await expect(readTensorFile(p, { columns: ['emotion'] })).rejects.toThrow(`${p}: missing column "emotion"`);
    await expect(readTensorFile(p, { shape: [3, 2] })).rejects.toThrow(`${p}: tensor shape is [2,3], expected [3,2]`);
    const bad = join(dir, 'bad.arrow');
    await writeFile(bad, 'RIFF....WAVEfmt not arrow at all');
    await expect(readTensorSchema(bad)).rejects.toThrow(`${bad}: not an Arrow IPC file`);
    await expect(readTensorSchema(join(dir, 'nope.arrow'))).rejects.toThrow(/nope\.arrow: no such file/);
    const err = await readTensorSchema(bad).catch((e) => e);
    expect(err).toBeInstanceOf(TensorFileError);
    expect(err.userError).toBe(true);
  });

  it('truncated file is rejected', async () => {
    const p = join(dir, 'trunc.arrow');
    await writeFixed(p, 5);
    const bytes = await readFile(p);
    const t = join(dir, 'trunc-cut.arrow');
    await writeFile(t, bytes.subarray(0, bytes.length - 100));
    await expect(readTensorFile(t)).rejects.toThrow(t);
  });

  it('wrong dtype of the tensor column (an Arrow file that is not a tensor file)', async () => {
    const { tableFromArrays, tableToIPC, RecordBatch, Schema, Table } = await import('apache-arrow');
    const p = join(dir, 'foreign.arrow');
    await writeFile(p, tableToIPC(tableFromArrays({ id: Int32Array.of(1), tensor: Float64Array.of(1) }), 'file'));
    await expect(readTensorSchema(p)).rejects.toThrow(`${p}: column "tensor" has no "shape" metadata`);
    // Shape metadata present but the column is a plain Float32, not a list.
    const base = tableFromArrays({ tensor: Float32Array.of(1, 2) });
    const schema = new Schema([base.schema.fields[0]!.clone({ metadata: new Map([['shape', '[1]']]) })]);
    const wrong = new Table([new RecordBatch(schema, base.batches[0]!.data)]);
    const s = join(dir, 'flat.arrow');
    await writeFile(s, tableToIPC(wrong, 'file'));
    await expect(readTensorFile(s)).rejects.toThrow(`${s}: column "tensor" must be FixedSizeList<Float32>[1] for shape [1]`);
    const d = join(dir, 'dict.arrow');
    await writeFile(d, tableToIPC(tableFromArrays({ id: ['a'], tensor: Float32Array.of(1) }), 'file'));
    await expect(readTensorSchema(d)).rejects.toThrow(`${d}: column "id" has unsupported type Dictionary`);
    const q = join(dir, 'nocol.arrow');
    await writeFile(q, tableToIPC(tableFromArrays({ id: ['a'] }), 'file'));
    await expect(readTensorSchema(q)).rejects.toThrow(`${q}: missing column "tensor"`);
    const r = join(dir, 'f64.arrow');
    await writeFile(r, tableToIPC(tableFromArrays({ x: Float64Array.of(1), tensor: Float32Array.of(1) }), 'file'));
    await expect(readTensorSchema(r)).rejects.toThrow(`${r}: column "x" has unsupported type`);
  });

  it('writer rejects bad rows and leaves no file behind on abort', async () => {
    const p = join(dir, 'w', 'out.arrow');
    const w = await TensorFileWriter.open(p, labelsSchema);
    await expect(w.write({ labels: { id: 'a', actor: 1, snr_db: 0 }, tensor: new Float32Array(5) })).rejects.toThrow(
      /row 0: tensor has 5 values, shape \[2,3\] needs 6/,
    );
    await expect(w.write({ labels: { id: 'a', snr_db: 0 }, tensor: new Float32Array(6) })).rejects.toThrow(/missing label "actor"/);
    await expect(w.write({ labels: { id: 'a', actor: 1.5, snr_db: 0 }, tensor: new Float32Array(6) })).rejects.toThrow(/must be an int32/);
    await w.write({ labels: { id: 'a', actor: 1, snr_db: 0 }, tensor: new Float32Array(6) });
    await w.abort();
    expect(await readdir(join(dir, 'w'))).toEqual([]);
    await expect(TensorFileWriter.open(p, { columns: [], shape: [0] })).rejects.toThrow(/bad tensor shape/);
    await expect(TensorFileWriter.open(p, { columns: [], shape: [-1, 4] })).rejects.toThrow(/bad tensor shape/);
  });
});
