// The ser-train CLI end to end on a tiny generated dataset: outputs, determinism, kill + resume.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_FILE } from '../src/stage.ts';
import { runTrainCli, tinyParams, writeFixture } from './fixture.ts';

let dir: string;
let fx: { features: string; init: string };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ser-train-'));
  fx = await writeFixture(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs ser-train on the fixture; `killAfter` SIGKILLs it as soon as stdout contains that text. */
const runTrain = (outDir: string, scratch: string, params: object, killAfter?: string, env?: Record<string, string>) =>
  runTrainCli(fx, outDir, scratch, params, killAfter, env);

describe('ser-train', () => {
  it('trains, writes model + preprocess.json + history + metrics, and resumes a killed run to the same bytes', async () => {
    const params = tinyParams({ max_epochs: 4 });
    const a = join(dir, 'a');
    const full = await runTrain(join(a, 'train'), join(a, 'scratch'), params);
    expect(full.stderr).not.toMatch(/error/);
    expect(full.code).toBe(0);
    expect(full.stdout).toMatch(/epoch 1\/4 loss \d\.\d+ acc [\d.]+ val_loss [\d.]+ val_acc [\d.]+ [\d.]+ samples\/s .* ETA/);

    const metrics = JSON.parse(await readFile(join(a, 'train', 'metrics.json'), 'utf8'));
    const history = JSON.parse(await readFile(join(a, 'train', 'history.json'), 'utf8'));
    expect(history.epochs).toHaveLength(4);
    expect(metrics.epochs_run).toBe(4);
    expect(metrics.backend).toBe('cpu');
    expect(metrics).not.toHaveProperty('backend_details'); // machine facts only for a GPU adapter: the demo's metrics stay byte-reproducible
    expect(metrics.best_val_loss).toBe(Math.min(...history.epochs.map((h: { val_loss: number }) => h.val_loss)));
    expect(history.epochs[metrics.best_epoch - 1].val_loss).toBe(metrics.best_val_loss);
    expect(metrics.param_count).toBeGreaterThan(0);
    const pre = JSON.parse(await readFile(join(a, 'train', 'model', 'preprocess.json'), 'utf8'));
    expect(pre).toMatchObject({ sample_rate: 16000, segment_offset: 0.5, segment_duration: 0.1, input_shape: [8, 16] });
    expect(pre.features.n_mels).toBe(8);
    expect(existsSync(join(a, 'scratch', CHECKPOINT_FILE))).toBe(false); // removed after success
    const weights = await readFile(join(a, 'train', 'model', 'weights.bin'));

    // Killed after epoch 1's checkpoint, then rerun with the same scratch dir.
    const b = join(dir, 'b');
    const killed = await runTrain(join(b, 'train'), join(b, 'scratch'), params, 'epoch 1/4 loss'); // the epoch's summary line, after its checkpoint
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(join(b, 'scratch', CHECKPOINT_FILE))).toBe(true);
    expect(existsSync(join(b, 'train', 'model', 'weights.bin'))).toBe(false);
    const resumed = await runTrain(join(b, 'train'), join(b, 'scratch'), params);
    expect(resumed.code).toBe(0);
    const from = Number(/resuming after epoch (\d+)/.exec(resumed.stdout)?.[1]);
    expect(from).toBeGreaterThanOrEqual(1);
    expect(from).toBeLessThan(4);
    expect(resumed.stdout).not.toMatch(/^epoch 1\/4/m);
    expect(await readFile(join(b, 'train', 'model', 'weights.bin'))).toEqual(weights);
    expect(JSON.parse(await readFile(join(b, 'train', 'history.json'), 'utf8'))).toEqual(history);
    // provenance.json: deterministic (no clock), so a resumed run writes the same bytes.
    const provenance = await readFile(join(a, 'train', 'model', 'provenance.json'), 'utf8');
    expect(JSON.parse(provenance)).toMatchObject({ data: { source: 'synthetic' }, profile: 'default' });
    expect(await readFile(join(b, 'train', 'model', 'provenance.json'), 'utf8')).toBe(provenance);

  });

  it('records the data source, profile and params hash in model/provenance.json', async () => {
    const params = { ...tinyParams({ max_epochs: 1 }), data: { source: 'ravdess' } };
    const out = join(dir, 'prov', 'train');
    const r = await runTrain(out, join(dir, 'prov', 'scratch'), params, undefined, { PIPELINE_PROFILE: 'ravdess-cpu' });
    expect(r.code).toBe(0);
    const p = JSON.parse(await readFile(join(out, 'model', 'provenance.json'), 'utf8'));
    expect(p.data.source).toBe('ravdess');
    expect(p.data.licence).toMatch(/^CC BY-NC-SA 4\.0/);
    expect(p.data.warning).toBeNull();
    expect(p.profile).toBe('ravdess-cpu');
    expect(p.params['data.source']).toBe('ravdess');
    expect(p.params['train.lr']).toBe(0.05);
    expect(p.params_sha256).toBe(createHash('sha256').update(JSON.stringify(p.params)).digest('hex'));
  });

  it('refuses a missing or unknown data.source before training, naming the key', async () => {
    const { data: _data, ...noSource } = tinyParams();
    for (const [name, params] of [['none', noSource], ['bad', { ...noSource, data: { source: 'youtube' } }]] as const) {
      const out = join(dir, `src-${name}`, 'train');
      const r = await runTrain(out, join(dir, `src-${name}`, 'scratch'), params);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/params: data\.source (is missing|must be one of "ravdess", "synthetic")/);
      expect(r.stdout).not.toMatch(/epoch 1/);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('names the param key of a bad value and writes nothing', async () => {
    const out = join(dir, 'bad', 'train');
    const r = await runTrain(out, join(dir, 'bad', 'scratch'), tinyParams({ batch_size: 0 }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/train\.batch_size/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });

  it('rejects an unknown spec_augment key and a bad optimizer by name', async () => {
    const a = await runTrain(join(dir, 'sa', 'train'), join(dir, 'sa', 'scratch'), tinyParams({ spec_augment: { freq_masks: 1, freq_width: 2, time_masks: 1, time_widht: 3 } }));
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/train\.spec_augment\.time_widht: unknown key/);
    const b = await runTrain(join(dir, 'opt', 'train'), join(dir, 'opt', 'scratch'), tinyParams({ optimizer: 'rmsprop' }));
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/train\.optimizer/);
  });

  it('ends a diverged run with a message that says so and names the params to look at', async () => {
    const out = join(dir, 'nan', 'train');
    const r = await runTrain(out, join(dir, 'nan', 'scratch'), tinyParams({ lr: 1e30, max_epochs: 3 }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/training diverged: loss NaN at epoch \d+, batch \d+ .*Lower train\.lr/);
    expect(r.stderr).not.toMatch(/internal error/i);
    expect(existsSync(join(out, 'model'))).toBe(false);
  });
});
