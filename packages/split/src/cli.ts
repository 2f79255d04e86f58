// ser-split --in <segments.arrow> --out <split.json>
import { loadStageParams, parseArgs, runCli } from '@ser/stage-kit';
import { runSplit } from './stage.ts';

await runCli(async (argv) => {
  const args = parseArgs(
    argv,
    {
      in: { type: 'string', required: true, arg: 'file', desc: 'segment/segments.arrow (label columns id, actor, emotion)' },
      out: { type: 'string', required: true, arg: 'file', desc: 'split/split.json' },
    },
    {
      prog: 'ser-split',
      summary: 'Assigns each clip to train, val or test: per emotion, or by actor with split.by: actor (params split.*).',
      examples: ['ser-split --in artifacts/segment/segments.arrow --out artifacts/split/split.json'],
    },
  );
  await runSplit({ inputs: { in: args.in as string }, outputs: { out: args.out as string }, params: loadStageParams() });
});
