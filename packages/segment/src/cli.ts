// ser-segment --in <clips.arrow> --out <segments.arrow>
import { loadStageParams, parseArgs, runCli } from '@ser/stage-kit';
import { runSegment } from './stage.ts';

await runCli(async (argv) => {
  const args = parseArgs(
    argv,
    {
      in: { type: 'string', required: true, desc: 'ingest/clips.arrow (shape [-1], metadata sample_rate)' },
      out: { type: 'string', required: true, desc: 'segment/segments.arrow' },
    },
    { prog: 'ser-segment' },
  );
  await runSegment(args.in as string, args.out as string, loadStageParams());
});
