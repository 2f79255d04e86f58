// ser-evaluate --features <dir> --model <train/model dir> --out-dir <dir>
import { loadStageParams, parseArgs, runCli } from '@ser/stage-kit';
import { runEvaluate } from './stage.ts';

await runCli(async (argv) => {
  const args = parseArgs(
    argv,
    {
      features: { type: 'string', required: true, arg: 'dir', desc: 'features stage folder (reads test.arrow)' },
      model: { type: 'string', required: true, arg: 'dir', desc: 'trained model folder (train/model)' },
      'out-dir': { type: 'string', required: true, arg: 'dir', desc: 'writes metrics.json, confusion.json, per_emotion.json here' },
    },
    {
      prog: 'ser-evaluate',
      summary: 'Test-set accuracy, per-emotion P/R/F1, confusion matrix, by intensity and gender (params train.backend, seed).',
      examples: ['ser-evaluate --features artifacts/demo/features --model artifacts/demo/train/model --out-dir artifacts/demo/evaluate --profile demo'],
    },
  );
  await runEvaluate({
    inputs: { features: String(args['features']), model: String(args['model']) },
    outputs: { dir: String(args['out-dir']) },
    params: loadStageParams(),
  });
});
