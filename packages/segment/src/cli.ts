// ser-segment --in <clips.arrow> --out <segments.arrow>
import { runStageCli } from '@ser/stage-kit';
import { runSegment } from './stage.ts';

await runStageCli(
  {
    inputs: { in: { arg: 'file', desc: 'ingest/clips.arrow (shape [-1], metadata sample_rate)' } },
    outputs: { out: { arg: 'file', desc: 'segment/segments.arrow' } },
    prog: 'ser-segment',
    summary: 'Cuts every clip to segment.duration s from segment.offset s, zero-padded (params segment.*).',
    examples: ['ser-segment --in artifacts/ingest/clips.arrow --out artifacts/segment/segments.arrow'],
  },
  runSegment,
);
