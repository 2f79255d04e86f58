// ser-model --out-dir <dir>: the seeded, untrained model of the current params.
// ser-model backends [--json]: which tfjs backends load here, the WebGPU adapter, matmul GFLOP/s.
import { loadStageParams, parseArgs, runCli, UserError } from '@ser/stage-kit';
import { formatBackends, reportBackends } from './backends-report.ts';
import { runModel } from './stage.ts';

const COMMANDS = {
  'ser-model': 'the model stage: writes the seeded, untrained model of the params',
  'ser-model backends': 'lists each tfjs backend: whether it loads (and why not), the WebGPU adapter, a matmul GFLOP/s',
};

await runCli(async (argv) => {
  if (argv[0] === 'backends') {
    const args = parseArgs(argv.slice(1), {
      json: { type: 'boolean', desc: 'one JSON array instead of the table' },
      size: { type: 'string', arg: 'n', desc: 'matmul size n (n x n float32; default 512)' },
    }, {
      prog: 'ser-model backends',
      summary: 'Loads each backend by name (tfjs-node-gpu, tfjs-node, webgpu, wasm, cpu), times an n x n matmul on it, and marks the one `auto` picks.',
      commands: COMMANDS,
      examples: ['ser-model backends', 'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json ser-model backends --json'],
    });
    const n = args['size'] === undefined ? 512 : Number(args['size']);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`--size: expected a positive integer, got '${String(args['size'])}'`);
    const rows = await reportBackends({ n });
    process.stdout.write((args['json'] ? JSON.stringify(rows, null, 2) : formatBackends(rows)) + '\n');
    return;
  }
  const args = parseArgs(argv, { 'out-dir': { type: 'string', required: true, desc: 'directory for model.json, weights.bin, summary.json' } }, {
    prog: 'ser-model',
    commands: COMMANDS,
    summary: 'Writes the seeded, untrained model that the params describe (params model.*, seed, and the feature shape).',
    examples: ['ser-model --out-dir artifacts/demo/model --profile demo'],
  });
  await runModel({ inputs: {}, outputs: { dir: args['out-dir'] as string }, params: loadStageParams({ argv }) });
});
