// Pure core of the segment stage: params, output schema, one row's window.
import { segmentWindow, windowLength } from '@ser/audio';
import type { TensorRow, TensorSchema } from '@ser/tensor-io';

export interface SegmentParams {
  /** Window start, seconds from the start of the clip. */
  offset: number;
  /** Window length, seconds. */
  duration: number;
}

/** Samples per segment at `sampleRate`: int(duration * sampleRate) (librosa.load semantics). */
export function segmentLength(sampleRate: number, p: SegmentParams): number {
  return windowLength(sampleRate, p.duration);
}

/**
 * Output schema: the input's label columns and metadata, shape [int(duration * sample_rate)],
 * plus metadata `segment_offset` and `segment_duration` (seconds, as given).
 */
export function segmentSchema(input: TensorSchema, sampleRate: number, p: SegmentParams): TensorSchema {
  return {
    columns: input.columns,
    shape: [segmentLength(sampleRate, p)],
    metadata: { ...input.metadata, segment_offset: String(p.offset), segment_duration: String(p.duration) },
  };
}

/** What happened to one clip: how many of its window samples are real (the rest is zero padding). */
export interface SegmentInfo {
  realSamples: number;
}

/** The row with its audio (shape [samples]) replaced by the fixed window (shape [segmentLength]). */
export function segmentRow(row: TensorRow, sampleRate: number, p: SegmentParams): { row: TensorRow; info: SegmentInfo } {
  const tensor = segmentWindow(row.tensor, sampleRate, p.offset, p.duration);
  const start = Math.trunc(p.offset * sampleRate);
  const realSamples = Math.max(0, Math.min(tensor.length, row.tensor.length - start));
  return { row: { labels: row.labels, tensor }, info: { realSamples } };
}
