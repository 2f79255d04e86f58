import { describe, expect, it } from 'vitest';
import { decodeWav, decodeWavWindow, segmentWindow, WavError } from '@ser/audio';
import { ascii, encodeSamples, fmtChunk, ravdessWav, riff, tone } from '@ser/audio/testing';

const ramp = (n: number, lo: number, hi: number) => Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));

function expectWavError(bytes: Uint8Array, pattern: RegExp): WavError {
  let err: unknown;
  try {
    decodeWav(bytes, 'some/dir/bad.wav');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(WavError);
  const w = err as WavError;
  expect(w.message.startsWith('some/dir/bad.wav: ')).toBe(true);
  expect(w.message).toMatch(pattern);
  return w;
}

describe('decodeWav: RAVDESS RIFF quirks', () => {
  it('reads fmt, skips a 4044-byte FLLR so data starts at byte 4096, ignores LIST/bext/odd _PMX', () => {
    const x = tone(4800, 440, 48000);
    const bytes = ravdessWav([x]);
    // data payload starts at 4096 exactly as in the real files
    expect(String.fromCharCode(...bytes.subarray(4088, 4092))).toBe('data');
    const w = decodeWav(bytes, 'a.wav');
    expect(w.sampleRate).toBe(48000);
    expect(w.bitsPerSample).toBe(16);
    expect(w.format).toBe('pcm');
    expect(w.channels.length).toBe(1);
    expect(w.mono).toBe(w.channels[0]);
    expect(w.mono.length).toBe(4800);
    for (let i = 0; i < 4800; i += 97) expect(w.mono[i]).toBeCloseTo(Math.round(x[i]! * 32768) / 32768, 9);
  });

  it('int16 scaling is x/32768 exactly (librosa/soundfile convention)', () => {
    const bytes = riff([fmtChunk({ channels: 1, rate: 8000, bits: 16 }), { id: 'data', body: new Uint8Array([0x00, 0x80, 0xff, 0x7f, 0x01, 0x00, 0xff, 0xff]) }]);
    expect(Array.from(decodeWav(bytes, 'x.wav').mono)).toEqual([-1, 32767 / 32768, 1 / 32768, -1 / 32768]);
  });

  it('averages stereo channels into mono (librosa.to_mono) and keeps both channels', () => {
    const l = tone(1000, 300, 48000, 0.5);
    const r = tone(1000, 700, 48000, 0.25);
    const w = decodeWav(ravdessWav([l, r]), 'st.wav');
    expect(w.channels.length).toBe(2);
    for (let i = 0; i < 1000; i += 37) {
      expect(w.mono[i]).toBeCloseTo((w.channels[0]![i]! + w.channels[1]![i]!) / 2, 12);
      expect(w.channels[0]![i]).toBeCloseTo(l[i]!, 4);
      expect(w.channels[1]![i]).toBeCloseTo(r[i]!, 4);
    }
  });

  it('walks chunks in any order: data before fmt, unknown chunks between, odd chunk + pad byte', () => {
    const x = ramp(11, -0.5, 0.5);
    const bytes = riff([
      { id: 'junk', body: new Uint8Array(3) }, // odd: 1 pad byte follows
      { id: 'data', body: encodeSamples([x], 16) },
      { id: 'odd!', body: new Uint8Array(7) },
      fmtChunk({ channels: 1, rate: 22050, bits: 16 }),
    ]);
    const w = decodeWav(bytes, 'order.wav');
    expect(w.sampleRate).toBe(22050);
    expect(w.mono.length).toBe(11);
    expect(w.mono[10]).toBeCloseTo(0.5, 4);
  });

  it('reads a data chunk at an odd byte offset inside a larger buffer (no aligned fast path)', () => {
    const inner = ravdessWav([[0.25, -0.25, 0.5]]);
    const big = new Uint8Array(inner.length + 1);
    big.set(inner, 1);
    const w = decodeWav(big.subarray(1), 'offset.wav');
    expect(Array.from(w.mono)).toEqual([0.25, -0.25, 0.5]);
  });
});

describe('decodeWav: sample formats', () => {
  const x = [-1, -0.5, 0, 0.25, 0.99];
  it('8-bit unsigned PCM: (x-128)/128', () => {
    const w = decodeWav(riff([fmtChunk({ channels: 1, rate: 8000, bits: 8 }), { id: 'data', body: new Uint8Array([0, 64, 128, 160, 255]) }]), 'u8.wav');
    expect(Array.from(w.mono)).toEqual([-1, -0.5, 0, 0.25, 127 / 128]);
    expect(w.bitsPerSample).toBe(8);
  });
  it('24-bit PCM: sign-extended, /2^23', () => {
    const w = decodeWav(riff([fmtChunk({ channels: 1, rate: 8000, bits: 24 }), { id: 'data', body: encodeSamples([x], 24) }]), 's24.wav');
    expect(w.mono[0]).toBe(-1);
    expect(w.mono[1]).toBe(-0.5);
    expect(w.mono[3]).toBe(0.25);
    expect(w.mono[4]).toBeCloseTo(0.99, 6);
  });
  it('32-bit PCM: /2^31', () => {
    const w = decodeWav(riff([fmtChunk({ channels: 1, rate: 8000, bits: 32 }), { id: 'data', body: encodeSamples([x], 32) }]), 's32.wav');
    expect(Array.from(w.mono.slice(0, 4))).toEqual([-1, -0.5, 0, 0.25]);
  });
  it('IEEE float32 and float64, 3 channels', () => {
    const chans = [x, x.map((v) => v / 2), x.map((v) => -v)];
    for (const bits of [32, 64]) {
      const w = decodeWav(riff([fmtChunk({ tag: 3, channels: 3, rate: 44100, bits }), { id: 'data', body: encodeSamples(chans, bits, true) }]), 'f.wav');
      expect(w.format).toBe('float');
      expect(w.bitsPerSample).toBe(bits);
      expect(Array.from(w.channels[1]!)).toEqual(x.map((v) => Math.fround(v / 2)));
      for (let i = 0; i < x.length; i++) expect(w.mono[i]).toBeCloseTo(x[i]! / 6, 6);
    }
  });
  it('WAVE_FORMAT_EXTENSIBLE with PCM and float sub-formats', () => {
    const pcm = decodeWav(riff([fmtChunk({ tag: 0xfffe, subTag: 1, channels: 2, rate: 48000, bits: 24 }), { id: 'data', body: encodeSamples([x, x], 24) }]), 'e.wav');
    expect(pcm.format).toBe('pcm');
    expect(pcm.channels[1]![1]).toBe(-0.5);
    const flt = decodeWav(riff([fmtChunk({ tag: 0xfffe, subTag: 3, channels: 1, rate: 48000, bits: 32 }), { id: 'data', body: encodeSamples([x], 32, true) }]), 'e.wav');
    expect(flt.format).toBe('float');
    expect(flt.mono[4]).toBeCloseTo(0.99, 6);
  });
});

describe('decodeWav: bad files give one WavError naming the file and the problem', () => {
  const good = ravdessWav([tone(100, 440, 48000)]);
  it('not RIFF', () => {
    expectWavError(ascii('ID3\x03\x00\x00\x00\x00\x00\x00\x00\x00 mp3 bytes'), /not a RIFF\/WAVE file: starts with "ID3\\u0003"/);
    expectWavError(riff([], { riffId: 'RIFX' }), /RIFX is not supported/);
  });
  it('RIFF but not WAVE', () => expectWavError(riff([], { form: 'AVI ' }), /RIFF form type is "AVI " instead of "WAVE"/));
  it('truncated header', () => {
    expectWavError(good.subarray(0, 8), /truncated header: 8 bytes, a RIFF\/WAVE header needs at least 12/);
    expectWavError(good.subarray(0, 16), /truncated header: chunk header at byte 12 needs 8 bytes, only 4 present/);
    expectWavError(good.subarray(0, 30), /truncated header: 'fmt ' chunk declares 16 bytes, only 10 present/);
    expectWavError(riff([{ id: 'fmt ', body: new Uint8Array(12) }]), /'fmt ' chunk has 12 bytes, expected at least 16/);
  });
  it('truncated data: says how many bytes were expected and how many are present', () => {
    expectWavError(good.subarray(0, 4096 + 50), /truncated data: 'data' chunk declares 200 bytes, only 50 present/);
  });
  it('a filler chunk that runs past the end before data', () => {
    expectWavError(good.subarray(0, 2000), /truncated file: 'FLLR' chunk at byte 36 declares 4044 bytes, only 1956 present/);
  });
  it('no fmt chunk / no data chunk', () => {
    expectWavError(riff([{ id: 'data', body: new Uint8Array(4) }]), /no 'fmt ' chunk/);
    expectWavError(riff([fmtChunk({ channels: 1, rate: 8000, bits: 16 }), { id: 'LIST', body: new Uint8Array(4) }]), /no 'data' chunk/);
  });
  it('zero frames', () => {
    expectWavError(riff([fmtChunk({ channels: 1, rate: 8000, bits: 16 }), { id: 'data', body: new Uint8Array(0) }]), /zero frames/);
  });
  it('unsupported codec names the format tag', () => {
    expectWavError(riff([fmtChunk({ tag: 2, channels: 1, rate: 8000, bits: 4, blockAlign: 256 }), { id: 'data', body: new Uint8Array(256) }]), /unsupported codec: format tag 0x0002 \(Microsoft ADPCM\)/);
    expectWavError(riff([fmtChunk({ tag: 0x55, channels: 1, rate: 8000, bits: 0, blockAlign: 1 }), { id: 'data', body: new Uint8Array(4) }]), /0x0055 \(MPEG layer 3 \(MP3\)\)/);
    expectWavError(riff([fmtChunk({ tag: 0xfffe, subTag: 2, channels: 1, rate: 8000, bits: 16 }), { id: 'data', body: new Uint8Array(4) }]), /WAVE_FORMAT_EXTENSIBLE sub-format 0x0002/);
    expectWavError(riff([fmtChunk({ tag: 0xfffe, badGuid: true, channels: 1, rate: 8000, bits: 16 }), { id: 'data', body: new Uint8Array(4) }]), /non-PCM, non-float sub-format GUID/);
    expectWavError(riff([fmtChunk({ channels: 1, rate: 8000, bits: 12, blockAlign: 2 }), { id: 'data', body: new Uint8Array(4) }]), /unsupported codec: 12-bit PCM/);
    expectWavError(riff([fmtChunk({ tag: 3, channels: 1, rate: 8000, bits: 16 }), { id: 'data', body: new Uint8Array(4) }]), /16-bit IEEE float/);
  });
  it('block-align mismatch in fmt and a data size that is not whole frames', () => {
    expectWavError(riff([fmtChunk({ channels: 2, rate: 8000, bits: 16, blockAlign: 2 }), { id: 'data', body: new Uint8Array(8) }]), /block-align mismatch: 'fmt ' says 2 bytes per frame, but 2 channel\(s\) x 16 bits = 4/);
    expectWavError(riff([fmtChunk({ channels: 2, rate: 8000, bits: 16 }), { id: 'data', body: new Uint8Array(10) }]), /'data' chunk has 10 bytes, not a multiple of the 4-byte frame/);
  });
  it('zero channels / zero sample rate', () => {
    expectWavError(riff([fmtChunk({ channels: 0, rate: 8000, bits: 16, blockAlign: 0 }), { id: 'data', body: new Uint8Array(4) }]), /0 channels/);
    expectWavError(riff([fmtChunk({ channels: 1, rate: 0, bits: 16 }), { id: 'data', body: new Uint8Array(4) }]), /sample rate 0 Hz/);
  });
  it('a truncated trailing metadata chunk after a complete data chunk is tolerated', () => {
    const w = decodeWav(good.subarray(0, good.length - 20), 'cut-pmx.wav');
    expect(w.mono.length).toBe(100);
  });
});

describe('decodeWavWindow: the window of decodeWav + segmentWindow, decoding only its frames', () => {
  const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  const n = 1000;
  const l = tone(n, 300, 8000, 0.5);
  const r = tone(n, 700, 8000, 0.3);
  const files: Record<string, Uint8Array> = {
    'mono 16-bit (aligned fast path)': ravdessWav([l], 8000),
    'stereo 16-bit': ravdessWav([l, r], 8000),
    'mono 24-bit': riff([fmtChunk({ channels: 1, rate: 8000, bits: 24 }), { id: 'data', body: encodeSamples([l], 24) }]),
    '3-channel float64': riff([fmtChunk({ tag: 3, channels: 3, rate: 8000, bits: 64 }), { id: 'data', body: encodeSamples([l, r, l.map((v) => -v / 3)], 64, true) }]),
    '8-bit': riff([fmtChunk({ channels: 1, rate: 8000, bits: 8 }), { id: 'data', body: encodeSamples([l], 8) }]),
  };
  // offset / duration in s at 8 kHz: inside the file, running past its end, starting past it,
  // the whole file, and the cases where int() of offset * sr and duration * sr truncate.
  const windows: [number, number][] = [[0.01, 0.05], [0.1, 0.05], [0.12, 0.02], [0, 0.125], [0.2, 0.01], [0.0101, 0.03337]];
  for (const [kind, bytes] of Object.entries(files)) {
    it(`${kind}: same samples for every window, and into a reused buffer`, () => {
      const full = decodeWav(bytes, 'x.wav');
      for (const [offset, duration] of windows) {
        const want = segmentWindow(full.mono, full.sampleRate, offset, duration);
        const got = decodeWavWindow(bytes, 'x.wav', offset, duration);
        expect(got.sampleRate).toBe(8000);
        expect(same(got.samples, want)).toBe(true);
        const dirty = new Float32Array(want.length).fill(7); // a reused buffer's old contents
        const reused = decodeWavWindow(bytes, 'x.wav', offset, duration, dirty);
        expect(reused.samples).toBe(dirty);
        expect(same(reused.samples, want)).toBe(true);
      }
    });
  }
  it('a buffer of another length is not used; bad files and windows throw as decodeWav does', () => {
    const bytes = files['mono 16-bit (aligned fast path)']!;
    const other = new Float32Array(3);
    expect(decodeWavWindow(bytes, 'x.wav', 0, 0.01, other).samples).not.toBe(other);
    expect(() => decodeWavWindow(riff([], { form: 'AVI ' }), 'some/bad.wav', 0, 1)).toThrow(/^some\/bad\.wav: not a RIFF\/WAVE file/);
    expect(() => decodeWavWindow(bytes, 'x.wav', -1, 1)).toThrow(RangeError);
    expect(() => decodeWavWindow(bytes, 'x.wav', 0, 1e-6)).toThrow(/at least one sample/);
  });
});
