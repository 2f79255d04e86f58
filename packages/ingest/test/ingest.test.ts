import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTensorRows, readTensorSchema } from '@ser/tensor-io';
import { parse as parseYaml } from 'yaml';
import { RAVDESS_SPEECH_URL } from '../src/download.ts';
import { emptyDataDirError, ingestCorpus, type IngestOptions } from '../src/stage.ts';
import { ascii, encodeSamples, fmtChunk, ravdessWav, riff, tone } from '@ser/audio/testing';

const ROOT = resolve(__dirname, '../../..');
const BIN = join(ROOT, 'packages/ingest/bin/ser-ingest.mjs');
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'ingest-test-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function put(dir: string, rel: string, bytes: Uint8Array): Promise<void> {
  await mkdir(join(dir, rel, '..'), { recursive: true });
  await writeFile(join(dir, rel), bytes);
}

/** A small good corpus: 2 actors x 3 clips, one stereo, one at 16 kHz (48 kHz otherwise). */
async function goodCorpus(dir: string): Promise<void> {
  await put(dir, 'Actor_01/03-01-01-01-01-01-01.wav', ravdessWav([tone(4800, 200, 48000)]));
  await put(dir, 'Actor_01/03-01-05-02-01-02-01.wav', ravdessWav([tone(4800, 300, 48000), tone(4800, 300, 48000, 0.1)]));
  await put(dir, 'Actor_01/03-01-08-01-02-02-01.wav', ravdessWav([tone(1600, 400, 16000)], 16000));
  await put(dir, 'Actor_02/03-01-02-02-01-01-02.wav', ravdessWav([tone(9600, 500, 48000)]));
  await put(dir, 'Actor_02/03-01-03-01-02-01-02.wav', ravdessWav([tone(4801, 600, 48000)]));
  await put(dir, 'Actor_02/03-01-04-02-02-02-02.wav', ravdessWav([tone(4800, 700, 48000)]));
}

function opts(name: string, over: Partial<IngestOptions> = {}): IngestOptions {
  const base = join(tmp, name);
  return {
    dataDir: join(base, 'data'),
    out: join(base, 'out/ingest/clips.arrow'),
    report: join(base, 'out/ingest/report.json'),
    sampleRate: 48000,
    onError: 'fail',
    dataUrl: '',
    ...over,
  };
}

async function rows(path: string) {
  const out = [];
  for await (const r of readTensorRows(path)) out.push(r);
  return out;
}

describe('ingest stage', () => {
  it('writes one row per clip in sorted path order, with labels, mono audio and sample_rate metadata', async () => {
    const o = opts('good');
    await goodCorpus(o.dataDir);
    await writeFile(join(o.dataDir, 'README.txt'), 'not a wav');
    const report = await ingestCorpus(o);
    expect(report).toMatchObject({ files: 6, ingested: 6, skipped: [], sample_rate: 48000, resampled: 1 });
    expect(report.multichannel).toEqual(['Actor_01/03-01-05-02-01-02-01.wav']);
    expect(report.by_emotion).toEqual({ neutral: 1, calm: 1, happy: 1, sad: 1, angry: 1, fearful: 0, disgust: 0, surprised: 1 });
    expect(report.duration_s).toEqual({ min: 0.1, max: 0.2 });
    expect(JSON.parse(await readFile(o.report, 'utf8'))).toEqual(report);

    const schema = await readTensorSchema(o.out);
    expect(schema.shape).toEqual([-1]);
    expect(schema.metadata?.sample_rate).toBe('48000');
    expect(schema.columns.map((c) => c.name)).toEqual(['id', 'actor', 'gender', 'emotion', 'intensity', 'statement', 'repetition']);
    const r = await rows(o.out);
    expect(r.map((x) => x.labels.id)).toEqual([
      '03-01-01-01-01-01-01',
      '03-01-05-02-01-02-01',
      '03-01-08-01-02-02-01',
      '03-01-02-02-01-01-02',
      '03-01-03-01-02-01-02',
      '03-01-04-02-02-02-02',
    ]);
    expect(r[1]!.labels).toEqual({ id: '03-01-05-02-01-02-01', actor: 1, gender: 'male', emotion: 4, intensity: 2, statement: 1, repetition: 2 });
    expect(r[3]!.labels.gender).toBe('female');
    expect(r.map((x) => x.tensor.length)).toEqual([4800, 4800, 4800, 9600, 4801, 4800]);
    // stereo: mean of the channels (0.5 and 0.1 amplitude tones in phase -> 0.3)
    const peak = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(peak(r[1]!.tensor)).toBeCloseTo(0.3, 3);
    // 16 kHz file resampled x3, still a 0.5-amplitude 400 Hz tone in the middle
    expect(peak(r[2]!.tensor.subarray(1000, 3800))).toBeCloseTo(0.5, 2);
    expect(r[2]!.tensor[2400 + 30]).toBeCloseTo(0.5 * Math.sin((2 * Math.PI * 400 * (2400 + 30)) / 48000), 2);
  });

  it('resamples every clip to ingest.sample_rate (16000)', async () => {
    const o = opts('sr16k', { sampleRate: 16000 });
    await goodCorpus(o.dataDir);
    const report = await ingestCorpus(o);
    expect(report.resampled).toBe(5);
    expect((await readTensorSchema(o.out)).metadata?.sample_rate).toBe('16000');
    expect((await rows(o.out)).map((x) => x.tensor.length)).toEqual([1600, 1600, 1600, 3200, 1601, 1600]);
  });

  it('is deterministic: two runs give byte-identical clips.arrow and report.json', async () => {
    const a = opts('det-a');
    const b = opts('det-b', { dataDir: a.dataDir });
    await goodCorpus(a.dataDir);
    await ingestCorpus(a);
    await ingestCorpus(b);
    expect((await readFile(a.out)).equals(await readFile(b.out))).toBe(true);
    expect((await readFile(a.report)).equals(await readFile(b.report))).toBe(true);
  });

  it('2 worker threads give byte-identical clips.arrow and report.json (resampling, skipped files)', async () => {
    const one = opts('w1', { sampleRate: 16000, onError: 'skip', workers: 1 });
    const two = opts('w2', { dataDir: one.dataDir, sampleRate: 16000, onError: 'skip', workers: 2 });
    await goodCorpus(one.dataDir);
    for (let a = 5; a <= 8; a++) {
      for (let e = 1; e <= 4; e++) await put(one.dataDir, `Actor_0${a}/03-01-0${e}-01-01-01-0${a}.wav`, ravdessWav([tone(48000 + 97 * e, 150 * e + a, 48000)]));
    }
    await put(one.dataDir, 'Actor_05/03-01-05-01-01-01-05.wav', ascii('this is not audio at all'));
    const r1 = await ingestCorpus(one);
    const r2 = await ingestCorpus(two);
    expect(r2.ingested).toBe(6 + 16);
    expect(r2.skipped).toEqual(r1.skipped);
    expect(r2.skipped.map((x) => x.file)).toEqual(['Actor_05/03-01-05-01-01-01-05.wav']);
    expect((await readFile(two.out)).equals(await readFile(one.out))).toBe(true);
    expect((await readFile(two.report)).equals(await readFile(one.report))).toBe(true);
  });

  it('2 worker threads, on_error: fail -> the error names the first bad file in path order, no outputs', async () => {
    const o = opts('w2-fail', { workers: 2 });
    await goodCorpus(o.dataDir);
    await put(o.dataDir, 'Actor_03/03-01-02-01-01-02-03.wav', ascii('this is not audio at all'));
    await put(o.dataDir, 'Actor_04/03-01-02-01-01-02-04.wav', ascii('neither is this'));
    const err = await ingestCorpus(o).then(() => null, (e: Error) => e);
    expect(err?.name).toBe('UserError');
    expect(err?.message).toContain(join(o.dataDir, 'Actor_03/03-01-02-01-01-02-03.wav'));
    expect(err?.message).toMatch(/not a RIFF\/WAVE file/);
    expect(existsSync(o.out)).toBe(false);
    expect(existsSync(o.report)).toBe(false);
    const outDir = join(o.out, '..');
    expect(existsSync(outDir) ? await readdir(outDir) : []).toEqual([]);
  });

  const badFiles: [string, Uint8Array, RegExp][] = [
    ['Actor_03/03-01-02-01-01-01-03.wav', ravdessWav([tone(480, 100, 48000)]).subarray(0, 4096 + 100), /truncated data: 'data' chunk declares 960 bytes, only 100 present/],
    ['Actor_03/03-01-02-01-01-02-03.wav', ascii('this is not audio at all'), /not a RIFF\/WAVE file/],
    ['Actor_03/03-01-02-01-02-01-03.wav', riff([fmtChunk({ channels: 1, rate: 48000, bits: 16 }), { id: 'data', body: new Uint8Array(0) }]), /zero frames/],
    ['Actor_03/03-01-02-01-02-02-03.wav', riff([fmtChunk({ tag: 2, channels: 1, rate: 48000, bits: 4, blockAlign: 256 }), { id: 'data', body: new Uint8Array(512) }]), /unsupported codec: format tag 0x0002 \(Microsoft ADPCM\)/],
    ['Actor_03/03-02-02-01-02-02-03.wav', ravdessWav([tone(480, 100, 48000)]), /vocal channel 02 \(song\)/],
    ['Actor_03/take2.wav', ravdessWav([tone(480, 100, 48000)]), /bad RAVDESS name/],
    ['Actor_03/03-01-02-02-02-02-04.wav', ravdessWav([tone(480, 100, 48000)]), /actor 04 in the name, but the file is in folder Actor_03/],
    ['Actor_03/03-01-03-01-01-01-03.wav', riff([{ id: 'data', body: encodeSamples([[0.1, 0.2]], 16) }]), /no 'fmt ' chunk/],
  ];

  it('on_error: fail -> one error naming the bad file, and no outputs', async () => {
    for (const [rel, bytes, re] of badFiles) {
      const o = opts(`fail-${rel.replace(/\W/g, '_')}`);
      await goodCorpus(o.dataDir);
      await put(o.dataDir, rel, bytes);
      const err = await ingestCorpus(o).then(() => null, (e: Error) => e);
      expect(err?.name).toBe('UserError');
      expect(err?.message).toContain(join(o.dataDir, rel));
      expect(err?.message).toMatch(re);
      expect(err?.message).toContain('ingest.on_error: skip');
      expect(existsSync(o.out)).toBe(false);
      expect(existsSync(o.report)).toBe(false);
      // no temp files left next to the outputs either
      const outDir = join(o.out, '..');
      expect(existsSync(outDir) ? await readdir(outDir) : []).toEqual([]);
    }
  });

  it('on_error: skip -> good files ingested, each bad one listed with its reason', async () => {
    const o = opts('skip', { onError: 'skip' });
    await goodCorpus(o.dataDir);
    for (const [rel, bytes] of badFiles) await put(o.dataDir, rel, bytes);
    // the same id twice (in another folder): the second is skipped as a duplicate
    await put(o.dataDir, 'copy/03-01-01-01-01-01-01.wav', ravdessWav([tone(480, 100, 48000)]));
    const report = await ingestCorpus(o);
    expect(report.files).toBe(6 + badFiles.length + 1);
    expect(report.ingested).toBe(6);
    const sorted = [...badFiles].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    expect(report.skipped.map((s) => s.file)).toEqual([...sorted.map((b) => b[0]), 'copy/03-01-01-01-01-01-01.wav']);
    sorted.forEach(([, , re], i) => expect(report.skipped[i]!.reason).toMatch(re));
    expect(report.skipped.at(-1)?.reason).toMatch(/duplicate clip id 03-01-01-01-01-01-01 \(also Actor_01\/03-01-01-01-01-01-01\.wav\)/);
    expect(JSON.parse(await readFile(o.report, 'utf8')).skipped).toEqual(report.skipped);
    expect((await rows(o.out)).length).toBe(6);
  });

  it('skip mode with nothing usable is still an error', async () => {
    const o = opts('allbad', { onError: 'skip' });
    await put(o.dataDir, 'x.wav', ascii('nope'));
    await expect(ingestCorpus(o)).rejects.toThrow(/none of the 1 WAV files could be ingested \(first problem: x\.wav: bad RAVDESS name/);
    expect(existsSync(o.out)).toBe(false);
  });

  it('missing or empty data.dir -> says how to get the corpus', async () => {
    const o = opts('empty');
    await expect(ingestCorpus(o)).rejects.toThrow(/data\.dir .*empty[/\\]data does not exist: put the RAVDESS speech corpus there \(Audio_Speech_Actors_01-24\.zip from Zenodo record 1188976/);
    await mkdir(o.dataDir, { recursive: true });
    await expect(ingestCorpus(o)).rejects.toThrow(/is empty: .*bc696df654c87fed845eb13823edef8a/);
    await expect(ingestCorpus({ ...o, dataUrl: 'http://example.org/x.zip' })).rejects.toThrow(/data\.url is set: run `npx ser-ingest download`/);
  });

  // A missing data.dir is caught by the engine before the stage runs; it prints the stage's
  // `hint` from pipeline.yaml, which must say what the stage's own error says.
  it("pipeline.yaml's ingest hint gives the same ways to get the corpus as the stage's error", async () => {
    const hint = String(parseYaml(await readFile(join(ROOT, 'pipeline.yaml'), 'utf8')).stages.ingest.hint);
    const own = (await emptyDataDirError(join(tmp, 'nowhere'), '')).message;
    const record = /records\/(\d+)\//.exec(RAVDESS_SPEECH_URL)![1]!;
    for (const fact of [`Zenodo record ${record}`, 'Audio_Speech_Actors_01-24.zip', 'npx ser-ingest download', 'set data.dir to where the corpus is', 'npx nx run pipeline:demo']) {
      expect(own).toContain(fact);
      expect(hint).toContain(fact);
    }
  });

  it('CLI: exit 0 with outputs; a bad file exits 1 with one stderr line naming it', async () => {
    const o = opts('cli');
    await goodCorpus(o.dataDir);
    const env = { ...process.env, PIPELINE_PARAMS: JSON.stringify({ data: { url: '' }, ingest: { sample_rate: 16000, on_error: 'fail', workers: 2 } }) };
    const args = [BIN, '--data-dir', o.dataDir, '--out', o.out, '--report', o.report];
    const ok = spawnSync(process.execPath, args, { cwd: ROOT, env, encoding: 'utf8' });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/ingested 6 of 6 files \(0 skipped, 1 multi-channel, 5 resampled to 16000 Hz\) in .* s \(ingest\.workers 2\)/);
    expect(JSON.parse(await readFile(o.report, 'utf8')).ingested).toBe(6);

    await rm(join(o.out, '..'), { recursive: true });
    await put(o.dataDir, 'Actor_09/03-01-02-01-01-01-09.wav', ascii('RIFF'));
    const bad = spawnSync(process.execPath, args, { cwd: ROOT, env, encoding: 'utf8' });
    expect(bad.status).toBe(1);
    const lines = bad.stderr.trim().split('\n');
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain(join(o.dataDir, 'Actor_09/03-01-02-01-01-01-09.wav'));
    expect(lines[0]).toMatch(/truncated header/);
    expect(existsSync(o.out)).toBe(false);

    const badParam = spawnSync(process.execPath, args, {
      cwd: ROOT,
      env: { ...env, PIPELINE_PARAMS: JSON.stringify({ ingest: { sample_rate: 16000, on_error: 'ignore' } }) },
      encoding: 'utf8',
    });
    expect(badParam.status).toBe(1);
    expect(badParam.stderr).toMatch(/params: ingest\.on_error must be one of "fail", "skip", got "ignore"/);
    const badWorkers = spawnSync(process.execPath, args, {
      cwd: ROOT,
      env: { ...env, PIPELINE_PARAMS: JSON.stringify({ ingest: { sample_rate: 16000, on_error: 'fail', workers: 0 } }) },
      encoding: 'utf8',
    });
    expect(badWorkers.status).toBe(1);
    expect(badWorkers.stderr.trim()).toMatch(/params: ingest\.workers must be auto or an integer >= 1, got 0$/);
  });
});
