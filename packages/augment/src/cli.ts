// ser-augment --in <segments.arrow> --split <split.json> --out-dir <dir>
import { loadStageParams, parseArgs, runCli } from '@ser/stage-kit';
import { runAugment } from './stage.ts';

await runCli(async (argv) => {
  const args = parseArgs(
    argv,
    {
      in: { type: 'string', required: true, desc: 'segment/segments.arrow' },
      split: { type: 'string', required: true, desc: 'split/split.json' },
      'out-dir': { type: 'string', required: true, desc: 'writes train.arrow, val.arrow, test.arrow here' },
    },
    { prog: 'ser-augment' },
  );
  await runAugment(args.in as string, args.split as string, args['out-dir'] as string, loadStageParams());
});
