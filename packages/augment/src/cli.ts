// ser-augment --in <segments.arrow> --split <split.json> --out-dir <dir>
import { runStageCli } from '@ser/stage-kit';
import { runAugment } from './stage.ts';

await runStageCli(
  {
    inputs: {
      in: { arg: 'file', desc: 'segment/segments.arrow' },
      split: { arg: 'file', desc: 'split/split.json' },
    },
    outputs: { dir: { flag: 'out-dir', arg: 'dir', desc: 'writes train.arrow, val.arrow, test.arrow here' } },
    prog: 'ser-augment',
    summary: 'Writes the train rows plus augment.copies AWGN copies of each, and val/test untouched (params augment.*).',
    examples: ['ser-augment --in artifacts/segment/segments.arrow --split artifacts/split/split.json --out-dir artifacts/augment'],
  },
  runAugment,
);
