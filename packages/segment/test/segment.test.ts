import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { segmentWindow } from '@ser/audio';
import { TensorFileWriter, readTensorFile, readTensorSchema } from '@ser/tensor-io';
import { runSegment, segmentRow } from '../src/index.ts';

const root = resolve(__dirname, '../../..');
const bin = resolve(__dirname, '../bin/ser-segment.mjs');
const dir = mkdtempSync(join(tmpdir(), 'segment-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SR = 1000;
const lengths = [4000, 3200, 2000, 400, 0]; // 4 s, 3.2 s (padded), 2 s (padded), 0.4 s (before offset), empty
const clips = join(dir, 'clips.arrow');

beforeAll(async () => {
  const w = await TensorFileWriter.open(clips, {
    columns: [
      { name: 'id', type: 'utf8' },
      { name: 'actor', type: 'int32' },
      { name: 'emotion', type: 'int32' },
    ],
    shape: [-1],
    metadata: { sample_rate: String(SR), source: 'test' },
  });
  for (const [i, n] of lengths.entries()) {
    await w.write({ labels: { id: `c${i}`, actor: i + 1, emotion: i % 8 }, tensor: Float32Array.from({ length: n }, (_, j) => j + 1) });
  }
  await w.close();
});

describe('segmentWindow (librosa.load(offset, duration) + zero padding)', () => {
  const x = Float32Array.from({ length: 10 }, (_, i) => i + 1);
  it('takes x[int(offset*sr) : +int(duration*sr)] and zero-pads at the end', () => {
    expect(Array.from(segmentWindow(x, 2, 1, 2))).toEqual([3, 4, 5, 6]);
    expect(Array.from(segmentWindow(x, 2, 4, 2))).toEqual([9, 10, 0, 0]);
    expect(Array.from(segmentWindow(x, 2, 6, 1))).toEqual([0, 0]);
    expect(Array.from(segmentWindow(x, 2, 0, 6))).toEqual([...Array.from(x), 0, 0]);
  });
  it('truncates like Python int(): 0.7 s at 22050 Hz starts at sample 15434 (0.7*22050 = 15434.999...)', () => {
    const y = Float32Array.from({ length: 48000 }, (_, i) => i);
    expect(segmentWindow(y, 22050, 0.7, 0.01)[0]).toBe(15434);
    expect(segmentWindow(y, 22050, 0.15, 0.7).length).toBe(15434);
    expect(segmentWindow(y, 48000, 0.5, 3).length).toBe(144000);
    expect(segmentWindow(y, 48000, 0.5, 3)[0]).toBe(24000);
  });
  it('rejects bad arguments', () => {
    expect(() => segmentWindow(x, 2, -1, 1)).toThrow(/offset/);
    expect(() => segmentWindow(x, 2, 0, 0)).toThrow(/duration/);
    expect(() => segmentWindow(x, 2, 0, 0.1)).toThrow(/under one sample/);
  });
  it('segmentRow keeps labels and reports real samples', () => {
    const { row, info } = segmentRow({ labels: { id: 'a' }, tensor: x }, 2, { offset: 1, duration: 5 });
    expect(row.labels).toEqual({ id: 'a' });
    expect(row.tensor.length).toBe(10);
    expect(info.realSamples).toBe(8);
  });
});

describe('runSegment', () => {
  it('writes shape [duration*sr], copies labels and metadata, adds segment_offset/duration', async () => {
    const out = join(dir, 'seg', 'segments.arrow');
    const r = await runSegment({ inputs: { in: clips }, outputs: { out }, params: { segment: { offset: 0.5, duration: 3 } } });
    expect(r).toEqual({ rows: 5, padded: 4, empty: 2 });
    const s = await readTensorSchema(out);
    expect(s.shape).toEqual([3000]);
    expect(s.metadata).toEqual({ sample_rate: '1000', source: 'test', segment_offset: '0.5', segment_duration: '3' });
    const f = await readTensorFile(out, { columns: ['id', 'actor', 'emotion'], shape: [3000] });
    expect(f.labels.id).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    expect(f.labels.actor).toEqual([1, 2, 3, 4, 5]);
    const row = (i: number) => f.data.subarray(i * 3000, (i + 1) * 3000);
    expect(row(0)[0]).toBe(501); // sample 500 holds value 501
    expect(row(0)[2999]).toBe(3500);
    expect(row(1)[2699]).toBe(3200); // 3.2 s clip: 2700 real samples, then zeros
    expect(row(1)[2700]).toBe(0);
    expect(row(2)[1499]).toBe(2000);
    expect(Array.from(row(2).subarray(1500)).every((v) => v === 0)).toBe(true);
    expect(Array.from(row(3)).every((v) => v === 0)).toBe(true);
  });

  it('CLI: same input and params give byte-identical files; bad params name the key and leave no output', () => {
    const env = (params: unknown) => ({ ...process.env, PIPELINE_PARAMS: JSON.stringify(params) });
    const a = join(dir, 'a', 'segments.arrow');
    const b = join(dir, 'b', 'segments.arrow');
    const params = { segment: { offset: 0.25, duration: 2 } };
    const ra = spawnSync(process.execPath, [bin, '--in', clips, '--out', a], { cwd: root, env: env(params), encoding: 'utf8' });
    expect(ra.stderr).toBe('');
    expect(ra.status).toBe(0);
    expect(ra.stdout).toMatch(/5 clips, 3 zero-padded .*, 1 entirely padding/);
    spawnSync(process.execPath, [bin, '--in', clips, '--out', b], { cwd: root, env: env(params), encoding: 'utf8' });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);

    const c = join(dir, 'c', 'segments.arrow');
    const bad = spawnSync(process.execPath, [bin, '--in', clips, '--out', c], {
      cwd: root,
      env: env({ segment: { offset: 'x', duration: 2 } }),
      encoding: 'utf8',
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('error: params: segment.offset must be a number >= 0, got "x"\n');
    expect(existsSync(c)).toBe(false);
  });

  it('rejects input that is missing, not raw audio or lacks sample_rate, naming the file', async () => {
    const nope = join(dir, 'nope.arrow');
    await expect(runSegment({ inputs: { in: nope }, outputs: { out: join(dir, 'x.arrow') }, params: { segment: { offset: 0, duration: 1 } } })).rejects.toThrow(`${nope}: no such file`);
    const fixed = join(dir, 'fixed.arrow');
    const w = await TensorFileWriter.open(fixed, { columns: [{ name: 'id', type: 'utf8' }], shape: [3], metadata: {} });
    await w.close();
    await expect(runSegment({ inputs: { in: fixed }, outputs: { out: join(dir, 'x.arrow') }, params: { segment: { offset: 0, duration: 1 } } })).rejects.toThrow(`${fixed}: expected raw audio of shape [-1]`);
    const nosr = join(dir, 'nosr.arrow');
    const w2 = await TensorFileWriter.open(nosr, { columns: [{ name: 'id', type: 'utf8' }], shape: [-1] });
    await w2.close();
    await expect(runSegment({ inputs: { in: nosr }, outputs: { out: join(dir, 'x.arrow') }, params: { segment: { offset: 0, duration: 1 } } })).rejects.toThrow(
      `${nosr}: schema metadata sample_rate must be a positive integer, got null`,
    );
  });
});
