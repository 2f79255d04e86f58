// ser-train --features <dir> --init <model dir> --out-dir <dir> [--scratch <dir>]
import { runStageCli, stageScratch } from '@ser/stage-kit';
import { runTrain } from './stage.ts';

await runStageCli(
  {
    inputs: {
      features: { arg: 'dir', desc: 'features stage folder: train.arrow, val.arrow, scaler.arrow' },
      init: { arg: 'dir', desc: 'untrained model from the model stage (model.json, weights.bin)' },
    },
    outputs: { dir: { flag: 'out-dir', arg: 'dir', desc: 'writes model/ (best epoch), metrics.json, history.json here' } },
    extra: {
      scratch: { type: 'string', arg: 'dir', desc: 'per-epoch checkpoint folder for resuming a killed run (default: $PIPELINE_SCRATCH, else <out-dir>/../.train-scratch)' },
    },
    prog: 'ser-train',
    summary: 'Trains the model with early stopping on the validation loss and saves the best epoch (params train.*, seed).',
    examples: ['ser-train --features artifacts/demo/features --init artifacts/demo/model --out-dir artifacts/demo/train --profile demo'],
  },
  (args, flags) => {
    const scratch = flags['scratch'] ? String(flags['scratch']) : stageScratch();
    return runTrain({ ...args, ...(scratch ? { scratch } : {}) });
  },
);
