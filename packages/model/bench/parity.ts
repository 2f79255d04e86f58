// tfjs/PyTorch parity check of the network and its training step (see README.md, "Parity check").
// Usage: npm run parity -w packages/model -- [--profile demo] [--features <dir>] [--backend wasm|cpu]
//        [--steps 20] [--batch <train.batch_size>] [--lr <train.lr>] [--reference] [--gate-free-running] [--set <json>] [--keep <dir>]
// Exit 0 = PASS, 1 = FAIL (or an error), 2 = no python3 with torch.
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { deepMerge, getParam, loadStageParams, num, parseArgs, runCli, UserError, type Params } from '@ser/stage-kit';
import { selectBackend, modelConfigFrom, inputShapeFrom, type BackendName } from '../src/index.ts';
import { featuresData, findTorchPython, formatReport, randomData, runParity } from './parity-lib.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
// Relative paths are from where the command was typed (npm run -w changes the cwd to packages/model).
const cwd = process.env['INIT_CWD'] ?? process.cwd();

await runCli(async (argv) => {
  const a = parseArgs(
    argv,
    {
      features: { type: 'string', desc: 'features dir (train.arrow + scaler.arrow); default: random log-mel batches' },
      backend: { type: 'string', default: 'wasm', desc: 'tfjs backend: wasm | cpu' },
      steps: { type: 'string', default: '20', desc: 'SGD steps compared' },
      batch: { type: 'string', desc: 'batch size (default: params train.batch_size)' },
      lr: { type: 'string', desc: 'learning rate (default: params train.lr)' },
      'data-seed': { type: 'string', default: '1', desc: 'seed of the random data / of the row permutation' },
      'gate-free-running': { type: 'boolean', desc: 'also fail when a free-running step differs by more than the loss tolerance' },
      reference: { type: 'boolean', desc: 'also run PyTorch in float64: the drift of float32 PyTorch from it is the noise floor' },
      set: { type: 'string', desc: 'JSON merged over the params, e.g. \'{"model":{"channels":[8,8,16,16]}}\'' },
      keep: { type: 'string', desc: 'keep the exchange files (weights, batches, PyTorch results) in this dir' },
    },
    { prog: 'parity' },
  );
  const profile = typeof a['profile'] === 'string' ? a['profile'] : 'demo';
  let params = loadStageParams({ cwd: root, argv: profile === 'paper' ? [] : ['--profile', profile], env: {} });
  if (typeof a['set'] === 'string') {
    try {
      params = deepMerge(params, JSON.parse(a['set'])) as Params;
    } catch (e) {
      throw new UserError(`--set: ${(e as Error).message}`);
    }
  }
  const backend = String(a['backend'] ?? 'wasm');
  if (backend !== 'wasm' && backend !== 'cpu') throw new UserError(`--backend: wasm or cpu, got ${backend}`);
  const int = (k: string, v: unknown): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`--${k}: a positive integer, got ${String(v)}`);
    return n;
  };
  const python = findTorchPython();
  if (!python) {
    console.error('parity: no python3 with torch (tried python3, /usr/bin/python3; apt-get install python3-torch)');
    process.exit(2);
  }
  await selectBackend(backend as BackendName);
  const cfg = modelConfigFrom(params);
  const input = inputShapeFrom(params);
  const seed = getParam(params, 'seed', num({ integer: true, min: 0 }));
  const steps = int('steps', a['steps'] ?? '20');
  const batch = a['batch'] !== undefined ? int('batch', a['batch']) : getParam(params, 'train.batch_size', num({ integer: true, min: 1 }));
  const lr = a['lr'] !== undefined ? Number(a['lr']) : getParam(params, 'train.lr', num({ min: 0 }));
  if (!(lr >= 0)) throw new UserError(`--lr: a number >= 0, got ${String(a['lr'])}`);
  const sgd = {
    lr,
    momentum: getParam(params, 'train.momentum', num({ min: 0 })),
    weightDecay: getParam(params, 'train.weight_decay', num({ min: 0 })),
  };
  const dataSeed = int('data-seed', a['data-seed'] ?? '1');
  const data = typeof a['features'] === 'string'
    ? await featuresData(resolve(cwd, a['features']), input, batch, steps, dataSeed)
    : randomData(input, batch, steps, dataSeed);
  console.log(
    `parity: profile ${profile}, input ${input.nMels} x ${input.frames}, seed ${seed}, batch ${batch}, ${steps} steps, ` +
      `SGD lr ${sgd.lr} momentum ${sgd.momentum} weight_decay ${sgd.weightDecay}, dropout off; data: ${data.source}; python: ${python}`,
  );
  const opt = (params['train'] as Record<string, unknown> | undefined)?.['optimizer'];
  if (opt !== undefined && opt !== 'sgd') {
    console.log(`parity: note: params train.optimizer is ${String(opt)} (schedule, clipping, label smoothing, SpecAugment too, if set): the check takes plain SGD steps with its lr, momentum and weight_decay`);
  }
  const r = await runParity({
    cfg, input, seed, batch, steps, sgd, data, python,
    reference: a['reference'] === true,
    gateFreeRunning: a['gate-free-running'] === true,
    ...(typeof a['keep'] === 'string' ? { keepDir: resolve(cwd, a['keep']) } : {}),
  });
  console.log(formatReport(r));
  process.exitCode = r.pass ? 0 : 1;
});
