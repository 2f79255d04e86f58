// Test helper (`@ser/audio/testing`): builds RIFF/WAVE bytes by hand, quirks included (chunk
// order, pad bytes, FLLR filler so `data` starts at byte 4096 like the real RAVDESS files,
// trailing LIST/bext/_PMX). Independent of encodeWav, so decoder tests do not lean on the encoder;
// outside test/ so that tests of other packages that use it are re-run when it changes.

export interface Chunk {
  id: string;
  body: Uint8Array;
  /** declared size when it must differ from body.length (truncation tests) */
  size?: number;
}

export function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** Concatenates `RIFF` size `WAVE` and the chunks, each padded to an even length. */
export function riff(chunks: Chunk[], opts: { riffId?: string; form?: string } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const c of chunks) {
    const head = new Uint8Array(8);
    head.set(ascii(c.id), 0);
    new DataView(head.buffer).setUint32(4, c.size ?? c.body.length, true);
    parts.push(head, c.body);
    if (c.body.length & 1) parts.push(new Uint8Array(1));
  }
  const bodyLen = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(12 + bodyLen);
  out.set(ascii(opts.riffId ?? 'RIFF'), 0);
  new DataView(out.buffer).setUint32(4, 4 + bodyLen, true);
  out.set(ascii(opts.form ?? 'WAVE'), 8);
  let p = 12;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

export interface FmtSpec {
  tag?: number; // 1 PCM, 3 float, 0xFFFE extensible, ...
  channels: number;
  rate: number;
  bits: number;
  blockAlign?: number;
  /** WAVE_FORMAT_EXTENSIBLE sub-format tag (1 PCM, 3 float) */
  subTag?: number;
  /** corrupt the GUID tail (extensible only) */
  badGuid?: boolean;
}

export function fmtChunk(s: FmtSpec): Chunk {
  const ext = (s.tag ?? 1) === 0xfffe;
  const body = new Uint8Array(ext ? 40 : 16);
  const v = new DataView(body.buffer);
  const align = s.blockAlign ?? (s.channels * s.bits) / 8;
  v.setUint16(0, s.tag ?? 1, true);
  v.setUint16(2, s.channels, true);
  v.setUint32(4, s.rate, true);
  v.setUint32(8, s.rate * align, true);
  v.setUint16(12, align, true);
  v.setUint16(14, s.bits, true);
  if (ext) {
    v.setUint16(16, 22, true);
    v.setUint16(18, s.bits, true);
    v.setUint32(20, s.channels === 2 ? 3 : 4, true);
    v.setUint16(24, s.subTag ?? 1, true);
    const tail = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
    body.set(tail, 26);
    if (s.badGuid) body[39]! ^= 0xff;
  }
  return { id: 'fmt ', body };
}

/** Interleaves channels (values in [-1, 1]) into `bits`-bit little-endian samples. */
export function encodeSamples(channels: ArrayLike<number>[], bits: number, float = false): Uint8Array {
  const n = channels[0]!.length;
  const nch = channels.length;
  const bps = bits / 8;
  const out = new Uint8Array(n * nch * bps);
  const v = new DataView(out.buffer);
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < nch; c++, p += bps) {
      const x = channels[c]![i]!;
      if (float) {
        if (bits === 32) v.setFloat32(p, x, true);
        else v.setFloat64(p, x, true);
      } else if (bits === 8) {
        out[p] = Math.max(0, Math.min(255, Math.round(x * 128) + 128));
      } else {
        const full = 2 ** (bits - 1);
        const q = Math.max(-full, Math.min(full - 1, Math.round(x * full)));
        if (bits === 16) v.setInt16(p, q, true);
        else if (bits === 32) v.setInt32(p, q, true);
        else {
          const u = q & 0xffffff;
          out[p] = u & 0xff;
          out[p + 1] = (u >> 8) & 0xff;
          out[p + 2] = (u >> 16) & 0xff;
        }
      }
    }
  }
  return out;
}

/** A RAVDESS-shaped 16-bit PCM file: fmt, FLLR (data at byte 4096), data, LIST, bext, odd _PMX. */
export function ravdessWav(channels: ArrayLike<number>[], rate = 48000): Uint8Array {
  const fmt = fmtChunk({ channels: channels.length, rate, bits: 16 });
  const fllr = { id: 'FLLR', body: new Uint8Array(4044) };
  const data = { id: 'data', body: encodeSamples(channels, 16) };
  const list = { id: 'LIST', body: ascii('INFOISFT\x0e\x00\x00\x00Lavf58.29.100\x00') };
  const bext = { id: 'bext', body: new Uint8Array(602) };
  const pmx = { id: '_PMX', body: ascii('<?xml version="1.0"?><x:xmpmeta/>') }; // 33 bytes: odd, padded
  return riff([fmt, fllr, data, list, bext, pmx]);
}

/** n samples of a sine at f Hz, amplitude a. */
export function tone(n: number, f: number, rate: number, a = 0.5): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = a * Math.sin((2 * Math.PI * f * i) / rate);
  return x;
}
