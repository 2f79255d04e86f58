// ser-model --out-dir <dir>: the seeded, untrained model of the current params.
import { loadStageParams, log, parseArgs, runCli } from '@ser/stage-kit';
import { runModelStage } from './stage.ts';

await runCli(async (argv) => {
  const args = parseArgs(argv, { 'out-dir': { type: 'string', required: true, desc: 'directory for model.json, weights.bin, summary.json' } }, {
    prog: 'ser-model',
    summary: 'Writes the seeded, untrained model that the params describe (params model.*, seed, and the feature shape).',
    examples: ['ser-model --out-dir artifacts/demo/model --profile demo'],
  });
  await runModelStage(loadStageParams({ argv }), args['out-dir'] as string, log);
});
