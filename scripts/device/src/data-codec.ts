// Compact, lossless carrier for the corpus: per clip only the int16 samples around the analysis
// window (segment.offset .. offset + duration, plus a small margin), as first-order differences
// (wrapping int16, so exactly invertible), all clips in one stream that xz compresses.
// Unpacking rebuilds 16-bit WAVs with the same relative names: silence before the stored range, the
// stored samples, nothing after. So ingest + segment give bit-identical segments, since every
// sample the window reads is the original one (or the same zero padding past a short clip's end).
//
// Stream layout (little endian): 'SERCLIP1' | u32 clipCount | per clip:
//   u16 nameBytes | name (utf8, path relative to the data dir, '/' separators) | u32 sampleRate |
//   u16 channels | u32 originalFrames | u32 startFrame | u32 frames | channels * frames int16
//   (planar: channel 0's differences, then channel 1's; the first difference is from 0).
import { decodeWav, encodeWav } from '@ser/audio';

const MAGIC = 'SERCLIP1';

export class DataCodecError extends Error {}

export interface Window { offsetS: number; durationS: number; marginFrames: number }
export const DEFAULT_WINDOW: Window = { offsetS: 0.5, durationS: 3.0, marginFrames: 64 };

export interface Clip { name: string; sampleRate: number; originalFrames: number; startFrame: number; channels: Int16Array[] }

/** Frames [start, end) of a clip of `frames` frames that cover the window with its margin. */
export function storedRange(frames: number, sampleRate: number, w: Window): { start: number; end: number } {
  const start = Math.max(0, Math.floor(w.offsetS * sampleRate) - w.marginFrames);
  const end = Math.min(frames, Math.ceil((w.offsetS + w.durationS) * sampleRate) + w.marginFrames);
  return { start: Math.min(start, end), end };
}

/** WAV bytes -> the stored clip (int16 only: another format would not round-trip, so it throws naming the file). */
export function clipFromWav(bytes: Uint8Array, name: string, w: Window = DEFAULT_WINDOW): Clip {
  const wav = decodeWav(bytes, name);
  if (wav.bitsPerSample !== 16 || wav.format !== 'pcm') {
    throw new DataCodecError(`${name}: ${wav.bitsPerSample}-bit ${wav.format} WAV; only 16-bit PCM is packed losslessly`);
  }
  const frames = wav.channels[0]!.length;
  const { start, end } = storedRange(frames, wav.sampleRate, w);
  const channels = wav.channels.map((c) => {
    const out = new Int16Array(end - start);
    for (let i = start; i < end; i++) out[i - start] = Math.round(c[i]! * 32768);
    return out;
  });
  return { name, sampleRate: wav.sampleRate, originalFrames: frames, startFrame: start, channels };
}

/** The clip as a 16-bit WAV: zeros before startFrame, then the stored samples. */
export function wavFromClip(c: Clip): Uint8Array {
  const n = c.startFrame + c.channels[0]!.length;
  const chans = c.channels.map((s) => {
    const f = new Float32Array(n);
    for (let i = 0; i < s.length; i++) f[c.startFrame + i] = s[i]! / 32768;
    return f;
  });
  return encodeWav(chans, { sampleRate: c.sampleRate, format: 'pcm16' });
}

export function streamHeader(count: number): Uint8Array {
  const b = Buffer.alloc(12);
  b.write(MAGIC, 0, 'latin1');
  b.writeUInt32LE(count, 8);
  return b;
}

/** One clip's record (see the layout above). */
export function encodeClip(c: Clip): Uint8Array {
  const name = Buffer.from(c.name, 'utf8');
  const frames = c.channels[0]!.length;
  const b = Buffer.alloc(2 + name.length + 18 + 2 * frames * c.channels.length);
  let p = b.writeUInt16LE(name.length, 0);
  p += name.copy(b, p);
  p = b.writeUInt32LE(c.sampleRate, p);
  p = b.writeUInt16LE(c.channels.length, p);
  p = b.writeUInt32LE(c.originalFrames, p);
  p = b.writeUInt32LE(c.startFrame, p);
  p = b.writeUInt32LE(frames, p);
  // The name makes the offset odd in general: fill a fresh array, then copy its bytes.
  const diffs = new Int16Array(frames * c.channels.length);
  c.channels.forEach((s, ch) => {
    let prev = 0;
    for (let i = 0; i < frames; i++) {
      diffs[ch * frames + i] = (s[i]! - prev) << 16 >> 16; // wrap to int16: invertible mod 2^16
      prev = s[i]!;
    }
  });
  Buffer.from(diffs.buffer).copy(b, p);
  return b;
}

/** Parses a whole stream back into clips (throws DataCodecError on a bad or truncated stream). */
export function* decodeStream(buf: Buffer): Generator<Clip> {
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) throw new DataCodecError(`not a ${MAGIC} stream`);
  const count = buf.readUInt32LE(8);
  let p = 12;
  const need = (n: number) => {
    if (p + n > buf.length) throw new DataCodecError(`stream truncated at byte ${p} (clip ${count} expected)`);
  };
  for (let k = 0; k < count; k++) {
    need(2);
    const nl = buf.readUInt16LE(p);
    p += 2;
    need(nl + 18);
    const name = buf.toString('utf8', p, p + nl);
    p += nl;
    const sampleRate = buf.readUInt32LE(p);
    const nch = buf.readUInt16LE(p + 4);
    const originalFrames = buf.readUInt32LE(p + 6);
    const startFrame = buf.readUInt32LE(p + 10);
    const frames = buf.readUInt32LE(p + 14);
    p += 18;
    need(2 * frames * nch);
    const channels: Int16Array[] = [];
    for (let ch = 0; ch < nch; ch++) {
      const s = new Int16Array(frames);
      let prev = 0;
      for (let i = 0; i < frames; i++) {
        prev = (prev + buf.readInt16LE(p)) << 16 >> 16;
        s[i] = prev;
        p += 2;
      }
      channels.push(s);
    }
    yield { name, sampleRate, originalFrames, startFrame, channels };
  }
  if (p !== buf.length) throw new DataCodecError(`stream has ${buf.length - p} trailing bytes after ${count} clips`);
}
