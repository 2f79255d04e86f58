// The tfjs/PyTorch parity check (bench/parity-lib.ts, README "Parity check") on a tiny network:
// our model and training step (batchGrads + crossEntropy + sgdStep of @ser/train) against the
// PyTorch twin (bench/torch_bench.py's Net, loaded with our weights) on the wasm and cpu backends.
// Needs a python3 that can `import torch` (python3 or /usr/bin/python3); skipped otherwise.
import { describe, expect, it } from 'vitest';
import { selectBackend, type ModelConfig } from '../src/index.ts';
import { findTorchPython, formatReport, randomData, runParity, type ParityOptions } from '../bench/parity-lib.ts';

const torchPython = findTorchPython();

const cfg: ModelConfig = {
  channels: [2, 2, 4, 4],
  pool: { kind: 'max', size: [2, 2] },
  dropout: 0.4, // forced to 0 by the check
  cnn_dim: 4,
  transformer_pool: [2, 4],
  transformer_layers: 1,
  d_model: 4,
  heads: 2,
  ffn_dim: 8,
  transformer_dropout: 0.1,
  positional_encoding: 'sinusoidal',
  attention_dim: 4,
};
const input = { nMels: 16, frames: 40 };
const batch = 4;
const steps = 20;
const sgd = { lr: 0.01, momentum: 0.8, weightDecay: 1e-3 };
const opts = (over: Partial<ParityOptions> = {}): ParityOptions => ({
  cfg, input, seed: 3, batch, steps, sgd, python: torchPython!, gateFreeRunning: true,
  data: randomData(input, batch, over.steps ?? steps, 5),
  ...over,
});

describe(`parity with PyTorch (needs python3 with torch (apt-get install python3-torch)${torchPython ? '' : ': NOT FOUND, skipped'})`, () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it.skipIf(!torchPython)(`${backend}: forward, ${steps} SGD steps (free-running and synced) match`, async () => {
      await selectBackend(backend);
      const r = await runParity(opts());
      if (!r.pass || process.env['PARITY_REPORT']) console.log(formatReport(r));
      expect(r.trainable).toBeLessThan(1500);
      expect(r.forwardEval).toBeLessThan(1e-4);
      expect(r.forwardTrain).toBeLessThan(1e-4);
      expect(r.steps).toHaveLength(steps);
      expect(r.maxLossRel).toBeLessThan(1e-3);
      expect(r.maxLossRelSynced).toBeLessThan(1e-3);
      expect(r.maxUpdate).toBeLessThan(1e-2);
      expect(r.failures).toEqual([]);
      expect(r.pass).toBe(true);
    });
  }

  it.skipIf(!torchPython)('fails on a deliberate mismatch (PyTorch with momentum 0.9, ours 0.8)', async () => {
    await selectBackend('cpu');
    const r = await runParity(opts({ steps: 2, mutateManifest: (m) => void (m.sgd.momentum = 0.9) }));
    expect(r.forwardEval).toBeLessThan(1e-4);
    expect(r.steps[0]!.update).toBeLessThan(1e-2); // step 1: the momentum buffer is still 0
    expect(r.steps[1]!.update).toBeGreaterThan(1e-2);
    expect(r.pass).toBe(false);
    expect(r.failures.join('; ')).toMatch(/step 2: synced update/);
  });
});
