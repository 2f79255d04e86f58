import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeWav } from '@ser/audio';
import { ParamError } from '@ser/stage-kit';
import { actorClips, clipPath, clipWav, corpusClips, generateOptionsFrom, ravdessStem, synthesizeClip, writeCorpus } from '../src/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ser-generate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const NAME = /^Actor_(\d\d)\/03-01-(0[1-8])-(0[12])-(0[12])-(0[12])-(\d\d)\.wav$/;

/** RIFF chunk list: [id, payload offset, size]. */
function chunkList(b: Uint8Array): [string, number, number][] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: [string, number, number][] = [];
  for (let p = 12; p < b.length; ) {
    const size = v.getUint32(p + 4, true);
    out.push([String.fromCharCode(...b.subarray(p, p + 4)), p + 8, size]);
    if (size & 1) expect(b[p + 8 + size]).toBe(0);
    p += 8 + size + (size & 1);
  }
  return out;
}

function listWavs(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.wav'))
    .sort();
}

describe('corpus plan', () => {
  it('has 24 actors x 60 clips named as RAVDESS, neutral 4 and the others 8 per actor', () => {
    const clips = corpusClips(24, 60);
    expect(clips.length).toBe(1440);
    const paths = clips.map(clipPath);
    expect(new Set(paths).size).toBe(1440);
    for (const [i, p] of paths.entries()) {
      const m = NAME.exec(p);
      expect(m, p).not.toBeNull();
      expect(m![1]).toBe(m![6]); // folder actor = file actor
      if (m![2] === '01') expect(m![3]).toBe('01'); // neutral: normal intensity only
      expect(ravdessStem(clips[i]!)).toBe(p.slice(9, -4));
    }
    for (let a = 1; a <= 24; a++) {
      const mine = clips.filter((c) => c.actor === a);
      expect(mine.length).toBe(60);
      for (let e = 1; e <= 8; e++) expect(mine.filter((c) => c.emotion === e).length).toBe(e === 1 ? 4 : 8);
    }
  });

  it('orders each actor so that a prefix is balanced over emotions', () => {
    const first8 = actorClips(3).slice(0, 8);
    expect(new Set(first8.map((c) => c.emotion)).size).toBe(8);
    expect(corpusClips(2, 16).length).toBe(32);
  });
});

describe('generated files', () => {
  const opts = { seed: 11, actors: 2, clipsPerActor: 16, stereoFiles: 5, sampleRate: 48000 };
  const dirA = join(tmp, 'a');
  const dirB = join(tmp, 'b');
  let filesA: string[] = [];

  it('writes Actor_XX/<stem>.wav for every clip, 5 of them stereo', async () => {
    const s = await writeCorpus(dirA, opts);
    filesA = listWavs(dirA);
    expect(filesA.length).toBe(32);
    expect(s.files).toBe(32);
    expect(filesA).toEqual(corpusClips(2, 16).map(clipPath).sort());
    expect(readdirSync(tmp).filter((f) => f.includes('.partial-'))).toEqual([]);
    let stereo = 0;
    for (const f of filesA) {
      const b = readFileSync(join(dirA, f));
      if (new DataView(b.buffer, b.byteOffset).getUint16(22, true) === 2) stereo++;
    }
    expect(stereo).toBe(5);
    expect(s.stereo.length).toBe(5);
  });

  it('is deterministic: same seed -> byte-identical files; another seed -> different ones', async () => {
    await writeCorpus(dirB, opts);
    const pick = filesA.filter((_, i) => i % 7 === 0);
    for (const f of pick) expect(sha(readFileSync(join(dirB, f))), f).toBe(sha(readFileSync(join(dirA, f))));
    const c = corpusClips(1, 1)[0]!;
    expect(sha(clipWav({ seed: 12, sampleRate: 48000 }, c, false, 0))).not.toBe(sha(readFileSync(join(dirA, clipPath(c)))));
    // Generating one clip alone gives the same bytes as inside the corpus (per-clip streams).
    const all = corpusClips(2, 16);
    const idx = 21;
    const bytes = readFileSync(join(dirA, clipPath(all[idx]!)));
    const stereo = bytes.readUInt16LE(22) === 2;
    expect(sha(clipWav(opts, all[idx]!, stereo, idx))).toBe(sha(bytes));
  });

  it('has the RAVDESS RIFF layout: fmt 16, FLLR 4044, data at 4096, then LIST, bext, _PMX; 48 kHz 16-bit', () => {
    let odd = 0;
    for (const f of filesA) {
      const b = readFileSync(join(dirA, f));
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      expect(String.fromCharCode(...b.subarray(0, 4))).toBe('RIFF');
      expect(v.getUint32(4, true)).toBe(b.length - 8);
      const cs = chunkList(b);
      expect(cs.map((c) => c[0])).toEqual(['fmt ', 'FLLR', 'data', 'LIST', 'bext', '_PMX']);
      expect(cs[0]![2]).toBe(16);
      expect(cs[1]![2]).toBe(4044);
      expect(cs[2]![1]).toBe(4096);
      expect(v.getUint16(20, true)).toBe(1); // PCM
      expect(v.getUint32(24, true)).toBe(48000);
      expect(v.getUint16(34, true)).toBe(16);
      odd += cs.filter((c) => c[2] & 1).length;
    }
    expect(odd).toBeGreaterThan(0); // some chunks need the pad byte
  });

  it('lasts 3.0-5.3 s, starts with >= 0.3 s of near-silence, and decodes with @ser/audio', () => {
    for (const f of filesA) {
      const d = decodeWav(readFileSync(join(dirA, f)), f);
      expect(d.sampleRate).toBe(48000);
      const dur = d.mono.length / 48000;
      expect(dur).toBeGreaterThanOrEqual(3.0);
      expect(dur).toBeLessThanOrEqual(5.3);
      let lead = 0;
      for (let i = 0; i < 0.3 * 48000; i++) lead += d.mono[i]! ** 2;
      let all = 0;
      for (const x of d.mono) all += x * x;
      expect(10 * Math.log10(lead / (0.3 * 48000))).toBeLessThan(-50);
      expect(10 * Math.log10(all / d.mono.length)).toBeGreaterThan(-40); // there is speech
    }
  });
});

/** Mean F0 (Hz) by autocorrelation over loud 40 ms frames, and RMS (dB) of the clip. */
function f0AndRms(x: Float32Array, fs: number): { f0: number; rmsDb: number } {
  const n = Math.round(0.04 * fs);
  const f0s: number[] = [];
  let e = 0;
  for (const v of x) e += v * v;
  for (let s = 0; s + n < x.length; s += n) {
    let en = 0;
    for (let i = s; i < s + n; i++) en += x[i]! * x[i]!;
    if (10 * Math.log10(en / n) < -35) continue;
    let best = 0;
    let lag = 0;
    for (let k = Math.floor(fs / 400); k < fs / 60; k++) {
      let c = 0;
      for (let i = s; i < s + n - k; i++) c += x[i]! * x[i + k]!;
      if (c > best) [best, lag] = [c, k];
    }
    if (best > 0.4 * en) f0s.push(fs / lag);
  }
  return { f0: f0s.reduce((a, b) => a + b, 0) / f0s.length, rmsDb: 10 * Math.log10(e / x.length) };
}

describe('learnability sanity', () => {
  it('angry (strong) is louder and higher-pitched than sad (strong) for the same actor', () => {
    const fs = 16000; // synthesize at 16 kHz to keep the autocorrelation cheap
    for (const actor of [1, 2, 5]) {
      const clip = (emotion: number) => f0AndRms(synthesizeClip(3, { actor, emotion, intensity: 2, statement: 1, repetition: 1 }, fs), fs);
      const angry = clip(5);
      const sad = clip(4);
      expect(angry.rmsDb - sad.rmsDb, `actor ${actor}`).toBeGreaterThan(4);
      expect(angry.f0 / sad.f0, `actor ${actor}`).toBeGreaterThan(1.15);
    }
  });

  it('the two repetitions of a take are close (duration, pitch), other emotions are not identical', () => {
    const fs = 16000;
    for (const actor of [7, 8]) {
      const spec = { actor, emotion: 3, intensity: 1, statement: 2 };
      const r1 = synthesizeClip(3, { ...spec, repetition: 1 }, fs);
      const r2 = synthesizeClip(3, { ...spec, repetition: 2 }, fs);
      expect(Math.abs(r1.length - r2.length) / fs).toBeLessThan(0.3);
      const [a, b] = [f0AndRms(r1, fs), f0AndRms(r2, fs)];
      expect(Math.abs(12 * Math.log2(a.f0 / b.f0))).toBeLessThan(1.5);
      expect(Math.abs(a.rmsDb - b.rmsDb)).toBeLessThan(2.5);
      expect(r1.subarray(0, r2.length)).not.toEqual(r2.subarray(0, r1.length));
    }
  });

  it('odd actors (male) speak lower than even actors (female) on average', () => {
    const fs = 16000;
    const mean = (actors: number[]) =>
      actors.map((actor) => f0AndRms(synthesizeClip(3, { actor, emotion: 1, intensity: 1, statement: 2, repetition: 1 }, fs), fs).f0).reduce((a, b) => a + b) / actors.length;
    expect(mean([2, 4, 6]) / mean([1, 3, 5])).toBeGreaterThan(1.3);
  });
});

describe('params and CLI', () => {
  it('reads generate.* with defaults, and names the key of a bad value', () => {
    expect(generateOptionsFrom({ generate: { seed: 7, actors: 24 } })).toEqual({ seed: 7, actors: 24, clipsPerActor: 60, stereoFiles: 5, sampleRate: 48000 });
    const bad: [Record<string, unknown>, string][] = [
      [{ actors: 2 }, 'generate.seed'],
      [{ seed: -1, actors: 2 }, 'generate.seed'],
      [{ seed: 1.5, actors: 2 }, 'generate.seed'],
      [{ seed: 1, actors: 0 }, 'generate.actors'],
      [{ seed: 1, actors: 25 }, 'generate.actors'],
      [{ seed: 1, actors: 2, clips_per_actor: 61 }, 'generate.clips_per_actor'],
      [{ seed: 1, actors: 1, clips_per_actor: 4, stereo_files: 5 }, 'generate.stereo_files'],
      [{ seed: 1, actors: 1, sample_rate: 'x' }, 'generate.sample_rate'],
    ];
    for (const [g, key] of bad) {
      let err: unknown;
      try {
        generateOptionsFrom({ generate: g });
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(g)).toBeInstanceOf(ParamError);
      expect((err as ParamError).key).toBe(key);
      expect((err as Error).message).toContain(key);
    }
  });

  const bin = join(__dirname, '..', 'bin', 'ser-generate.mjs');
  it('ser-generate --out writes the corpus from PIPELINE_PARAMS', () => {
    const out = join(tmp, 'cli', 'corpus');
    const env = { ...process.env, PIPELINE_PARAMS: JSON.stringify({ generate: { seed: 5, actors: 2, clips_per_actor: 3, stereo_files: 1 } }) };
    const stdout = execFileSync(process.execPath, [bin, '--out', out], { env, encoding: 'utf8' });
    expect(stdout).toMatch(/6 files/);
    expect(listWavs(out)).toEqual(corpusClips(2, 3).map(clipPath).sort());
  });

  it('bad param or flag: one error line naming it, exit 1, nothing written', () => {
    const out = join(tmp, 'cli-bad', 'corpus');
    const env = { ...process.env, PIPELINE_PARAMS: JSON.stringify({ generate: { seed: 5, actors: 30 } }) };
    const r = spawnSync(process.execPath, [bin, '--out', out], { env, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('generate.actors');
    expect(existsSync(join(tmp, 'cli-bad'))).toBe(false);
    const r2 = spawnSync(process.execPath, [bin, '--bogus', 'x'], { env, encoding: 'utf8' });
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/bogus/);
  });

  it('a failed run leaves no partial corpus and keeps nothing half-written', async () => {
    const blocker = join(tmp, 'blocker');
    writeFileSync(blocker, 'not a folder');
    await expect(writeCorpus(join(blocker, 'corpus'), { seed: 1, actors: 1, clipsPerActor: 1, stereoFiles: 0, sampleRate: 48000 })).rejects.toThrow();
    expect(readdirSync(tmp).filter((f) => f.includes('.partial-'))).toEqual([]);
  });
});
