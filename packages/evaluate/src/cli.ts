// ser-evaluate --features <dir> --model <train/model dir> --out-dir <dir>
import { loadStageParams, parseArgs, runCli } from '@ser/stage-kit';
import { runEvaluateStage } from './stage.ts';

await runCli(async () => {
  const args = parseArgs(process.argv.slice(2), {
    features: { type: 'string', required: true },
    model: { type: 'string', required: true },
    'out-dir': { type: 'string', required: true },
  });
  await runEvaluateStage({
    features: String(args['features']),
    model: String(args['model']),
    outDir: String(args['out-dir']),
    params: loadStageParams(),
  });
});
