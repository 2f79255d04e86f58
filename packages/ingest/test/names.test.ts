import { describe, expect, it } from 'vitest';
import { EMOTIONS, RavdessNameError, addToReport, emptyReport, parseRavdessName, type ClipInfo } from '../src/core.ts';

describe('parseRavdessName', () => {
  it('parses the seven fields into the label columns', () => {
    expect(parseRavdessName('03-01-05-02-01-01-12.wav', 'Actor_12')).toEqual({
      id: '03-01-05-02-01-01-12',
      actor: 12,
      gender: 'female',
      emotion: 4,
      intensity: 2,
      statement: 1,
      repetition: 1,
    });
    const m = parseRavdessName('03-01-08-01-02-02-01.wav');
    expect(m).toMatchObject({ actor: 1, gender: 'male', emotion: 7, statement: 2, repetition: 2 });
    expect(EMOTIONS[m.emotion]).toBe('surprised');
    expect(parseRavdessName('03-01-01-01-01-01-24.WAV').gender).toBe('female');
  });

  const bad: [string, RegExp][] = [
    ['03-01-05-02-01-01.wav', /expected MM-VV-EE-II-SS-RR-AA\.wav/],
    ['3-1-5-2-1-1-12.wav', /7 two-digit fields/],
    ['03-01-05-02-01-01-12.mp3', /expected MM-VV/],
    ['notes.wav', /got "notes\.wav"/],
    ['01-01-05-02-01-01-12.wav', /modality 01 \(full-AV\) is not 03 \(audio-only\)/],
    ['03-02-05-02-01-01-12.wav', /vocal channel 02 \(song\) is not 01 \(speech\)/],
    ['03-01-09-01-01-01-12.wav', /emotion 09 is outside 01-08/],
    ['03-01-00-01-01-01-12.wav', /emotion 00 is outside 01-08/],
    ['03-01-05-03-01-01-12.wav', /intensity 03 is outside 01-02/],
    ['03-01-01-02-01-01-12.wav', /neutral \(emotion 01\) has only intensity 01/],
    ['03-01-05-02-03-01-12.wav', /statement 03 is outside 01-02/],
    ['03-01-05-02-01-00-12.wav', /repetition 00 is outside 01-02/],
    ['03-01-05-02-01-01-25.wav', /actor 25 is outside 01-24/],
    ['03-01-05-02-01-01-00.wav', /actor 00 is outside 01-24/],
  ];
  for (const [name, re] of bad) {
    it(`rejects ${name}`, () => {
      expect(() => parseRavdessName(name)).toThrow(RavdessNameError);
      expect(() => parseRavdessName(name)).toThrow(re);
    });
  }

  it('rejects a name whose actor disagrees with its Actor_NN folder', () => {
    expect(() => parseRavdessName('03-01-05-02-01-01-12.wav', 'Actor_13')).toThrow(/actor 12 in the name, but the file is in folder Actor_13/);
    expect(() => parseRavdessName('03-01-05-02-01-01-12.wav', 'somewhere')).not.toThrow();
  });
});

describe('addToReport', () => {
  const info: ClipInfo = { sourceRate: 16000, channels: 1, bitsPerSample: 16, format: 'pcm', duration: 3 };

  it('counts a clip under its emotion name', () => {
    const r = addToReport(emptyReport(1, 16000), 'Actor_12/03-01-05-02-01-01-12.wav', parseRavdessName('03-01-05-02-01-01-12.wav'), info);
    expect(r.by_emotion[EMOTIONS[4]!]).toBe(1);
    expect(r.ingested).toBe(1);
  });

  it('rejects an emotion index outside EMOTIONS, naming the file, and leaves the report as it was', () => {
    const r = emptyReport(1, 16000);
    const before = structuredClone(r);
    const labels = { ...parseRavdessName('03-01-05-02-01-01-12.wav'), emotion: EMOTIONS.length };
    expect(() => addToReport(r, 'x.wav', labels, info)).toThrow(/x\.wav: emotion index 8 is outside 0-7/);
    expect(r).toEqual(before);
  });
});
