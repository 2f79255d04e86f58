// The features stage on small Arrow inputs: shapes, labels, lineage metadata, scaler, errors.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { TensorFileWriter, readTensorFile, type TensorSchema } from '@ser/tensor-io';
import { LogMelExtractor, decodeWav, encodeWav } from '@ser/audio';
import { writeFileSync } from 'node:fs';
import { decodeNpy } from '../src/npy.ts';
import { ScalerAccumulator, featureParamsFrom, featureWorkersFrom, logMelConfig, type FeatureParams } from '../src/core.ts';
import { writeFeatures } from '../src/stage.ts';

const run = promisify(execFile);
const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'packages/features/bin/ser-features.mjs');
const SR = 16000;
const SAMPLES = 8000; // 0.5 s
const tmp = mkdtempSync(join(tmpdir(), 'ser-features-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PARAMS: FeatureParams = featureParamsFrom({
  features: { n_fft: 512, win_length: 400, hop_length: 160, n_mels: 24, fmin: 0, fmax: null, ref: 'max', amin: 1e-10, top_db: 80, scaler: 'per_element' },
});

const COLUMNS: TensorSchema['columns'] = [
  { name: 'id', type: 'utf8' },
  { name: 'actor', type: 'int32' },
  { name: 'emotion', type: 'int32' },
  { name: 'copy', type: 'int32' },
];

function signal(seed: number): Float32Array {
  const x = new Float32Array(SAMPLES);
  let s = seed * 7919 + 1;
  const f0 = 100 + 37 * seed;
  for (let i = 0; i < SAMPLES; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const env = i < SAMPLES * 0.8 ? 1 : 0; // a silent tail, as zero-padded segments have
    x[i] = env * (0.3 * Math.sin((2 * Math.PI * f0 * i) / SR) + 0.05 * (s / 2147483648 - 0.5));
  }
  return x;
}

/** Writes augment-like train/val/test.arrow; returns the rows by split. */
async function makeInputs(dir: string, counts = { train: 6, val: 2, test: 3 }, metadata: Record<string, string> = { sample_rate: String(SR), segment_offset: '0.5', segment_duration: '0.5' }) {
  const schema: TensorSchema = { columns: COLUMNS, shape: [SAMPLES], metadata };
  const rows: Record<string, Float32Array[]> = {};
  let seed = 0;
  for (const [split, n] of Object.entries(counts)) {
    const w = await TensorFileWriter.open(join(dir, `${split}.arrow`), schema);
    rows[split] = [];
    for (let i = 0; i < n; i++) {
      const x = signal(seed++);
      rows[split].push(x);
      await w.write({ labels: { id: `${split}-${i}`, actor: 1 + (i % 24), emotion: i % 8, copy: split === 'train' ? i % 3 : 0 }, tensor: x });
    }
    await w.close();
  }
  return rows;
}

describe('features stage', async () => {
  const inDir = join(tmp, 'augment');
  const outDir = join(tmp, 'features');
  const inputs = await makeInputs(inDir);
  const res = await writeFeatures({ inDir, outDir, params: PARAMS });
  const frames = 1 + Math.floor(SAMPLES / 160);

  it('writes [n_mels, frames] log-mel rows equal to LogMelExtractor, labels copied', async () => {
    expect(res.shape).toEqual([24, frames]);
    expect(res.rows).toEqual({ train: 6, val: 2, test: 3 });
    const ex = new LogMelExtractor(logMelConfig(PARAMS, SR));
    for (const split of ['train', 'val', 'test']) {
      const f = await readTensorFile(join(outDir, `${split}.arrow`), { shape: [24, frames], columns: ['id', 'actor', 'emotion', 'copy'] });
      expect(f.count).toBe(inputs[split]!.length);
      expect(f.labels.id).toEqual(inputs[split]!.map((_, i) => `${split}-${i}`));
      expect(f.labels.emotion).toEqual(inputs[split]!.map((_, i) => i % 8));
      const last = inputs[split]!.length - 1;
      expect(Array.from(f.data.subarray(last * 24 * frames, (last + 1) * 24 * frames))).toEqual(Array.from(ex.extract(inputs[split]![last]!)));
    }
  });

  it('copies schema metadata and adds `features` with fmax resolved', async () => {
    const f = await readTensorFile(join(outDir, 'val.arrow'));
    expect(f.schema.metadata?.sample_rate).toBe(String(SR));
    expect(f.schema.metadata?.segment_offset).toBe('0.5');
    const used = JSON.parse(f.schema.metadata!.features!);
    expect(used).toEqual({ ...PARAMS, fmax: SR / 2 });
  });

  it('scaler.arrow: mean/scale fit on train only (sklearn StandardScaler, ddof 0)', async () => {
    const sc = await readTensorFile(join(outDir, 'scaler.arrow'), { shape: [24, frames], columns: ['id'] });
    expect(sc.labels.id).toEqual(['mean', 'scale']);
    const train = await readTensorFile(join(outDir, 'train.arrow'));
    const size = 24 * frames;
    const n = train.count;
    let constant = 0;
    for (let j = 0; j < size; j++) {
      let mu = 0;
      for (let i = 0; i < n; i++) mu += train.data[i * size + j]!;
      mu /= n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (train.data[i * size + j]! - mu) ** 2;
      const std = Math.sqrt(v / n);
      expect(sc.data[j]).toBeCloseTo(mu, 4);
      if (std === 0) {
        constant++;
        expect(sc.data[size + j]).toBe(1);
      } else expect(Math.abs(sc.data[size + j]! - std) / std).toBeLessThan(1e-5);
    }
    expect(constant).toBeGreaterThan(0); // the silent tail sits at the -80 dB floor in every clip
  });

  it('is deterministic: a second run writes byte-identical files, and no temp files remain', async () => {
    const out2 = join(tmp, 'features2');
    await writeFeatures({ inDir, outDir: out2, params: PARAMS });
    for (const f of ['train', 'val', 'test', 'scaler']) {
      expect(readFileSync(join(out2, `${f}.arrow`)).equals(readFileSync(join(outDir, `${f}.arrow`)))).toBe(true);
    }
    expect(readdirSync(out2).sort()).toEqual(['scaler.arrow', 'test.arrow', 'train.arrow', 'val.arrow']);
  });

  it('2 worker threads write byte-identical files (rows in input order through a bounded window)', async () => {
    const many = join(tmp, 'augment-many');
    await makeInputs(many, { train: 19, val: 3, test: 4 }); // more rows than the 8-row window of 2 workers
    const one = join(tmp, 'features-w1');
    const two = join(tmp, 'features-w2');
    await writeFeatures({ inDir: many, outDir: one, params: PARAMS, workers: 1 });
    const r2 = await writeFeatures({ inDir: many, outDir: two, params: PARAMS, workers: 2 });
    expect(r2.rows).toEqual({ train: 19, val: 3, test: 4 });
    for (const f of ['train', 'val', 'test', 'scaler']) {
      expect(readFileSync(join(two, `${f}.arrow`)).equals(readFileSync(join(one, `${f}.arrow`)))).toBe(true);
    }
    expect(readdirSync(two).sort()).toEqual(['scaler.arrow', 'test.arrow', 'train.arrow', 'val.arrow']);
  });

  it('a bad input leaves no output behind and names the file', async () => {
    const bad = join(tmp, 'bad-in');
    await makeInputs(bad, { train: 2, val: 1, test: 1 }, { segment_offset: '0.5' });
    const out = join(tmp, 'bad-out');
    await expect(writeFeatures({ inDir: bad, outDir: out, params: PARAMS })).rejects.toThrow(/train\.arrow: schema metadata sample_rate/);
    expect(existsSync(join(out, 'train.arrow'))).toBe(false);
    const sr8k = join(tmp, 'sr-in');
    await makeInputs(sr8k, { train: 1, val: 1, test: 1 }, { sample_rate: '8000' });
    const p = featureParamsFrom({ features: { ...PARAMS, fmax: 6000 } });
    await expect(writeFeatures({ inDir: sr8k, outDir: out, params: p })).rejects.toThrow(/params: features\.fmax: must be <= sample_rate \/ 2/);
  });
});

describe('featureParamsFrom', () => {
  const ok = { n_fft: 1024, win_length: 512, hop_length: 256, n_mels: 128, fmin: 0, fmax: null, ref: 'max', amin: 1e-10, top_db: 80, scaler: 'per_element' };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ win_length: 2048 }, /features\.win_length: must be <= n_fft/],
    [{ n_fft: 1000 }, /features\.n_fft: must be a power of two/],
    [{ hop_length: 0 }, /features\.hop_length: must be > 0/],
    [{ n_mels: 0 }, /features\.n_mels: must be > 0/],
    [{ ref: 'min' }, /features\.ref: must be "max" or a number/],
    [{ ref: -1 }, /features\.ref: must be > 0/],
    [{ amin: 0 }, /features\.amin: must be > 0/],
    [{ fmin: 100, fmax: 10 }, /features\.fmax: must be > 100/],
    [{ scaler: 'robust' }, /features\.scaler: must be one of per_element, per_mel, global/],
    [{ nmels: 3 }, /features\.nmels: unknown key/],
  ];
  for (const [patch, re] of cases) {
    it(`rejects ${JSON.stringify(patch)}`, () => {
      expect(() => featureParamsFrom({ features: { ...ok, ...patch } })).toThrow(re);
    });
  }
  it('names a missing key', () => {
    const { top_db: _, ...rest } = ok;
    expect(() => featureParamsFrom({ features: rest })).toThrow(/features\.top_db: missing/);
  });
  it('features.workers: auto or N >= 1, missing = 1, not part of the maths params', () => {
    expect(featureWorkersFrom({ features: { ...ok, workers: 'auto' } })).toBe('auto');
    expect(featureWorkersFrom({ features: { ...ok, workers: 3 } })).toBe(3);
    expect(featureWorkersFrom({ features: ok })).toBe(1);
    expect(featureParamsFrom({ features: { ...ok, workers: 2 } })).not.toHaveProperty('workers');
    for (const bad of [0, 1.5, 'many']) {
      expect(() => featureWorkersFrom({ features: { ...ok, workers: bad } })).toThrow(/params: features\.workers must be auto or an integer >= 1/);
    }
  });
  it('accepts params.yaml values and ref as a number', () => {
    expect(featureParamsFrom({ features: { ...ok, ref: 1.0, top_db: null } })).toMatchObject({ ref: 1, top_db: null });
  });
});

describe('ScalerAccumulator per_mel and global', () => {
  const shape: [number, number] = [3, 4];
  const xs = [0, 1, 2, 3].map((k) => Float32Array.from({ length: 12 }, (_, i) => (i < 4 ? 5 : Math.sin(i * 1.3 + k) * (1 + Math.floor(i / 4)))));
  function stats(vals: number[]) {
    const mu = vals.reduce((a, b) => a + b, 0) / vals.length;
    return { mu, std: Math.sqrt(vals.reduce((a, b) => a + (b - mu) ** 2, 0) / vals.length) };
  }
  it('per_mel: one mean/std per mel row over samples and frames; constant row -> scale 1', () => {
    const acc = new ScalerAccumulator('per_mel', shape);
    xs.forEach((x) => acc.add(x));
    const { mean, scale } = acc.finish();
    for (let m = 0; m < 3; m++) {
      const { mu, std } = stats(xs.flatMap((x) => Array.from(x.subarray(m * 4, m * 4 + 4))));
      for (let t = 0; t < 4; t++) {
        expect(mean[m * 4 + t]).toBeCloseTo(mu, 5);
        expect(scale[m * 4 + t]).toBeCloseTo(m === 0 ? 1 : std, 5);
      }
    }
  });
  it('global: one mean/std over everything', () => {
    const acc = new ScalerAccumulator('global', shape);
    xs.forEach((x) => acc.add(x));
    const { mean, scale } = acc.finish();
    const { mu, std } = stats(xs.flatMap((x) => Array.from(x)));
    expect(mean.every((v) => Math.abs(v - mu) < 1e-5)).toBe(true);
    expect(scale.every((v) => Math.abs(v - std) < 1e-5)).toBe(true);
  });
});

describe('ser-features CLI', () => {
  it('stage: runs end to end; a bad param exits 1 with one line naming the key', async () => {
    const inDir = join(tmp, 'cli-in');
    await makeInputs(inDir, { train: 2, val: 1, test: 1 });
    const env = { ...process.env, PIPELINE_PARAMS: JSON.stringify({ features: { ...PARAMS, workers: 2 } }) };
    const out = join(tmp, 'cli-out');
    const r = await run(process.execPath, [BIN, 'stage', '--in-dir', inDir, '--out-dir', out], { env, cwd: ROOT });
    expect(r.stdout).toMatch(/done: train 2, val 1, test 1 rows.*\(features\.workers 2\)/);
    expect(existsSync(join(out, 'scaler.arrow'))).toBe(true);
    const badEnv = { ...process.env, PIPELINE_PARAMS: JSON.stringify({ features: { ...PARAMS, n_mels: -3 } }) };
    const err = await run(process.execPath, [BIN, 'stage', '--in-dir', inDir, '--out-dir', join(tmp, 'cli-bad')], { env: badEnv, cwd: ROOT }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr.trim().split('\n')).toEqual(['error: params: features.n_mels: must be > 0, got -3']);
    expect(existsSync(join(tmp, 'cli-bad'))).toBe(false);
  });

  it('single file: <wav> --out x.npy equals LogMelExtractor on the 0.5 s + 3 s window; bad WAV -> one line', async () => {
    const sr = 48000;
    const x = new Float32Array(Math.round(3.7 * sr));
    for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * 440 * i) / sr) * Math.sin((2 * Math.PI * 2 * i) / sr);
    const wav = join(tmp, 'a.wav');
    writeFileSync(wav, encodeWav([x], { sampleRate: sr }));
    const out = join(tmp, 'a.npy');
    await run(process.execPath, [BIN, wav, '--out', out, '--n-mels', '40', '--offset', '0.5', '--duration', '3', '--sample-rate', '48000', '--ref', 'max'], { cwd: tmp });
    const got = decodeNpy(readFileSync(out));
    expect(got.shape).toEqual([40, 563]);
    // The same clip through the library: the decoded 16-bit samples from 0.5 s, zero-padded to 3 s.
    const q = decodeWav(readFileSync(wav), wav).mono;
    const seg = new Float32Array(3 * sr);
    seg.set(q.subarray(sr / 2, sr / 2 + 3 * sr));
    const want = new LogMelExtractor({ sampleRate: sr, nFft: 1024, winLength: 512, hopLength: 256, nMels: 40, fmin: 0, fmax: sr / 2, ref: 'max', amin: 1e-10, topDb: 80 }).extract(seg);
    expect(maxAbs(got.data, want)).toBe(0);
    const bad = join(tmp, 'bad.wav');
    writeFileSync(bad, 'not a wav');
    const err = await run(process.execPath, [BIN, bad, '--out', join(tmp, 'b.npy')], { cwd: tmp }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr.trim().split('\n')).toHaveLength(1);
    expect(err.stderr).toContain(bad);
    expect(existsSync(join(tmp, 'b.npy'))).toBe(false);
  });
});

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  return e;
}
