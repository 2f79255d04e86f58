// ser-segment --in <clips.arrow> --out <segments.arrow>
import { loadStageParams, parseArgs, runCli } from '@ser/stage-kit';
import { runSegment } from './stage.ts';

await runCli(async (argv) => {
  const args = parseArgs(
    argv,
    {
      in: { type: 'string', required: true, arg: 'file', desc: 'ingest/clips.arrow (shape [-1], metadata sample_rate)' },
      out: { type: 'string', required: true, arg: 'file', desc: 'segment/segments.arrow' },
    },
    {
      prog: 'ser-segment',
      summary: 'Cuts every clip to segment.duration s from segment.offset s, zero-padded (params segment.*).',
      examples: ['ser-segment --in artifacts/ingest/clips.arrow --out artifacts/segment/segments.arrow'],
    },
  );
  await runSegment({ inputs: { in: args.in as string }, outputs: { out: args.out as string }, params: loadStageParams() });
});
