// ser-generate --out <dir>: write the synthetic RAVDESS-shaped demo corpus (params `generate.*`).
import { loadStageParams, parseArgs, runCli } from '@ser/stage-kit';
import { runGenerate } from './stage.ts';

await runCli(async (argv) => {
  const args = parseArgs(argv, { out: { type: 'string', required: true, arg: 'dir', desc: 'corpus folder to write (Actor_XX/*.wav)' } }, {
    prog: 'ser-generate',
    summary: 'Writes the synthetic RAVDESS-shaped demo corpus (params generate.*): RAVDESS file names, RIFF quirks, some stereo files.',
    examples: ['ser-generate --out artifacts/demo/generate/corpus --profile demo'],
  });
  await runGenerate({ inputs: {}, outputs: { dir: String(args.out) }, params: loadStageParams({ argv }) });
});
