import { describe, expect, it } from 'vitest';
import { resample, resampledLength } from '@ser/audio';
import { tone } from '@ser/audio/testing';

/** Amplitude of the f Hz component of y (least squares over the interior, edges excluded). */
function amplitudeAt(y: Float32Array, f: number, rate: number, edge: number): number {
  let s = 0;
  let c = 0;
  let ss = 0;
  let cc = 0;
  for (let i = edge; i < y.length - edge; i++) {
    const a = (2 * Math.PI * f * i) / rate;
    s += y[i]! * Math.sin(a);
    c += y[i]! * Math.cos(a);
    ss += Math.sin(a) ** 2;
    cc += Math.cos(a) ** 2;
  }
  return Math.hypot(s / ss, c / cc);
}

function rmsDb(y: Float32Array, edge: number): number {
  let e = 0;
  for (let i = edge; i < y.length - edge; i++) e += y[i]! * y[i]!;
  return 10 * Math.log10(e / (y.length - 2 * edge));
}

describe('resample', () => {
  const cases: [number, number, number][] = [
    [48000, 16000, 1000],
    [48000, 16000, 7000], // inside the passband (0.9 * 8000 = 7200)
    [16000, 48000, 3000],
    [44100, 16000, 5000],
    [22050, 48000, 9000],
    [48000, 44100, 19000],
  ];
  for (const [from, to, f] of cases) {
    it(`${from} -> ${to}: a ${f} Hz tone keeps its amplitude (0.1 dB) and frequency`, () => {
      const x = tone(Math.round(0.5 * from), f, from, 0.5);
      const y = resample(x, from, to);
      const edge = Math.round(0.05 * to);
      const a = amplitudeAt(y, f, to, edge);
      expect(Math.abs(20 * Math.log10(a / 0.5))).toBeLessThan(0.1);
      // frequency: the residual after removing the f Hz sinusoid is tiny
      const resid = rmsDb(y, edge) - 20 * Math.log10(a / Math.SQRT2);
      expect(resid).toBeLessThan(0.01);
      // and the energy at a neighbouring frequency is negligible
      expect(amplitudeAt(y, f * 1.05, to, edge)).toBeLessThan(0.02);
    });
  }

  for (const [from, to, f] of [[48000, 16000, 8400], [48000, 16000, 12000], [48000, 16000, 23000], [44100, 16000, 8200], [48000, 44100, 22100]] as const) {
    it(`${from} -> ${to}: a ${f} Hz tone above the new Nyquist is attenuated by > 60 dB`, () => {
      const x = tone(Math.round(0.5 * from), f, from, 0.5);
      const y = resample(x, from, to);
      const edge = Math.round(0.05 * to);
      const inDb = 20 * Math.log10(0.5 / Math.SQRT2);
      expect(rmsDb(y, edge) - inDb).toBeLessThan(-60);
    });
  }

  it('length is ceil(n * to / from)', () => {
    for (const [n, from, to] of [[1000, 48000, 16000], [1001, 48000, 16000], [1002, 48000, 16000], [7, 16000, 48000], [12345, 44100, 16000], [1, 8000, 44100]] as const) {
      const want = Math.ceil((n * to) / from);
      expect(resampledLength(n, from, to)).toBe(want);
      expect(resample(new Float32Array(n), from, to).length).toBe(want);
    }
    expect(resample(new Float32Array(0), 48000, 16000).length).toBe(0);
  });

  it('identity (a copy) when the rates are equal', () => {
    const x = tone(100, 440, 16000);
    const y = resample(x, 16000, 16000);
    expect(y).not.toBe(x);
    expect(Array.from(y)).toEqual(Array.from(x));
  });

  it('DC gain 1 and deterministic', () => {
    const x = new Float32Array(4800).fill(0.3);
    const y = resample(x, 48000, 16000);
    for (let i = 200; i < y.length - 200; i += 50) expect(y[i]).toBeCloseTo(0.3, 4);
    expect(Buffer.from(resample(x, 48000, 16000).buffer).equals(Buffer.from(y.buffer))).toBe(true);
  });

  it('an odd ratio (48000 -> 16001, L = 16001 phases) gives the same samples with or without the phase table', () => {
    const x = tone(2000, 1000, 48000);
    const a = resample(x, 48000, 16001);
    const b = resample(x, 48000, 16001, { maxTableFloats: 0 });
    expect(a.length).toBe(Math.ceil((2000 * 16001) / 48000));
    expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    expect(amplitudeAt(a, 1000, 16001, 100)).toBeCloseTo(0.5, 3);
  });

  it('rejects non-integer or non-positive rates', () => {
    expect(() => resample(new Float32Array(4), 48000, 0)).toThrow(/toRate must be a positive integer/);
    expect(() => resample(new Float32Array(4), 44100.5, 16000)).toThrow(/fromRate/);
  });
});
