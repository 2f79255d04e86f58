// WAV (RIFF/WAVE) encoder: PCM 8/16/24/32-bit or IEEE float32, plain or WAVE_FORMAT_EXTENSIBLE,
// any channel count, plus arbitrary extra chunks before and/or after `data` (e.g. the `FLLR`,
// `LIST`, `bext`, `_PMX` chunks real RAVDESS files carry). Pure: returns the file's bytes.
//
// Quantization (PCM): no dithering; each sample x (nominal range [-1, 1]) becomes
// round(x * 2^(bits-1)) (round half away from zero) clipped to [-2^(bits-1), 2^(bits-1) - 1];
// 8-bit PCM is unsigned (offset 128) as the WAV spec requires. NaN encodes as 0.
// float32 stores the values unchanged (no clipping). All multi-byte fields are little-endian.

/** Sample encoding of the `data` chunk. */
export type WavEncoding = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32';

/** An extra RIFF chunk. `id`: 4 ASCII chars (not `fmt `/`data`); `bytes`: the payload (any length:
 *  an odd-sized payload is followed by one zero pad byte, which the chunk size does not count). */
export interface WavChunk {
  id: string;
  bytes: Uint8Array;
  /** Place before `data` (after `fmt `) or after `data`. Chunks keep their given order. */
  where: 'before' | 'after';
}

export interface EncodeWavOptions {
  /** Hz, positive integer. */
  sampleRate: number;
  /** Default 'pcm16'. */
  format?: WavEncoding;
  /** Write a 40-byte WAVE_FORMAT_EXTENSIBLE `fmt ` (0xFFFE + sub-format GUID). Default false. */
  extensible?: boolean;
  /** Extra chunks; default none. */
  chunks?: WavChunk[];
}

const BITS: Record<WavEncoding, number> = { pcm8: 8, pcm16: 16, pcm24: 24, pcm32: 32, float32: 32 };
const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
// KSDATAFORMAT_SUBTYPE_* GUID tail (bytes 2..15); bytes 0..1 are the format tag.
const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

/** Bytes per sample of one channel for `format`. */
export function wavBytesPerSample(format: WavEncoding): number {
  return BITS[format] / 8;
}

/** Speaker position mask for WAVE_FORMAT_EXTENSIBLE: mono = front center, stereo = FL|FR,
 *  otherwise the first `n` bits (the usual order FL, FR, FC, LFE, BL, BR, ...). */
function channelMask(n: number): number {
  if (n === 1) return 0x4;
  return n >= 32 ? 0xffffffff : (2 ** n - 1) >>> 0;
}

function checkChunkId(id: string): void {
  if (!/^[\x20-\x7e]{4}$/.test(id)) throw new Error(`encodeWav: chunk id must be 4 printable ASCII chars, got ${JSON.stringify(id)}`);
  if (id === 'fmt ' || id === 'data' || id === 'RIFF') throw new Error(`encodeWav: chunk id '${id}' is written by the encoder itself`);
}

/**
 * Encode `channels` (one Float32Array per channel, all of equal length = frames) as a WAV file.
 * Layout: `RIFF` size `WAVE`, `fmt ` (16 bytes for PCM, 18 for plain float32 with cbSize 0,
 * 40 when extensible), the 'before' chunks, `data`, the 'after' chunks.
 * Throws Error on bad arguments (no channels, unequal lengths, bad rate or chunk id, > 4 GiB).
 */
export function encodeWav(channels: Float32Array[], opts: EncodeWavOptions): Uint8Array {
  const format = opts.format ?? 'pcm16';
  const bits = BITS[format];
  if (bits === undefined) throw new Error(`encodeWav: unsupported format ${String(format)}`);
  const nch = channels.length;
  if (nch < 1 || nch > 65535) throw new Error(`encodeWav: need 1..65535 channels, got ${nch}`);
  const frames = channels[0]!.length;
  for (const c of channels) if (c.length !== frames) throw new Error('encodeWav: channels differ in length');
  const sr = opts.sampleRate;
  if (!Number.isInteger(sr) || sr <= 0 || sr > 0xffffffff) throw new Error(`encodeWav: bad sampleRate ${sr}`);
  const chunks = opts.chunks ?? [];
  for (const c of chunks) checkChunkId(c.id);

  const extensible = opts.extensible ?? false;
  const isFloat = format === 'float32';
  const fmtSize = extensible ? 40 : isFloat ? 18 : 16;
  const blockAlign = nch * (bits / 8);
  const dataSize = frames * blockAlign;
  const padded = (n: number): number => n + (n & 1);
  const before = chunks.filter((c) => c.where === 'before');
  const after = chunks.filter((c) => c.where === 'after');
  const extra = (cs: WavChunk[]): number => cs.reduce((s, c) => s + 8 + padded(c.bytes.length), 0);
  const total = 12 + 8 + fmtSize + extra(before) + 8 + padded(dataSize) + extra(after);
  if (total - 8 > 0xffffffff) throw new Error('encodeWav: file would exceed the 4 GiB RIFF limit');

  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let p = 0;
  const ascii = (s: string): void => {
    for (let i = 0; i < 4; i++) out[p + i] = s.charCodeAt(i);
    p += 4;
  };
  const u32 = (v: number): void => {
    view.setUint32(p, v, true);
    p += 4;
  };
  const u16 = (v: number): void => {
    view.setUint16(p, v, true);
    p += 2;
  };
  const chunk = (c: WavChunk): void => {
    ascii(c.id);
    u32(c.bytes.length);
    out.set(c.bytes, p);
    p += padded(c.bytes.length); // pad byte stays 0
  };

  ascii('RIFF');
  u32(total - 8);
  ascii('WAVE');
  ascii('fmt ');
  u32(fmtSize);
  const tag = isFloat ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM;
  u16(extensible ? WAVE_FORMAT_EXTENSIBLE : tag);
  u16(nch);
  u32(sr);
  u32(sr * blockAlign);
  u16(blockAlign);
  u16(bits);
  if (extensible) {
    u16(22); // cbSize
    u16(bits); // valid bits per sample
    u32(channelMask(nch));
    u16(tag);
    for (const b of GUID_TAIL) out[p++] = b;
  } else if (isFloat) {
    u16(0); // cbSize
  }
  for (const c of before) chunk(c);
  ascii('data');
  u32(dataSize);
  writeSamples(view, p, channels, frames, format);
  p += padded(dataSize);
  for (const c of after) chunk(c);
  return out;
}

/** Interleave and quantize `channels` into `view` from byte `offset` (see header for rounding). */
function writeSamples(view: DataView, offset: number, channels: Float32Array[], frames: number, format: WavEncoding): void {
  const nch = channels.length;
  let p = offset;
  if (format === 'float32') {
    for (let i = 0; i < frames; i++) for (let c = 0; c < nch; c++, p += 4) view.setFloat32(p, channels[c]![i]!, true);
    return;
  }
  const bits = BITS[format];
  const scale = 2 ** (bits - 1);
  const lo = -scale;
  const hi = scale - 1;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < nch; c++) {
      const x = channels[c]![i]! * scale;
      // Round half away from zero; NaN -> 0; clip to the integer range.
      let q = x >= 0 ? Math.floor(x + 0.5) : -Math.floor(-x + 0.5);
      if (!(q >= lo)) q = Number.isNaN(x) ? 0 : lo;
      else if (q > hi) q = hi;
      switch (format) {
        case 'pcm8':
          view.setUint8(p, q + 128);
          p += 1;
          break;
        case 'pcm16':
          view.setInt16(p, q, true);
          p += 2;
          break;
        case 'pcm24':
          view.setUint8(p, q & 0xff);
          view.setUint8(p + 1, (q >> 8) & 0xff);
          view.setUint8(p + 2, (q >> 16) & 0xff);
          p += 3;
          break;
        default:
          view.setInt32(p, q, true);
          p += 4;
      }
    }
  }
}
