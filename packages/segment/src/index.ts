// Public API of @ser/segment.
export { type SegmentParams, type SegmentInfo, segmentLength, segmentSchema, segmentRow } from './core.ts';
export { segmentParamsFrom, sampleRateOf, runSegment } from './stage.ts';
