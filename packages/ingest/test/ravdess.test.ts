// Runs only when RAVDESS_DIR points at the real corpus (Audio_Speech_Actors_01-24). Expected
// figures were computed independently with scipy.io.wavfile (int16 / 32768, channel mean).
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWav } from '@ser/audio';
import { parseRavdessName } from '../src/core.ts';
import { findWavs } from '../src/stage.ts';

const DIR = process.env.RAVDESS_DIR;

describe.skipIf(!DIR)('real RAVDESS corpus (RAVDESS_DIR)', () => {
  it('all 1440 files parse and decode: 48 kHz 16-bit, 5 stereo, 2.94-5.27 s, known sample counts', async () => {
    const files = await findWavs(DIR!);
    expect(files.length).toBe(1440);
    let total = 0;
    let min = { n: Infinity, file: '' };
    let max = { n: 0, file: '' };
    const stereo: string[] = [];
    const actors = new Set<number>();
    const sums: Record<string, [number, number]> = {};
    for (const rel of files) {
      const labels = parseRavdessName(basename(rel), basename(dirname(rel)));
      actors.add(labels.actor);
      const w = decodeWav(await readFile(join(DIR!, rel)), rel);
      expect(w.sampleRate).toBe(48000);
      expect(w.bitsPerSample).toBe(16);
      expect(w.format).toBe('pcm');
      const n = w.mono.length;
      total += n;
      if (n < min.n) min = { n, file: rel };
      if (n > max.n) max = { n, file: rel };
      if (w.channels.length > 1) stereo.push(rel);
      if (rel === 'Actor_01/03-01-02-01-01-02-01.wav' || rel === 'Actor_01/03-01-01-01-01-01-01.wav') {
        let s = 0;
        let a = 0;
        for (const v of w.mono) {
          s += v;
          a += Math.abs(v);
        }
        sums[rel] = [s, a];
      }
    }
    expect(actors.size).toBe(24);
    expect(stereo).toEqual([
      'Actor_01/03-01-02-01-01-02-01.wav',
      'Actor_01/03-01-08-01-02-02-01.wav',
      'Actor_05/03-01-02-01-02-02-05.wav',
      'Actor_20/03-01-03-01-02-01-20.wav',
      'Actor_20/03-01-06-01-01-02-20.wav',
    ]);
    expect(total).toBe(255789952);
    expect(min).toEqual({ n: 140941, file: 'Actor_13/03-01-02-01-02-02-13.wav' });
    expect(max).toEqual({ n: 253053, file: 'Actor_19/03-01-07-02-01-02-19.wav' });
    expect((min.n / 48000).toFixed(2)).toBe('2.94');
    expect((max.n / 48000).toFixed(2)).toBe('5.27');
    // sample values agree with scipy (sum and sum of |x| of the mono signal)
    expect(sums['Actor_01/03-01-02-01-01-02-01.wav']![0]).toBeCloseTo(0.140289306640625, 6);
    expect(sums['Actor_01/03-01-02-01-01-02-01.wav']![1]).toBeCloseTo(231.08792114257812, 4);
    expect(sums['Actor_01/03-01-01-01-01-01-01.wav']![0]).toBeCloseTo(0.14508056640625, 6);
    expect(sums['Actor_01/03-01-01-01-01-01-01.wav']![1]).toBeCloseTo(263.72833251953125, 4);
  });
});
