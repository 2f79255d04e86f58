// ser-train --features <dir> --init <model dir> --out-dir <dir>
import { loadStageParams, parseArgs, runCli } from '@ser/stage-kit';
import { runTrainStage } from './stage.ts';

await runCli(async () => {
  const args = parseArgs(process.argv.slice(2), {
    features: { type: 'string', required: true },
    init: { type: 'string', required: true },
    'out-dir': { type: 'string', required: true },
    scratch: { type: 'string' },
  });
  await runTrainStage({
    features: String(args['features']),
    init: String(args['init']),
    outDir: String(args['out-dir']),
    params: loadStageParams(),
    ...(args['scratch'] ? { scratch: String(args['scratch']) } : {}),
  });
});
