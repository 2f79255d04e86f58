// ser-train --features <dir> --init <model dir> --out-dir <dir>
import { loadStageParams, parseArgs, runCli, stageScratch } from '@ser/stage-kit';
import { runTrain } from './stage.ts';

await runCli(async (argv) => {
  const args = parseArgs(
    argv,
    {
      features: { type: 'string', required: true, arg: 'dir', desc: 'features stage folder: train.arrow, val.arrow, scaler.arrow' },
      init: { type: 'string', required: true, arg: 'dir', desc: 'untrained model from the model stage (model.json, weights.bin)' },
      'out-dir': { type: 'string', required: true, arg: 'dir', desc: 'writes model/ (best epoch), metrics.json, history.json here' },
      scratch: { type: 'string', arg: 'dir', desc: 'per-epoch checkpoint folder for resuming a killed run (default: $PIPELINE_SCRATCH, else <out-dir>/../.train-scratch)' },
    },
    {
      prog: 'ser-train',
      summary: 'Trains the model with early stopping on the validation loss and saves the best epoch (params train.*, seed).',
      examples: [
        'ser-train --features artifacts/demo/features --init artifacts/demo/model --out-dir artifacts/demo/train --profile demo',
      ],
    },
  );
  const scratch = args['scratch'] ? String(args['scratch']) : stageScratch();
  await runTrain({
    inputs: { features: String(args['features']), init: String(args['init']) },
    outputs: { dir: String(args['out-dir']) },
    params: loadStageParams(),
    ...(scratch ? { scratch } : {}),
  });
});
