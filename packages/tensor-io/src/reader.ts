// Validating, streaming reader: record batches are read from disk one at a time.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { Message, RecordBatchReader, type AsyncRecordBatchFileReader, type RecordBatch, type Vector } from 'apache-arrow';
import { TensorFileError, TENSOR_COLUMN, fromArrowSchema, isVariableShape, shapeSize, type TensorRow, type TensorSchema } from './schema.ts';

/** What the caller expects of a file; a mismatch is a TensorFileError naming the file. */
export interface TensorExpect {
  /** Label columns that must exist. */
  columns?: string[];
  /** Exact tensor shape (use `[-1]` for variable length). */
  shape?: number[];
}

const MAGIC = 'ARROW1';

async function checkMagic(fh: FileHandle, file: string): Promise<void> {
  const { size } = await fh.stat();
  const head = Buffer.alloc(6);
  const tail = Buffer.alloc(6);
  if (size >= 12) {
    await fh.read(head, 0, 6, 0);
    await fh.read(tail, 0, 6, size - 6);
  }
  if (head.toString('latin1') !== MAGIC || tail.toString('latin1') !== MAGIC) {
    throw new TensorFileError(`${file}: not an Arrow IPC file (missing ARROW1 magic; truncated or another format)`);
  }
}

async function openFile(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'r');
  } catch (e: any) {
    if (e?.code === 'ENOENT') throw new TensorFileError(`${file}: no such file`);
    throw new TensorFileError(`${file}: cannot open (${e?.message ?? e})`);
  }
}

async function openReader(file: string): Promise<{ fh: FileHandle; reader: AsyncRecordBatchFileReader; schema: TensorSchema }> {
  const fh = await openFile(file);
  try {
    await checkMagic(fh, file);
    let reader: AsyncRecordBatchFileReader;
    try {
      reader = (await RecordBatchReader.from(fh as any)) as unknown as AsyncRecordBatchFileReader;
      await reader.open();
    } catch (e: any) {
      throw new TensorFileError(`${file}: unreadable Arrow file (${e?.message ?? e})`);
    }
    if (!reader.isFile()) throw new TensorFileError(`${file}: not an Arrow IPC file`);
    const schema = fromArrowSchema(reader.schema, file);
    return { fh, reader, schema };
  } catch (e) {
    await fh.close().catch(() => {});
    throw e;
  }
}

function checkExpect(schema: TensorSchema, file: string, expect?: TensorExpect): void {
  for (const c of expect?.columns ?? []) {
    if (!schema.columns.some((k) => k.name === c)) throw new TensorFileError(`${file}: missing column "${c}"`);
  }
  if (expect?.shape && JSON.stringify(expect.shape) !== JSON.stringify(schema.shape)) {
    throw new TensorFileError(`${file}: tensor shape is ${JSON.stringify(schema.shape)}, expected ${JSON.stringify(expect.shape)}`);
  }
}

/** The schema of a tensor file (reads only the footer). */
export async function readTensorSchema(file: string): Promise<TensorSchema> {
  const { fh, schema } = await openReader(file);
  await fh.close();
  return schema;
}

/** Label values of one batch, by column, as plain JS arrays. */
function batchLabels(batch: RecordBatch, schema: TensorSchema): Record<string, (number | string)[]> {
  const out: Record<string, (number | string)[]> = {};
  for (const c of schema.columns) {
    const v = batch.getChild(c.name)! as Vector;
    out[c.name] = c.type === 'utf8' ? (v.toArray() as string[]) : Array.from(v.toArray() as ArrayLike<number>);
  }
  return out;
}

/** Float values of the tensor column of one batch (a view, no copy) and per-row offsets. */
function batchTensor(batch: RecordBatch, file: string): { values: Float32Array; offsets: (i: number) => [number, number] } {
  const col = batch.getChild(TENSOR_COLUMN)!;
  if (col.data.length !== 1) throw new TensorFileError(`${file}: unexpected chunked tensor column`);
  const d = col.data[0]!;
  if (d.nullCount > 0) throw new TensorFileError(`${file}: tensor column has nulls`);
  const child = d.children[0]!;
  const values = (child.values as Float32Array).subarray(child.offset, child.offset + child.length);
  if (d.valueOffsets) {
    const vo = d.valueOffsets as Int32Array;
    return { values, offsets: (i) => [vo[d.offset + i]!, vo[d.offset + i + 1]!] };
  }
  const size = (d.type as any).listSize as number;
  return { values, offsets: (i) => [(d.offset + i) * size, (d.offset + i + 1) * size] };
}

/**
 * Streams the rows of a tensor file, one record batch in memory at a time. Each row's tensor is
 * a fresh copy (safe to keep). Validates columns and shape first.
 */
export async function* readTensorRows(file: string, expect?: TensorExpect): AsyncGenerator<TensorRow> {
  const { fh, reader, schema } = await openReader(file);
  try {
    checkExpect(schema, file, expect);
    for (let b = 0; b < reader.numRecordBatches; b++) {
      const batch = await readBatch(reader, b, file);
      const labels = batchLabels(batch, schema);
      const t = batchTensor(batch, file);
      for (let i = 0; i < batch.numRows; i++) {
        const row: Record<string, number | string> = {};
        for (const c of schema.columns) row[c.name] = labels[c.name]![i]!;
        const [s, e] = t.offsets(i);
        yield { labels: row, tensor: t.values.slice(s, e) };
      }
    }
  } finally {
    await fh.close().catch(() => {});
  }
}

async function readBatch(reader: AsyncRecordBatchFileReader, index: number, file: string): Promise<RecordBatch> {
  let batch: RecordBatch | null;
  try {
    batch = await reader.readRecordBatch(index);
  } catch (e: any) {
    throw new TensorFileError(`${file}: record batch ${index} unreadable (${e?.message ?? e})`);
  }
  if (!batch) throw new TensorFileError(`${file}: record batch ${index} missing (truncated file?)`);
  return batch;
}

/** Row count from the record-batch message headers (reads no tensor data). */
async function countRows(fh: FileHandle, reader: AsyncRecordBatchFileReader, file: string): Promise<number> {
  let count = 0;
  const footer = reader.footer!;
  const { size } = await stat(file);
  for (const block of footer.recordBatches()) {
    const offset = Number(block.offset);
    const len = block.metaDataLength;
    if (offset + len > size || len < 8) throw new TensorFileError(`${file}: record batch block out of range (truncated file?)`);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, offset);
    // Prefix: continuation marker 0xFFFFFFFF then int32 flatbuffer length (or legacy: length only).
    const legacy = buf.readInt32LE(0) !== -1;
    const start = legacy ? 4 : 8;
    const fbLen = buf.readInt32LE(legacy ? 0 : 4);
    const msg = Message.decode(buf.subarray(start, start + fbLen));
    if (!msg.isRecordBatch()) throw new TensorFileError(`${file}: footer points at a non-record-batch message`);
    count += Number(msg.header().length);
  }
  return count;
}

/**
 * The whole file in one Float32Array (`count * prod(shape)`, row-major) plus label arrays by
 * column. Fixed shapes only. Allocates the output once and copies batch by batch, so peak memory
 * is the output plus one batch.
 */
export async function readTensorFile(
  file: string,
  expect?: TensorExpect,
): Promise<{ schema: TensorSchema; count: number; labels: Record<string, (number | string)[]>; data: Float32Array }> {
  const { fh, reader, schema } = await openReader(file);
  try {
    checkExpect(schema, file, expect);
    if (isVariableShape(schema.shape)) {
      throw new TensorFileError(`${file}: readTensorFile needs a fixed tensor shape, got [-1] (use readTensorRows)`);
    }
    const size = shapeSize(schema.shape);
    const count = await countRows(fh, reader, file);
    const data = new Float32Array(count * size);
    const labels: Record<string, (number | string)[]> = Object.fromEntries(schema.columns.map((c) => [c.name, []]));
    let row = 0;
    for (let b = 0; b < reader.numRecordBatches; b++) {
      const batch = await readBatch(reader, b, file);
      const bl = batchLabels(batch, schema);
      for (const c of schema.columns) for (const v of bl[c.name]!) labels[c.name]!.push(v);
      if (batch.numRows > 0) {
        const t = batchTensor(batch, file);
        const [s] = t.offsets(0);
        const [, e] = t.offsets(batch.numRows - 1);
        data.set(t.values.subarray(s, e), row * size);
      }
      row += batch.numRows;
    }
    if (row !== count) throw new TensorFileError(`${file}: row count mismatch (${row} read, ${count} in headers)`);
    return { schema, count, labels, data };
  } finally {
    await fh.close().catch(() => {});
  }
}

/**
 * Label columns only, by column (tensor data is read batch by batch and dropped: memory is the
 * labels plus one batch). For stages that need membership, not signals (e.g. split).
 */
export async function readTensorLabels(
  file: string,
  expect?: TensorExpect,
): Promise<{ schema: TensorSchema; count: number; labels: Record<string, (number | string)[]> }> {
  const { fh, reader, schema } = await openReader(file);
  try {
    checkExpect(schema, file, expect);
    const labels: Record<string, (number | string)[]> = Object.fromEntries(schema.columns.map((c) => [c.name, []]));
    let count = 0;
    for (let b = 0; b < reader.numRecordBatches; b++) {
      const batch = await readBatch(reader, b, file);
      const bl = batchLabels(batch, schema);
      for (const c of schema.columns) for (const v of bl[c.name]!) labels[c.name]!.push(v);
      count += batch.numRows;
    }
    return { schema, count, labels };
  } finally {
    await fh.close().catch(() => {});
  }
}

/** Number of rows, from the record-batch headers only (no tensor data is read). */
export async function readTensorCount(file: string): Promise<number> {
  const { fh, reader } = await openReader(file);
  try {
    return await countRows(fh, reader, file);
  } finally {
    await fh.close().catch(() => {});
  }
}
