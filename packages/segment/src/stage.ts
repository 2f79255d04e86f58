// Segment stage edge: params, files, progress.
import { getParam, num, progress, stageLog, UserError, type Params, type StageArgs } from '@ser/stage-kit';
import { readTensorCount, readTensorRows, readTensorSchema, TensorFileWriter } from '@ser/tensor-io';
import { segmentRow, segmentSchema, type SegmentParams } from './core.ts';

export function segmentParamsFrom(params: Params): SegmentParams {
  return {
    offset: getParam(params, 'segment.offset', num({ min: 0 })),
    duration: getParam(params, 'segment.duration', num({ min: 1e-6 })),
  };
}

/** Sample rate from a clips file's schema metadata `sample_rate`. */
export function sampleRateOf(metadata: Record<string, string> | undefined, file: string): number {
  const raw = metadata?.sample_rate;
  const sr = Number(raw);
  if (raw === undefined || !Number.isInteger(sr) || sr <= 0) {
    throw new UserError(`${file}: schema metadata sample_rate must be a positive integer, got ${JSON.stringify(raw ?? null)}`);
  }
  return sr;
}

/** Reads clips (shape [-1]) from `inputs.in`, writes fixed windows to `outputs.out`. */
export async function runSegment(a: StageArgs<'in', 'out'>): Promise<{ rows: number; padded: number; empty: number }> {
  const { in: inPath } = a.inputs;
  const { out: outPath } = a.outputs;
  const log = stageLog(a);
  const p = segmentParamsFrom(a.params);
  const input = await readTensorSchema(inPath);
  if (JSON.stringify(input.shape) !== '[-1]') {
    throw new UserError(`${inPath}: expected raw audio of shape [-1], got ${JSON.stringify(input.shape)}`);
  }
  const sr = sampleRateOf(input.metadata, inPath);
  const schema = segmentSchema(input, sr, p);
  if (schema.shape[0]! < 1) throw new UserError(`params: segment.duration ${p.duration} s is under one sample at ${sr} Hz`);
  log(`segment: offset ${p.offset} s, duration ${p.duration} s -> ${schema.shape[0]} samples at ${sr} Hz`);
  const total = await readTensorCount(inPath);
  const writer = await TensorFileWriter.open(outPath, schema);
  let rows = 0;
  let padded = 0;
  let empty = 0;
  try {
    for await (const row of readTensorRows(inPath, { shape: [-1] })) {
      const { row: out, info } = segmentRow(row, sr, p);
      if (info.realSamples < out.tensor.length) padded++;
      if (info.realSamples === 0) empty++;
      await writer.write(out);
      rows++;
      progress(rows, total, 'segment');
    }
    await writer.close();
  } catch (e) {
    await writer.abort();
    throw e;
  }
  log(`segment: ${rows} clips, ${padded} zero-padded (shorter than offset + duration), ${empty} entirely padding`);
  return { rows, padded, empty };
}
