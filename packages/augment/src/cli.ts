// ser-augment --in <segments.arrow> --split <split.json> --out-dir <dir>
import { loadStageParams, parseArgs, runCli } from '@ser/stage-kit';
import { runAugment } from './stage.ts';

await runCli(async (argv) => {
  const args = parseArgs(
    argv,
    {
      in: { type: 'string', required: true, arg: 'file', desc: 'segment/segments.arrow' },
      split: { type: 'string', required: true, arg: 'file', desc: 'split/split.json' },
      'out-dir': { type: 'string', required: true, arg: 'dir', desc: 'writes train.arrow, val.arrow, test.arrow here' },
    },
    {
      prog: 'ser-augment',
      summary: 'Writes the train rows plus augment.copies AWGN copies of each, and val/test untouched (params augment.*).',
      examples: ['ser-augment --in artifacts/segment/segments.arrow --split artifacts/split/split.json --out-dir artifacts/augment'],
    },
  );
  await runAugment({
    inputs: { in: args.in as string, split: args.split as string },
    outputs: { dir: args['out-dir'] as string },
    params: loadStageParams(),
  });
});
