// Streaming writer: rows are buffered into one record batch at a time, which is serialised and
// written to disk before the next batch starts, so memory is bounded by one batch.
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  AsyncByteQueue,
  FixedSizeList,
  Float32,
  Int32,
  List,
  RecordBatch,
  RecordBatchFileWriter,
  Struct,
  Utf8,
  makeData,
  type Data,
  type Schema,
} from 'apache-arrow';
import {
  TensorFileError,
  isVariableShape,
  shapeSize,
  toArrowSchema,
  type ColumnType,
  type TensorRow,
  type TensorSchema,
} from './schema.ts';

/** Collects the bytes the Arrow writer emits so that we can write them to the file ourselves. */
class CollectingSink extends AsyncByteQueue {
  chunks: Uint8Array[] = [];
  override write(value: any): void {
    const v = value as Uint8Array;
    if (v.byteLength > 0) this.chunks.push(v);
  }
  override close(): void {
    /* the file is closed by TensorFileWriter */
  }
  take(): Uint8Array[] {
    const c = this.chunks;
    this.chunks = [];
    return c;
  }
}

/** Default rows per record batch; a batch is also cut once its tensor data reaches MAX_BATCH_BYTES. */
export const DEFAULT_BATCH_ROWS = 64;
const MAX_BATCH_BYTES = 64 * 1024 * 1024;
const encoder = new TextEncoder();

export interface TensorWriterOptions {
  /** Rows per record batch (default 64; a batch is also cut at 64 MiB of tensor data). */
  batchRows?: number;
}

/**
 * Writes an Arrow IPC file, one row per example. Writes go to `<path>.tmp-<pid>` and are renamed
 * onto `path` by `close()`, so a failed run never leaves a half-written file at `path`.
 * Identical rows and schema give byte-identical files (no timestamps; metadata keys sorted).
 */
export class TensorFileWriter {
  // The batch being filled: each row's labels, and its tensor copied in at write() (so a caller may
  // reuse its buffer): for a fixed shape into batchValues, one buffer reused from batch to batch (a
  // fresh one per batch costs page faults, not copying); for a variable shape into `tensors`.
  private labels: TensorRow['labels'][] = [];
  private tensors: Float32Array[] = [];
  private batchValues = new Float32Array(0);
  private rowFloats = 0;
  private count = 0;
  private closed = false;
  private readonly fixedSize: number;

  private constructor(
    readonly path: string,
    readonly schema: TensorSchema,
    private readonly arrowSchema: Schema,
    private readonly fh: FileHandle,
    private readonly tmpPath: string,
    private readonly writer: RecordBatchFileWriter,
    private readonly sink: CollectingSink,
    private readonly batchRows: number,
  ) {
    this.fixedSize = isVariableShape(schema.shape) ? -1 : shapeSize(schema.shape);
  }

  static async open(path: string, schema: TensorSchema, opts: TensorWriterOptions = {}): Promise<TensorFileWriter> {
    const arrowSchema = toArrowSchema(schema, path);
    const batchRows = opts.batchRows ?? DEFAULT_BATCH_ROWS;
    if (!Number.isInteger(batchRows) || batchRows < 1) {
      throw new TensorFileError(`${path}: batchRows must be a positive integer, got ${batchRows}`);
    }
    await mkdir(dirname(path), { recursive: true });
    const tmpPath = `${path}.tmp-${process.pid}`;
    const fh = await open(tmpPath, 'w');
    const sink = new CollectingSink();
    const writer = new RecordBatchFileWriter();
    writer.reset(sink as any, arrowSchema);
    const w = new TensorFileWriter(path, schema, arrowSchema, fh, tmpPath, writer, sink, batchRows);
    await w.flushSink();
    return w;
  }

  /** Rows written so far. */
  get rowCount(): number {
    return this.count + this.labels.length;
  }

  /**
   * Adds one row; validates its labels and tensor length against the schema. The tensor is copied:
   * the caller may reuse its buffer once the returned promise resolves (await every write).
   */
  async write(row: TensorRow): Promise<void> {
    if (this.closed) throw new TensorFileError(`${this.path}: write after close`);
    this.checkRow(row);
    const n = row.tensor.length;
    if (this.fixedSize >= 0) {
      const at = this.rowFloats;
      if (this.batchValues.length < at + n) {
        // Room for a whole batch: batchRows rows, or the rows that reach MAX_BATCH_BYTES.
        const rows = Math.min(this.batchRows, Math.ceil(MAX_BATCH_BYTES / 4 / Math.max(1, n)));
        const grown = new Float32Array(Math.max(at + n, rows * n));
        grown.set(this.batchValues.subarray(0, at));
        this.batchValues = grown;
      }
      this.batchValues.set(row.tensor, at);
    } else {
      this.tensors.push(row.tensor.slice());
    }
    this.labels.push(row.labels);
    this.rowFloats += n;
    if (this.labels.length >= this.batchRows || this.rowFloats * 4 >= MAX_BATCH_BYTES) await this.flushBatch();
  }

  /** Writes the last batch and the footer, closes the file and moves it to `path`. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.flushBatch();
      this.closed = true;
      this.writer.finish();
      await this.flushSink();
      await this.fh.close();
      await rename(this.tmpPath, this.path);
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** Drops the partial file (use when a stage fails mid-way). */
  async abort(): Promise<void> {
    this.closed = true;
    this.labels = [];
    this.tensors = [];
    await this.fh.close().catch(() => {});
    await rm(this.tmpPath, { force: true });
  }

  private checkRow(row: TensorRow): void {
    const where = `${this.path}: row ${this.rowCount}`;
    if (!(row.tensor instanceof Float32Array)) throw new TensorFileError(`${where}: tensor must be a Float32Array`);
    if (this.fixedSize >= 0 && row.tensor.length !== this.fixedSize) {
      throw new TensorFileError(
        `${where}: tensor has ${row.tensor.length} values, shape ${JSON.stringify(this.schema.shape)} needs ${this.fixedSize}`,
      );
    }
    for (const c of this.schema.columns) {
      const v = row.labels[c.name];
      if (v === undefined) throw new TensorFileError(`${where}: missing label "${c.name}"`);
      if (c.type === 'utf8' ? typeof v !== 'string' : typeof v !== 'number') {
        throw new TensorFileError(`${where}: label "${c.name}" must be ${c.type === 'utf8' ? 'a string' : 'a number'}, got ${JSON.stringify(v)}`);
      }
      if (c.type === 'int32' && !(Number.isInteger(v) && (v as number) >= -(2 ** 31) && (v as number) < 2 ** 31)) {
        throw new TensorFileError(`${where}: label "${c.name}" must be an int32, got ${v}`);
      }
    }
  }

  private async flushBatch(): Promise<void> {
    const labels = this.labels;
    const tensors = this.tensors;
    if (labels.length === 0) return;
    const total = this.rowFloats;
    this.labels = [];
    this.tensors = [];
    this.rowFloats = 0;
    const children: Data[] = this.schema.columns.map((c) => labelData(c.type, labels.map((l) => l[c.name]!)));
    children.push(this.tensorData(tensors, labels.length, total));
    const struct = makeData({
      type: new Struct(this.arrowSchema.fields),
      length: labels.length,
      nullCount: 0,
      children,
    });
    this.writer.write(new RecordBatch(this.arrowSchema, struct));
    this.count += labels.length;
    // The batch's bytes are written out before write() returns, so batchValues is free again.
    await this.flushSink();
  }

  private tensorData(tensors: Float32Array[], rows: number, total: number): Data {
    const field = this.arrowSchema.fields[this.arrowSchema.fields.length - 1]!;
    if (this.fixedSize >= 0) {
      const child = makeData({ type: new Float32(), length: total, nullCount: 0, data: this.batchValues.subarray(0, total) });
      return makeData({ type: field.type as FixedSizeList<Float32>, length: rows, nullCount: 0, child });
    }
    const values = new Float32Array(total);
    const offsets = new Int32Array(rows + 1);
    let pos = 0;
    tensors.forEach((t, i) => {
      values.set(t, pos);
      pos += t.length;
      offsets[i + 1] = pos;
    });
    const child = makeData({ type: new Float32(), length: total, nullCount: 0, data: values });
    return makeData({ type: field.type as List<Float32>, length: rows, nullCount: 0, valueOffsets: offsets, child });
  }

  private async flushSink(): Promise<void> {
    for (const chunk of this.sink.take()) await this.fh.write(chunk);
  }
}

function labelData(type: ColumnType, values: (number | string)[]): Data {
  if (type === 'int32') return makeData({ type: new Int32(), length: values.length, nullCount: 0, data: Int32Array.from(values as number[]) });
  if (type === 'float32') return makeData({ type: new Float32(), length: values.length, nullCount: 0, data: Float32Array.from(values as number[]) });
  const encoded = (values as string[]).map((s) => encoder.encode(s));
  const offsets = new Int32Array(values.length + 1);
  encoded.forEach((b, i) => (offsets[i + 1] = offsets[i]! + b.length));
  const data = new Uint8Array(offsets[values.length]!);
  encoded.forEach((b, i) => data.set(b, offsets[i]!));
  return makeData({ type: new Utf8(), length: values.length, nullCount: 0, valueOffsets: offsets, data });
}
