import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAwgn, measuredSnrDb, signalPower } from '@ser/audio';
import { createRng } from '@ser/stage-kit';
import { TensorFileWriter, readTensorFile, readTensorSchema } from '@ser/tensor-io';
import { augmentClip, copySeed, runAugment } from '../src/index.ts';

const root = resolve(__dirname, '../../..');
const bin = resolve(__dirname, '../bin/ser-augment.mjs');
const dir = mkdtempSync(join(tmpdir(), 'augment-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const N = 4000;
/** A voiced-ish test clip: a decaying harmonic tone, different per i, quiet start. */
function clip(i: number): Float32Array {
  const f0 = 100 + 20 * i;
  return Float32Array.from({ length: N }, (_, t) => (t < 500 ? 0 : (0.3 + 0.05 * i) * Math.exp(-t / 3000) * (Math.sin((2 * Math.PI * f0 * t) / 8000) + 0.4 * Math.sin((4 * Math.PI * f0 * t) / 8000))));
}

describe('addAwgn', () => {
  it('achieves the requested SNR (float32 output) within 0.01 dB, for many draws', () => {
    const rng = createRng(3);
    const x = clip(2);
    for (let k = 0; k < 30; k++) {
      const snr = 15 + 15 * rng.next();
      const y = addAwgn(x, snr, rng);
      expect(Math.abs(measuredSnrDb(x, y) - snr)).toBeLessThan(0.01);
    }
  });
  it('the noise is white Gaussian: zero mean, flat (no lag-1 correlation)', () => {
    const x = new Float32Array(50_000).fill(1); // P(x) = 1
    const y = addAwgn(x, 0, createRng(11)); // noise power 1
    let m = 0;
    let r1 = 0;
    for (let i = 0; i < y.length; i++) m += y[i]! - 1;
    for (let i = 1; i < y.length; i++) r1 += (y[i]! - 1) * (y[i - 1]! - 1);
    expect(Math.abs(m / y.length)).toBeLessThan(0.02);
    expect(Math.abs(r1 / y.length)).toBeLessThan(0.02);
    expect(signalPower(Float32Array.from(y, (v) => v - 1))).toBeCloseTo(1, 4);
  });
  it('a silent clip stays silent', () => {
    expect(Array.from(addAwgn(new Float32Array(8), 20, createRng(1)))).toEqual(new Array(8).fill(0));
  });
});

describe('augmentClip', () => {
  const p = { copies: 2, snrDb: [15, 30] as [number, number], seed: 42 };
  it('clean first, then copies with drawn SNR in range, achieved within 0.1 dB', () => {
    const x = clip(1);
    const rows = augmentClip(x, 'a', p);
    expect(rows.map((r) => r.copy)).toEqual([0, 1, 2]);
    expect(Number.isNaN(rows[0]!.snrDb)).toBe(true);
    expect(rows[0]!.tensor).toBe(x);
    for (const r of rows.slice(1)) {
      expect(r.snrDb).toBeGreaterThanOrEqual(15);
      expect(r.snrDb).toBeLessThan(30);
      expect(Math.abs(measuredSnrDb(x, r.tensor) - r.snrDb)).toBeLessThan(0.1);
    }
    expect(rows[1]!.snrDb).not.toBe(rows[2]!.snrDb);
  });
  it('depends only on (seed, id, copy); SNRs cover the range uniformly', () => {
    const x = clip(0);
    expect(augmentClip(x, 'a', p)[1]!.tensor).toEqual(augmentClip(x, 'a', p)[1]!.tensor);
    expect(augmentClip(x, 'b', p)[1]!.snrDb).not.toBe(augmentClip(x, 'a', p)[1]!.snrDb);
    expect(copySeed(42, 'a', 1)).not.toBe(copySeed(43, 'a', 1));
    const snrs = Array.from({ length: 2000 }, (_, i) => createRng(copySeed(42, `id${i}`, 1)).uniform(15, 30));
    const bins = [0, 0, 0];
    for (const s of snrs) bins[Math.floor((s - 15) / 5)]!++;
    for (const b of bins) expect(Math.abs(b - 2000 / 3)).toBeLessThan(80);
  });
  it('silent clip: copies without noise, snr_db = Infinity', () => {
    const rows = augmentClip(new Float32Array(10), 'z', p);
    expect(rows[1]!.snrDb).toBe(Infinity);
    expect(Array.from(rows[2]!.tensor)).toEqual(new Array(10).fill(0));
  });
});

describe('stage', () => {
  const segments = join(dir, 'segments.arrow');
  const splitPath = join(dir, 'split.json');
  const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);
  const split = { by: 'random', seed: 1, train: ids.slice(0, 6), val: ids.slice(6, 8), test: ids.slice(8) };
  const params = { augment: { copies: 2, snr_db: [15, 30], seed: 42 } };
  beforeAll(async () => {
    const w = await TensorFileWriter.open(segments, {
      columns: [
        { name: 'id', type: 'utf8' },
        { name: 'actor', type: 'int32' },
        { name: 'emotion', type: 'int32' },
      ],
      shape: [N],
      metadata: { sample_rate: '8000', segment_offset: '0.5', segment_duration: '0.5' },
    }, { batchRows: 4 });
    // Interleave splits in the row order, as a real corpus does.
    for (const i of [3, 7, 0, 9, 1, 2, 8, 4, 6, 5]) await w.write({ labels: { id: ids[i]!, actor: i + 1, emotion: i % 8 }, tensor: clip(i) });
    await w.close();
    writeFileSync(splitPath, JSON.stringify(split));
  });

  it('train = clean + 2 noisy per clip at the drawn SNR; val/test untouched; lineage metadata', async () => {
    const out = join(dir, 'out');
    expect(await runAugment({ inputs: { in: segments, split: splitPath }, outputs: { dir: out }, params })).toEqual({ train: 18, val: 2, test: 2 });
    const s = await readTensorSchema(join(out, 'train.arrow'));
    expect(s.columns.map((c) => c.name)).toEqual(['id', 'actor', 'emotion', 'copy', 'snr_db']);
    expect(s.metadata).toEqual({ sample_rate: '8000', segment_offset: '0.5', segment_duration: '0.5', augment: '{"copies":2,"snr_db":[15,30],"seed":42}' });
    const t = await readTensorFile(join(out, 'train.arrow'), { shape: [N] });
    expect(t.labels.id).toEqual(['c3', 'c3', 'c3', 'c0', 'c0', 'c0', 'c1', 'c1', 'c1', 'c2', 'c2', 'c2', 'c4', 'c4', 'c4', 'c5', 'c5', 'c5']);
    expect(t.labels.copy).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
    for (let r = 0; r < t.count; r++) {
      const x = clip(Number(String(t.labels.id![r]).slice(1)));
      const y = t.data.subarray(r * N, (r + 1) * N);
      const snr = t.labels.snr_db![r] as number;
      if (t.labels.copy![r] === 0) {
        expect(Number.isNaN(snr)).toBe(true);
        expect(y).toEqual(x);
      } else {
        expect(snr).toBeGreaterThanOrEqual(15);
        expect(snr).toBeLessThan(30);
        expect(Math.abs(measuredSnrDb(x, y) - snr)).toBeLessThan(0.1);
      }
    }
    for (const name of ['val', 'test'] as const) {
      const f = await readTensorFile(join(out, `${name}.arrow`));
      expect([...f.labels.id!].sort()).toEqual(split[name]);
      expect(f.labels.copy).toEqual([0, 0]);
      expect(f.labels.snr_db!.every((v) => Number.isNaN(v))).toBe(true);
      f.labels.id!.forEach((id, r) => expect(f.data.subarray(r * N, (r + 1) * N)).toEqual(clip(Number(String(id).slice(1)))));
    }
  });

  it('same seed -> byte-identical files; another seed -> different noise', async () => {
    const a = join(dir, 'det-a');
    const b = join(dir, 'det-b');
    const c = join(dir, 'det-c');
    await runAugment({ inputs: { in: segments, split: splitPath }, outputs: { dir: a }, params });
    await runAugment({ inputs: { in: segments, split: splitPath }, outputs: { dir: b }, params });
    await runAugment({ inputs: { in: segments, split: splitPath }, outputs: { dir: c }, params: { augment: { ...params.augment, seed: 7 } } });
    for (const f of ['train.arrow', 'val.arrow', 'test.arrow']) expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f)))).toBe(true);
    expect(readFileSync(join(a, 'train.arrow')).equals(readFileSync(join(c, 'train.arrow')))).toBe(false);
  });

  it('a stale split.json names the clip and the file, and leaves no output', async () => {
    const stale = join(dir, 'stale.json');
    writeFileSync(stale, JSON.stringify({ ...split, test: ['c8'] }));
    const out = join(dir, 'stale-out');
    await expect(runAugment({ inputs: { in: segments, split: stale }, outputs: { dir: out }, params })).rejects.toThrow(`${stale}: clip "c9" of ${segments} is in no split`);
    expect(existsSync(out)).toBe(false);
    const extra = join(dir, 'extra.json');
    writeFileSync(extra, JSON.stringify({ ...split, test: ['c8', 'c9', 'c99'] }));
    await expect(runAugment({ inputs: { in: segments, split: extra }, outputs: { dir: out }, params })).rejects.toThrow(`${extra}: clip "c99" is not in ${segments}`);
    const twice = join(dir, 'twice.json');
    writeFileSync(twice, JSON.stringify({ ...split, test: ['c8', 'c9', 'c0'] }));
    await expect(runAugment({ inputs: { in: segments, split: twice }, outputs: { dir: out }, params })).rejects.toThrow(`${twice}: clip "c0" is in both train and test`);
    expect(existsSync(out)).toBe(false);
  });

  it('CLI: bad params give one line naming the key, exit 1, no output', () => {
    const out = join(dir, 'cli-bad');
    const r = spawnSync(process.execPath, [bin, '--in', segments, '--split', splitPath, '--out-dir', out], {
      cwd: root,
      env: { ...process.env, PIPELINE_PARAMS: JSON.stringify({ augment: { copies: 2, snr_db: [15], seed: 42 } }) },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('error: params: augment.snr_db must be an array of 2, got [15]\n');
    expect(existsSync(out)).toBe(false);
  });
});
