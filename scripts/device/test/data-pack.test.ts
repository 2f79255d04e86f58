// Data packing: generated WAVs -> parts -> rebuilt WAVs give bit-identical ingest + segment output;
// parts stay under the limit; a damaged or missing part is named on unpack.
import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav, segmentWindow } from '@ser/audio';
import { decodeClip } from '@ser/ingest';
import { packData } from '../src/pack-data.ts';
import { unpackData } from '../src/unpack-data.ts';
import { clipFromWav, encodeClip, decodeStream, streamHeader, DEFAULT_WINDOW, DataCodecError } from '../src/data-codec.ts';
import { joinParts, readManifest, PartError } from '../src/parts.ts';

const SR = 48000;
const work = mkdtempSync(join(tmpdir(), 'device-data-'));
const src = join(work, 'corpus');

/** A noisy tone with a loud burst (hits the int16 ends), `seconds` long, 1 or 2 channels. */
function wav(seconds: number, channels: number, seed: number): Uint8Array {
  const n = Math.round(seconds * SR);
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const chans = Array.from({ length: channels }, (_, c) => {
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * (200 + 50 * c) * i) / SR) + 0.05 * rnd() + (i % 9000 < 50 ? (i % 2 ? 1 : -1) : 0);
    return x;
  });
  return encodeWav(chans, { sampleRate: SR, format: 'pcm16' });
}

const files: [string, number, number][] = [
  ['Actor_01/03-01-01-01-01-01-01.wav', 3.9, 1], // longer than the window
  ['Actor_01/03-01-05-02-01-01-01.wav', 2.7, 1], // ends inside the window: zero padding
  ['Actor_02/03-01-08-02-02-02-02.wav', 0.3, 1], // ends before the window starts
  ['Actor_02/03-01-03-01-01-02-02.wav', 3.6, 2], // stereo: ingest averages the channels
];

beforeAll(() => {
  files.forEach(([name, secs, ch], i) => {
    mkdirSync(join(src, name, '..'), { recursive: true });
    writeFileSync(join(src, name), wav(secs, ch, i + 1));
  });
});

const segmentOf = (bytes: Uint8Array, name: string) => segmentWindow(decodeClip(bytes, name, SR).audio, SR, 0.5, 3.0);

describe('data pack', () => {
  it('round trip: unpack -> ingest -> segment equals the original segment, names kept', () => {
    const parts = join(work, 'parts');
    const m = packData({ dataDir: src, outDir: parts, partBytes: 40_000, window: DEFAULT_WINDOW });
    expect(m.parts.length).toBeGreaterThan(1); // small parts: the split is exercised
    for (const p of m.parts) expect(p.bytes).toBeLessThanOrEqual(40_000);
    expect(m.meta).toMatchObject({ clips: 4, stereo: 1 });
    const out = join(work, 'rebuilt');
    expect(unpackData(parts, out)).toBe(4);
    for (const [name] of files) {
      const a = segmentOf(readFileSync(join(src, name)), name);
      const b = segmentOf(readFileSync(join(out, name)), name);
      expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    }
    // Only the window (+ margin) is stored: far smaller than the WAVs.
    expect(m.bytes).toBeLessThan(files.reduce((s, [n]) => s + readFileSync(join(src, n)).length, 0));
  });

  it('a corrupt part is named, a missing part is named, and nothing is written', () => {
    const parts = join(work, 'parts2');
    const m = packData({ dataDir: src, outDir: parts, partBytes: 30_000, window: DEFAULT_WINDOW });
    const victim = join(parts, m.parts[1]!.file);
    const bytes = readFileSync(victim);
    bytes[100]! ^= 0xff;
    writeFileSync(victim, bytes);
    const out = join(work, 'rebuilt2');
    expect(() => unpackData(parts, out)).toThrow(new RegExp(`part .*${m.parts[1]!.file} is corrupt`));
    expect(existsSync(out)).toBe(false);
    rmSync(victim);
    expect(() => unpackData(parts, out)).toThrow(PartError);
    expect(() => joinParts(parts, readManifest(join(parts, 'ravdess.manifest.json')))).toThrow(new RegExp(`part missing: .*${m.parts[1]!.file}`));
  });

  it('int16 extremes survive the wrapping differences', () => {
    const s = new Int16Array([32767, -32768, 32767, -32768, 0, -1, 1, 32767]);
    const rec = Buffer.concat([Buffer.from(streamHeader(1)), Buffer.from(encodeClip({ name: 'x.wav', sampleRate: SR, originalFrames: 8, startFrame: 0, channels: [s] }))]);
    const [c] = [...decodeStream(rec)];
    expect(Array.from(c!.channels[0]!)).toEqual(Array.from(s));
  });

  it('refuses what it cannot store losslessly, and truncated streams', () => {
    const f = encodeWav([new Float32Array(48000)], { sampleRate: SR, format: 'float32' });
    expect(() => clipFromWav(f, 'a/float.wav')).toThrow(/a\/float\.wav: 32-bit/);
    const rec = Buffer.concat([Buffer.from(streamHeader(1)), Buffer.from(encodeClip(clipFromWav(wav(1, 1, 3), 'y.wav')))]);
    expect(() => [...decodeStream(rec.subarray(0, rec.length - 10))]).toThrow(DataCodecError);
  });

  // The real corpus, as every real-corpus test finds it: RAVDESS_DIR (the folder of Actor_01..24).
  const real = process.env['RAVDESS_DIR'] ?? '';
  it.skipIf(!real || !existsSync(real))(`real corpus (RAVDESS_DIR${real ? '' : ' unset: skipped'}): three clips (one stereo) give bit-identical segments after the round trip`, () => {
    const dir = join(work, 'real');
    const pick = ['Actor_01/03-01-01-01-01-01-01.wav', 'Actor_24/03-01-08-02-02-02-24.wav'];
    // the real corpus has 5 stereo files: include one if we can find it quickly
    for (const a of readdirSync(real).filter((d) => d.startsWith('Actor_')).sort()) {
      const stereo = readdirSync(join(real, a)).find((f) => readFileSync(join(real, a, f)).readUInt16LE(22) === 2);
      if (stereo) {
        pick.push(`${a}/${stereo}`);
        break;
      }
    }
    for (const p of pick) {
      mkdirSync(join(dir, p, '..'), { recursive: true });
      writeFileSync(join(dir, p), readFileSync(join(real, p)));
    }
    packData({ dataDir: dir, outDir: join(work, 'realparts'), partBytes: 1 << 20, window: DEFAULT_WINDOW });
    unpackData(join(work, 'realparts'), join(work, 'realout'));
    for (const p of pick) {
      const a = segmentOf(readFileSync(join(real, p)), p);
      const b = segmentOf(readFileSync(join(work, 'realout', p)), p);
      expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    }
  });
});
