// ser-split --in <segments.arrow> --out <split.json>
import { runStageCli } from '@ser/stage-kit';
import { runSplit } from './stage.ts';

await runStageCli(
  {
    inputs: { in: { arg: 'file', desc: 'segment/segments.arrow (label columns id, actor, emotion)' } },
    outputs: { out: { arg: 'file', desc: 'split/split.json' } },
    prog: 'ser-split',
    summary: 'Assigns each clip to train, val or test: per emotion, or by actor with split.by: actor (params split.*).',
    examples: ['ser-split --in artifacts/segment/segments.arrow --out artifacts/split/split.json'],
  },
  runSplit,
);
