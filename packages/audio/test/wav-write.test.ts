// encodeWav (packages/audio/src/wav-write.ts), checked against a small independent RIFF reader
// written here (not @ser/audio's decoder), so encoder and decoder bugs cannot cancel out.
import { describe, expect, it } from 'vitest';
import { encodeWav, wavBytesPerSample, type WavEncoding } from '@ser/audio';

interface Chunk {
  id: string;
  offset: number; // payload offset
  size: number;
}

/** Walk the RIFF chunks; checks RIFF size and pad bytes. */
function chunks(b: Uint8Array): Chunk[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const id = (p: number): string => String.fromCharCode(...b.subarray(p, p + 4));
  expect(id(0)).toBe('RIFF');
  expect(v.getUint32(4, true)).toBe(b.length - 8);
  expect(id(8)).toBe('WAVE');
  const out: Chunk[] = [];
  let p = 12;
  while (p < b.length) {
    const size = v.getUint32(p + 4, true);
    out.push({ id: id(p), offset: p + 8, size });
    if (size & 1) expect(b[p + 8 + size]).toBe(0); // pad byte
    p += 8 + size + (size & 1);
  }
  expect(p).toBe(b.length);
  return out;
}

/** Decode to integer sample codes (PCM) or floats, per channel. */
function read(b: Uint8Array): { tag: number; rate: number; bits: number; channels: number[][]; subTag?: number; mask?: number } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const cs = chunks(b);
  const fmt = cs.find((c) => c.id === 'fmt ')!;
  const data = cs.find((c) => c.id === 'data')!;
  const tag = v.getUint16(fmt.offset, true);
  const nch = v.getUint16(fmt.offset + 2, true);
  const rate = v.getUint32(fmt.offset + 4, true);
  const blockAlign = v.getUint16(fmt.offset + 12, true);
  const bits = v.getUint16(fmt.offset + 14, true);
  expect(v.getUint32(fmt.offset + 8, true)).toBe(rate * blockAlign);
  expect(blockAlign).toBe((nch * bits) / 8);
  let subTag: number | undefined;
  let mask: number | undefined;
  if (tag === 0xfffe) {
    expect(fmt.size).toBe(40);
    expect(v.getUint16(fmt.offset + 16, true)).toBe(22);
    mask = v.getUint32(fmt.offset + 20, true);
    subTag = v.getUint16(fmt.offset + 24, true);
  }
  const isFloat = (subTag ?? tag) === 3;
  const frames = data.size / blockAlign;
  const channels: number[][] = Array.from({ length: nch }, () => []);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < nch; c++) {
      const p = data.offset + i * blockAlign + (c * bits) / 8;
      let x: number;
      if (isFloat) x = v.getFloat32(p, true);
      else if (bits === 8) x = v.getUint8(p) - 128;
      else if (bits === 16) x = v.getInt16(p, true);
      else if (bits === 24) x = ((v.getUint8(p + 2) << 24) | (v.getUint8(p + 1) << 16) | (v.getUint8(p) << 8)) >> 8;
      else x = v.getInt32(p, true);
      channels[c]!.push(x);
    }
  }
  return { tag, rate, bits, channels, subTag, mask };
}

const signal = new Float32Array([0, 0.5, -0.5, 0.999, -1, 1, 1.5, -2, 0.25, -0.125, 1e-9, NaN]);

describe('encodeWav', () => {
  const cases: [WavEncoding, number][] = [
    ['pcm8', 8],
    ['pcm16', 16],
    ['pcm24', 24],
    ['pcm32', 32],
  ];
  for (const [format, bits] of cases) {
    it(`${format}: round-to-nearest with clipping, no dither`, () => {
      const b = encodeWav([signal], { sampleRate: 22050, format });
      const r = read(b);
      expect(r.tag).toBe(1);
      expect(r.rate).toBe(22050);
      expect(r.bits).toBe(bits);
      const s = 2 ** (bits - 1);
      const expected = Array.from(signal, (x) => (Number.isNaN(x) ? 0 : Math.max(-s, Math.min(s - 1, Math.sign(x) * Math.floor(Math.abs(x) * s + 0.5)))));
      expect(r.channels[0]).toEqual(expected);
      expect(wavBytesPerSample(format)).toBe(bits / 8);
      // 16-byte fmt, data right after: 12 + 24 + 8 = 44
      expect(chunks(b).map((c) => [c.id, c.offset])).toEqual([
        ['fmt ', 20],
        ['data', 44],
      ]);
    });
  }

  it('pcm16 of a random signal round-trips within half an LSB', () => {
    const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i * 0.37) * 0.9);
    const r = read(encodeWav([x], { sampleRate: 48000 }));
    for (let i = 0; i < x.length; i++) expect(Math.abs(r.channels[0]![i]! / 32768 - x[i]!)).toBeLessThanOrEqual(0.5 / 32768 + 1e-9);
  });

  it('float32 stores values unchanged (no clipping), fmt of 18 bytes', () => {
    const x = new Float32Array([0.1, -3.5, 2, 1e-20]);
    const b = encodeWav([x], { sampleRate: 8000, format: 'float32' });
    const r = read(b);
    expect(r.tag).toBe(3);
    expect(chunks(b)[0]).toEqual({ id: 'fmt ', offset: 20, size: 18 });
    expect(r.channels[0]).toEqual(Array.from(x));
  });

  it('stereo interleaves channels; extensible writes tag 0xFFFE, sub-format and channel mask', () => {
    const l = new Float32Array([0.1, 0.2, 0.3]);
    const rr = new Float32Array([-0.1, -0.2, -0.3]);
    for (const format of ['pcm24', 'float32'] as const) {
      const r = read(encodeWav([l, rr], { sampleRate: 44100, format, extensible: true }));
      expect(r.tag).toBe(0xfffe);
      expect(r.subTag).toBe(format === 'float32' ? 3 : 1);
      expect(r.mask).toBe(3);
      expect(r.channels.length).toBe(2);
      const s = format === 'float32' ? 1 : 2 ** 23;
      r.channels[0]!.forEach((v, i) => expect(v / s).toBeCloseTo(l[i]!, 6));
      r.channels[1]!.forEach((v, i) => expect(v / s).toBeCloseTo(rr[i]!, 6));
    }
    expect(read(encodeWav([l], { sampleRate: 8000, extensible: true })).mask).toBe(4);
  });

  it('places extra chunks before/after data in order, pads odd sizes (RAVDESS layout)', () => {
    const x = new Float32Array(101).fill(0.25); // 202 data bytes
    const b = encodeWav([x], {
      sampleRate: 48000,
      chunks: [
        { id: 'FLLR', bytes: new Uint8Array(4044), where: 'before' },
        { id: 'LIST', bytes: new Uint8Array([1, 2, 3]), where: 'after' },
        { id: 'bext', bytes: new Uint8Array(602), where: 'after' },
        { id: '_PMX', bytes: new Uint8Array([9, 9, 9, 9, 9]), where: 'after' },
      ],
    });
    const cs = chunks(b);
    expect(cs.map((c) => c.id)).toEqual(['fmt ', 'FLLR', 'data', 'LIST', 'bext', '_PMX']);
    expect(cs[2]).toEqual({ id: 'data', offset: 4096, size: 202 });
    expect(cs[3]!.size).toBe(3);
    expect(Array.from(b.subarray(cs[3]!.offset, cs[3]!.offset + 4))).toEqual([1, 2, 3, 0]);
    expect(cs[5]!.size).toBe(5);
    expect(b.length).toBe(4096 + 202 + (8 + 4) + (8 + 602) + (8 + 6));
    expect(read(b).channels[0]!.every((v) => v === 8192)).toBe(true);
  });

  it('odd-sized data (8-bit, odd frame count) gets a pad byte before the next chunk', () => {
    const b = encodeWav([new Float32Array(3)], { sampleRate: 8000, format: 'pcm8', chunks: [{ id: 'abcd', bytes: new Uint8Array(2), where: 'after' }] });
    const cs = chunks(b);
    expect(cs.map((c) => [c.id, c.size])).toEqual([
      ['fmt ', 16],
      ['data', 3],
      ['abcd', 2],
    ]);
  });

  it('rejects bad arguments with a clear message', () => {
    expect(() => encodeWav([], { sampleRate: 8000 })).toThrow(/channels/);
    expect(() => encodeWav([new Float32Array(2), new Float32Array(3)], { sampleRate: 8000 })).toThrow(/differ in length/);
    expect(() => encodeWav([new Float32Array(2)], { sampleRate: 0 })).toThrow(/sampleRate/);
    expect(() => encodeWav([new Float32Array(2)], { sampleRate: 8000, chunks: [{ id: 'data', bytes: new Uint8Array(), where: 'after' }] })).toThrow(/data/);
    expect(() => encodeWav([new Float32Array(2)], { sampleRate: 8000, chunks: [{ id: 'AB', bytes: new Uint8Array(), where: 'after' }] })).toThrow(/4 printable/);
  });
});
