// ser-split --in <segments.arrow> --out <split.json>
import { loadStageParams, parseArgs, runCli } from '@ser/stage-kit';
import { runSplit } from './stage.ts';

await runCli(async (argv) => {
  const args = parseArgs(
    argv,
    {
      in: { type: 'string', required: true, desc: 'segment/segments.arrow (label columns id, actor, emotion)' },
      out: { type: 'string', required: true, desc: 'split/split.json' },
    },
    { prog: 'ser-split' },
  );
  await runSplit(args.in as string, args.out as string, loadStageParams());
});
