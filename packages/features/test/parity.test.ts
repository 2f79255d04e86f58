// librosa 0.11.0 parity: synthetic fixtures always; the real RAVDESS references when RAVDESS_DIR is set.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogMelExtractor } from '../../audio/src/logmel.ts';
import { decodeNpy } from '../src/npy.ts';
import { REF_CONFIG, SIGNALS, fixture, manifest, maxAbsDiff, maxRelErr } from './signals.ts';

const DB_TOL = 1e-3; // dB, the target
const S_REL_TOL = 1e-6; // float32 storage of the reference is ~6e-8

describe('synthetic signals match librosa 0.11.0', () => {
  const man = manifest();
  for (const [name, make] of Object.entries(SIGNALS)) {
    it(`${name}: regenerated input equals the reference's first samples`, () => {
      const y = make();
      expect(Array.from(y.subarray(0, 8), Math.fround)).toEqual(man.signals[name].y_first8.map(Math.fround));
    });
    for (const ref of ['max', 1.0] as const) {
      it(`${name}: S and power_to_db(ref=${ref})`, () => {
        const y = make();
        const ex = new LogMelExtractor({ ...REF_CONFIG, ref });
        const S = fixture(`${name}.S`);
        expect(S.shape).toEqual([128, 563]);
        const s = ex.melPower(y);
        // Relative error over all non-negligible entries (1e-12 of the peak).
        const peak = Math.max(...S.data);
        expect(maxRelErr(s, S.data, peak * 1e-12)).toBeLessThan(S_REL_TOL);
        const db = ex.extract(y);
        const want = fixture(`${name}.${ref === 'max' ? 'db_refmax' : 'db_ref1'}`);
        expect(db.length).toBe(128 * 563);
        expect(maxAbsDiff(db, want.data)).toBeLessThan(DB_TOL);
      });
    }
  }
  it('float32 input (the stored y) stays within 1e-3 dB too', () => {
    const y = Float32Array.from(SIGNALS.chirp());
    const db = new LogMelExtractor({ ...REF_CONFIG, ref: 'max' }).extract(y);
    expect(maxAbsDiff(db, fixture('chirp.db_refmax').data)).toBeLessThan(DB_TOL);
  });
});

const REF_DIR = '/work/shared/reference/librosa/ravdess';
const ravdess = process.env.RAVDESS_DIR;
const realRefDir = process.env.RAVDESS_REF_DIR ?? REF_DIR;

describe.skipIf(!ravdess || !existsSync(realRefDir))('real RAVDESS clips match librosa 0.11.0', () => {
  const stems = ['03-01-01-01-01-01-01', '03-01-04-02-01-01-06', '03-01-06-02-02-01-22', '03-01-08-02-02-01-23'];
  const load = (f: string) => decodeNpy(readFileSync(join(realRefDir, f)), f);
  for (const stem of stems) {
    it(stem, async () => {
      // The reference segment y (int16/32768, 0.5 s + 3 s, zero-padded); decoded from the WAV when
      // @ser/audio's decodeWav and segmentWindow are available, else taken from y.npy.
      let y = load(`${stem}.y.npy`).data;
      const audio: Record<string, unknown> = await import('../../audio/src/index.ts');
      const actor = stem.slice(-2);
      const wav = join(ravdess!, `Actor_${actor}`, `${stem}.wav`);
      if (typeof audio.decodeWav === 'function' && typeof audio.segmentWindow === 'function' && existsSync(wav)) {
        const decoded = (audio.decodeWav as (b: Uint8Array, n: string) => { sampleRate: number; mono: Float32Array })(readFileSync(wav), wav);
        const seg = (audio.segmentWindow as (x: Float32Array, sr: number, o: number, d: number) => Float32Array)(decoded.mono, decoded.sampleRate, 0.5, 3);
        expect(maxAbsDiff(seg, y)).toBeLessThan(1e-7);
        y = seg;
      }
      const S = load(`${stem}.S.npy`).data;
      for (const ref of ['max', 1.0] as const) {
        const ex = new LogMelExtractor({ ...REF_CONFIG, ref });
        expect(maxRelErr(ex.melPower(y), S, 0)).toBeLessThan(S_REL_TOL);
        const want = load(`${stem}.${ref === 'max' ? 'db_refmax' : 'db_ref1'}.npy`).data;
        expect(maxAbsDiff(ex.extract(y), want)).toBeLessThan(DB_TOL);
      }
    });
  }
});
