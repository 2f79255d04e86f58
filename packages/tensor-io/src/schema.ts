// The tensor-file schema in our terms, and its mapping to and from an Arrow schema.
import { Field, FixedSizeList, Float32, Int32, List, Schema, Utf8, type DataType } from 'apache-arrow';

export type ColumnType = 'int32' | 'float32' | 'utf8';

/** Label columns, the per-row tensor shape, and free schema metadata (e.g. `sample_rate`). */
export interface TensorSchema {
  columns: { name: string; type: ColumnType }[];
  /** Per-row tensor shape; `-1` allowed only as the first and only dimension (variable length). */
  shape: number[];
  metadata?: Record<string, string>;
}

/** One example: label values by column name, and the row's tensor, row-major. */
export interface TensorRow {
  labels: Record<string, number | string>;
  tensor: Float32Array;
}

export const TENSOR_COLUMN = 'tensor';
export const SHAPE_KEY = 'shape';

/** An error in a tensor file or in how one is used; its message names the file. */
export class TensorFileError extends Error {
  /** Marks an error the user can cause (bad file): stage-kit's runCli prints one line for it. */
  readonly userError = true;
  constructor(message: string) {
    super(message);
    this.name = 'TensorFileError';
  }
}

/** True when the first dimension is variable (`[-1]`): rows are stored as List<Float32>. */
export function isVariableShape(shape: readonly number[]): boolean {
  return shape.length > 0 && shape[0] === -1;
}

/** Number of floats per row for a fixed shape. */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Throws (naming `where`) unless `shape` is a valid tensor shape. */
export function checkShape(shape: readonly number[], where: string): void {
  if (!Array.isArray(shape) || shape.length === 0) {
    throw new TensorFileError(`${where}: tensor shape must be a non-empty array, got ${JSON.stringify(shape)}`);
  }
  shape.forEach((d, i) => {
    const ok = Number.isInteger(d) && (d > 0 || (d === -1 && i === 0 && shape.length === 1));
    if (!ok) {
      throw new TensorFileError(
        `${where}: bad tensor shape ${JSON.stringify(shape)} (positive integers, or [-1] for variable length)`,
      );
    }
  });
}

function arrowType(type: ColumnType): DataType {
  switch (type) {
    case 'int32':
      return new Int32();
    case 'float32':
      return new Float32();
    case 'utf8':
      return new Utf8();
  }
}

/** Sorted-key Map so that metadata bytes do not depend on insertion order. */
function sortedMap(rec: Record<string, string> | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const k of Object.keys(rec ?? {}).sort()) m.set(k, String(rec![k]));
  return m;
}

/** The Arrow schema for a tensor schema (all fields non-nullable). */
export function toArrowSchema(schema: TensorSchema, where: string): Schema {
  checkShape(schema.shape, where);
  const seen = new Set<string>();
  const fields: Field[] = [];
  for (const c of schema.columns) {
    if (c.name === TENSOR_COLUMN) throw new TensorFileError(`${where}: label column may not be named "${TENSOR_COLUMN}"`);
    if (seen.has(c.name)) throw new TensorFileError(`${where}: duplicate column "${c.name}"`);
    if (!['int32', 'float32', 'utf8'].includes(c.type)) {
      throw new TensorFileError(`${where}: column "${c.name}" has unsupported type "${c.type}"`);
    }
    seen.add(c.name);
    fields.push(new Field(c.name, arrowType(c.type), false));
  }
  const item = new Field('item', new Float32(), false);
  const tensorType = isVariableShape(schema.shape) ? new List(item) : new FixedSizeList(shapeSize(schema.shape), item);
  fields.push(new Field(TENSOR_COLUMN, tensorType, false, sortedMap({ [SHAPE_KEY]: JSON.stringify(schema.shape) })));
  return new Schema(fields, sortedMap(schema.metadata));
}

/** Our tensor schema from an Arrow schema; throws (naming the file) when it is not a tensor file. */
export function fromArrowSchema(schema: Schema, file: string): TensorSchema {
  const columns: TensorSchema['columns'] = [];
  const tensor = schema.fields.find((f) => f.name === TENSOR_COLUMN);
  if (!tensor) throw new TensorFileError(`${file}: missing column "${TENSOR_COLUMN}"`);
  for (const f of schema.fields) {
    if (f.name === TENSOR_COLUMN) continue;
    const t = f.type;
    let type: ColumnType;
    if (t instanceof Int32 || (t.typeId === 2 && (t as Int32).bitWidth === 32 && (t as Int32).isSigned)) type = 'int32';
    else if (t.typeId === 3 && (t as Float32).precision === 1) type = 'float32';
    else if (t.typeId === 5) type = 'utf8';
    else throw new TensorFileError(`${file}: column "${f.name}" has unsupported type ${String(t)}`);
    columns.push({ name: f.name, type });
  }
  const raw = tensor.metadata.get(SHAPE_KEY);
  if (raw === undefined) throw new TensorFileError(`${file}: column "${TENSOR_COLUMN}" has no "${SHAPE_KEY}" metadata`);
  let shape: number[];
  try {
    shape = JSON.parse(raw);
  } catch {
    throw new TensorFileError(`${file}: column "${TENSOR_COLUMN}" has unparsable shape metadata ${JSON.stringify(raw)}`);
  }
  checkShape(shape, file);
  const t = tensor.type;
  const child: DataType | undefined = t.children?.[0]?.type;
  const childIsF32 = !!child && child.typeId === 3 && (child as Float32).precision === 1;
  if (isVariableShape(shape)) {
    if (!(t.typeId === 12 && childIsF32)) {
      throw new TensorFileError(`${file}: column "${TENSOR_COLUMN}" must be List<Float32> for shape [-1], got ${String(t)}`);
    }
  } else {
    const size = shapeSize(shape);
    if (!(t.typeId === 16 && childIsF32 && (t as FixedSizeList).listSize === size)) {
      throw new TensorFileError(
        `${file}: column "${TENSOR_COLUMN}" must be FixedSizeList<Float32>[${size}] for shape ${JSON.stringify(shape)}, got ${String(t)}`,
      );
    }
  }
  const metadata: Record<string, string> = {};
  for (const [k, v] of schema.metadata) metadata[k] = v;
  return { columns, shape, metadata };
}
