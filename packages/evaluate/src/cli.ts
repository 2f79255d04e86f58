// ser-evaluate --features <dir> --model <train/model dir> --out-dir <dir>
import { runStageCli } from '@ser/stage-kit';
import { runEvaluate } from './stage.ts';

await runStageCli(
  {
    inputs: {
      features: { arg: 'dir', desc: 'features stage folder (reads test.arrow)' },
      model: { arg: 'dir', desc: 'trained model folder (train/model)' },
    },
    outputs: { dir: { flag: 'out-dir', arg: 'dir', desc: 'writes metrics.json, the plot files, MODEL_CARD.md and report.html here' } },
    prog: 'ser-evaluate',
    summary: 'Test-set accuracy, per-emotion P/R/F1, confusion matrix, by intensity and gender (params train.backend, seed).',
    examples: ['ser-evaluate --features artifacts/demo/features --model artifacts/demo/train/model --out-dir artifacts/demo/evaluate --profile demo'],
  },
  runEvaluate,
);
