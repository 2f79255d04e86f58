// Public API of @ser/tensor-io: Arrow IPC tensor files (see README.md for the format).
export {
  type ColumnType,
  type TensorSchema,
  type TensorRow,
  TensorFileError,
  TENSOR_COLUMN,
  SHAPE_KEY,
  isVariableShape,
  shapeSize,
} from './schema.ts';
export { TensorFileWriter, DEFAULT_BATCH_ROWS, type TensorWriterOptions } from './writer.ts';
export { readTensorSchema, readTensorRows, readTensorFile, readTensorLabels, readTensorCount, type TensorExpect } from './reader.ts';
