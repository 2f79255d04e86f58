// WAV (RIFF/WAVE) decoder: our own chunk walker, no dependencies, pure (bytes in, samples out).
//
// Supported: `fmt ` format tags PCM (0x0001: 8-bit unsigned, 16/24/32-bit signed), IEEE float
// (0x0003: 32/64-bit) and WAVE_FORMAT_EXTENSIBLE (0xFFFE) whose sub-format GUID is PCM or float;
// any number of channels. Chunks may come in any order; unknown chunks (FLLR, LIST, bext, _PMX,
// ...) are skipped; an odd-sized chunk is followed by one pad byte (RIFF rule).
//
// Scaling follows libsndfile/soundfile (and so librosa): 8-bit (x-128)/128, 16-bit x/2^15,
// 24-bit x/2^23, 32-bit x/2^31; float samples are taken as they are (float64 rounded to float32).
// `mono` is the mean over channels (librosa.to_mono); for a mono file it is `channels[0]` itself.

import { windowLength, windowStart } from './segment.ts';

/** A file the decoder cannot or will not read; the message names the file and the problem. */
export class WavError extends Error {
  /** A bad file is the user's to fix: stage CLIs print one line, not a stack. */
  readonly userError = true;
  readonly file: string;
  readonly problem: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'WavError';
    this.file = file;
    this.problem = problem;
  }
}

export type WavSampleFormat = 'pcm' | 'float';

export interface DecodedWav {
  /** Hz */
  sampleRate: number;
  /** one Float32Array of `frames` samples per channel, in [-1, 1) for PCM */
  channels: Float32Array[];
  /** mean over channels, `frames` samples (the same array as channels[0] when mono) */
  mono: Float32Array;
  /** container bits per sample (8, 16, 24, 32 or 64) */
  bitsPerSample: number;
  format: WavSampleFormat;
}

const FORMAT_NAMES: Record<number, string> = {
  0x0001: 'PCM',
  0x0002: 'Microsoft ADPCM',
  0x0003: 'IEEE float',
  0x0006: 'A-law',
  0x0007: 'mu-law',
  0x0011: 'IMA ADPCM',
  0x0031: 'GSM 6.10',
  0x0050: 'MPEG',
  0x0055: 'MPEG layer 3 (MP3)',
  0x00ff: 'AAC',
  0xfffe: 'WAVE_FORMAT_EXTENSIBLE',
};

/** `0x0002 (Microsoft ADPCM)` */
function formatTagName(tag: number): string {
  const hex = `0x${tag.toString(16).padStart(4, '0').toUpperCase()}`;
  return FORMAT_NAMES[tag] ? `${hex} (${FORMAT_NAMES[tag]})` : `${hex} (unknown)`;
}

// Bytes 2..15 of every KSDATAFORMAT_SUBTYPE_* GUID; bytes 0..1 hold the plain format tag.
const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

interface FmtInfo {
  format: WavSampleFormat;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
}

function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

/** Parses and validates the `fmt ` chunk body (`size` bytes at `at`). */
function parseFmt(view: DataView, bytes: Uint8Array, at: number, size: number, name: string): FmtInfo {
  if (size < 16) throw new WavError(name, `truncated header: 'fmt ' chunk has ${size} bytes, expected at least 16`);
  let tag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bitsPerSample = view.getUint16(at + 14, true);
  if (tag === 0xfffe) {
    if (size < 40) {
      throw new WavError(name, `truncated header: WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk has ${size} bytes, expected 40`);
    }
    const guid = at + 24;
    for (let i = 0; i < GUID_TAIL.length; i++) {
      if (bytes[guid + 2 + i] !== GUID_TAIL[i]) {
        throw new WavError(name, 'unsupported codec: WAVE_FORMAT_EXTENSIBLE with a non-PCM, non-float sub-format GUID');
      }
    }
    const sub = view.getUint16(guid, true);
    if (sub !== 0x0001 && sub !== 0x0003) {
      throw new WavError(name, `unsupported codec: WAVE_FORMAT_EXTENSIBLE sub-format ${formatTagName(sub)}`);
    }
    tag = sub;
  }
  if (tag !== 0x0001 && tag !== 0x0003) {
    throw new WavError(name, `unsupported codec: format tag ${formatTagName(tag)}; supported: PCM, IEEE float, WAVE_FORMAT_EXTENSIBLE`);
  }
  const format: WavSampleFormat = tag === 0x0001 ? 'pcm' : 'float';
  if (channels === 0) throw new WavError(name, "bad header: 'fmt ' says 0 channels");
  if (sampleRate === 0) throw new WavError(name, "bad header: 'fmt ' says sample rate 0 Hz");
  const okBits = format === 'pcm' ? [8, 16, 24, 32] : [32, 64];
  if (!okBits.includes(bitsPerSample)) {
    throw new WavError(name, `unsupported codec: ${bitsPerSample}-bit ${format === 'pcm' ? 'PCM' : 'IEEE float'} (supported: ${okBits.join('/')}-bit)`);
  }
  const expectAlign = channels * (bitsPerSample / 8);
  if (blockAlign !== expectAlign) {
    throw new WavError(
      name,
      `block-align mismatch: 'fmt ' says ${blockAlign} bytes per frame, but ${channels} channel(s) x ${bitsPerSample} bits = ${expectAlign}`,
    );
  }
  return { format, channels, sampleRate, blockAlign, bitsPerSample };
}

/**
 * Channel `c` of frames [first, first + n) of the data chunk (which starts at byte `at`), scaled,
 * into dst[0..n).
 */
function decodeChannel(view: DataView, bytes: Uint8Array, at: number, f: FmtInfo, c: number, first: number, n: number, dst: Float32Array): void {
  if (n <= 0) return;
  const nch = f.channels;
  const bps = f.bitsPerSample / 8;
  if (f.format === 'pcm' && f.bitsPerSample === 16 && (bytes.byteOffset + at) % 2 === 0 && LITTLE_ENDIAN) {
    // Fast path for the common case: an aligned Int16Array view over the data chunk.
    const src = new Int16Array(bytes.buffer, bytes.byteOffset + at + first * f.blockAlign, n * nch);
    for (let i = 0, j = c; i < n; i++, j += nch) dst[i] = src[j]! / 32768;
    return;
  }
  let p = at + first * f.blockAlign + c * bps;
  const step = f.blockAlign;
  if (f.format === 'float') {
    if (bps === 4) for (let i = 0; i < n; i++, p += step) dst[i] = view.getFloat32(p, true);
    else for (let i = 0; i < n; i++, p += step) dst[i] = view.getFloat64(p, true);
  } else if (bps === 1) {
    for (let i = 0; i < n; i++, p += step) dst[i] = (bytes[p]! - 128) / 128;
  } else if (bps === 2) {
    for (let i = 0; i < n; i++, p += step) dst[i] = view.getInt16(p, true) / 32768;
  } else if (bps === 3) {
    for (let i = 0; i < n; i++, p += step) {
      const u = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16);
      dst[i] = ((u << 8) >> 8) / 8388608; // sign-extend 24 -> 32 bits
    }
  } else {
    for (let i = 0; i < n; i++, p += step) dst[i] = view.getInt32(p, true) / 2147483648;
  }
}

/** Deinterleaves and scales `frames` frames starting at byte `at` into one array per channel. */
function decodeSamples(view: DataView, bytes: Uint8Array, at: number, frames: number, f: FmtInfo): Float32Array[] {
  const out: Float32Array[] = [];
  for (let c = 0; c < f.channels; c++) {
    const dst = new Float32Array(frames);
    decodeChannel(view, bytes, at, f, c, 0, frames, dst);
    out.push(dst);
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** librosa.to_mono: the mean over channels (a new array, or `out`, unless there is one channel). */
function toMono(channels: Float32Array[], out: Float32Array = new Float32Array(channels[0]!.length)): Float32Array {
  if (channels.length === 1) return channels[0]!;
  const n = channels[0]!.length;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < channels.length; c++) s += channels[c]![i]!;
    out[i] = s / channels.length;
  }
  return out;
}

/** What the header says: the 'fmt ' chunk, where the 'data' chunk's samples start, how many frames. */
interface WavLayout {
  view: DataView;
  fmt: FmtInfo;
  dataAt: number; // byte offset of the first frame
  frames: number;
}

/** Walks and checks the chunks of a WAV held in memory (the errors of decodeWav). */
function parseWav(bytes: Uint8Array, name: string): WavLayout {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.byteLength;
  if (len < 12) throw new WavError(name, `truncated header: ${len} bytes, a RIFF/WAVE header needs at least 12`);
  const riff = fourcc(bytes, 0);
  if (riff !== 'RIFF') {
    const hint = riff === 'RF64' || riff === 'RIFX' ? ` (${riff} is not supported)` : '';
    throw new WavError(name, `not a RIFF/WAVE file: starts with ${JSON.stringify(riff)} instead of "RIFF"${hint}`);
  }
  if (fourcc(bytes, 8) !== 'WAVE') {
    throw new WavError(name, `not a RIFF/WAVE file: RIFF form type is ${JSON.stringify(fourcc(bytes, 8))} instead of "WAVE"`);
  }
  let fmt: FmtInfo | undefined;
  let data: { at: number; size: number } | undefined;
  let p = 12;
  while (p < len) {
    if (p + 8 > len) {
      if (fmt && data) break; // trailing garbage after a complete file: harmless
      throw new WavError(name, `truncated header: chunk header at byte ${p} needs 8 bytes, only ${len - p} present`);
    }
    const id = fourcc(bytes, p);
    const size = view.getUint32(p + 4, true);
    const body = p + 8;
    const present = len - body;
    if (id === 'fmt ') {
      if (size > present) {
        throw new WavError(name, `truncated header: 'fmt ' chunk declares ${size} bytes, only ${present} present`);
      }
      fmt = parseFmt(view, bytes, body, size, name);
    } else if (id === 'data') {
      if (size > present) {
        throw new WavError(name, `truncated data: 'data' chunk declares ${size} bytes, only ${present} present`);
      }
      data = { at: body, size };
    } else if (size > present) {
      // An unknown chunk running past the end: fine if we already have what we need.
      if (fmt && data) break;
      throw new WavError(name, `truncated file: '${id}' chunk at byte ${p} declares ${size} bytes, only ${present} present`);
    }
    p = body + size + (size & 1);
  }
  if (!fmt) throw new WavError(name, "no 'fmt ' chunk");
  if (!data) throw new WavError(name, "no 'data' chunk");
  if (data.size % fmt.blockAlign !== 0) {
    throw new WavError(
      name,
      `block-align mismatch: 'data' chunk has ${data.size} bytes, not a multiple of the ${fmt.blockAlign}-byte frame`,
    );
  }
  const frames = data.size / fmt.blockAlign;
  if (frames === 0) throw new WavError(name, "zero frames: the 'data' chunk is empty");
  return { view, fmt, dataAt: data.at, frames };
}

/**
 * Decodes a WAV file held in memory. `name` is only used in error messages (pass the path).
 * Throws WavError for: not RIFF/WAVE, truncated header or data, missing `fmt ` or `data` chunk,
 * zero frames, unsupported codec or bit depth, block-align mismatch.
 */
export function decodeWav(bytes: Uint8Array, name: string): DecodedWav {
  const { view, fmt, dataAt, frames } = parseWav(bytes, name);
  const channels = decodeSamples(view, bytes, dataAt, frames, fmt);
  return {
    sampleRate: fmt.sampleRate,
    channels,
    mono: toMono(channels),
    bitsPerSample: fmt.bitsPerSample,
    format: fmt.format,
  };
}

/** One analysis window of a WAV file: its sample rate and the window's mono samples. */
export interface WavWindow {
  /** Hz */
  sampleRate: number;
  /** int(durationSeconds * sampleRate) samples, zero-padded past the end of the file */
  samples: Float32Array;
}

/**
 * The window that `segmentWindow(decodeWav(bytes, name).mono, sampleRate, offsetSeconds,
 * durationSeconds)` gives (the same values), decoding only the window's frames: librosa.load(offset,
 * duration) at the file's own rate. Writes into `out` when it has exactly the window's length
 * (reuse one buffer across files of one rate), else into a new array. Throws as decodeWav does.
 */
export function decodeWavWindow(bytes: Uint8Array, name: string, offsetSeconds: number, durationSeconds: number, out?: Float32Array): WavWindow {
  const { view, fmt, dataAt, frames } = parseWav(bytes, name);
  const start = windowStart(fmt.sampleRate, offsetSeconds);
  const n = windowLength(fmt.sampleRate, durationSeconds);
  if (!(n >= 1) || !(start >= 0)) throw new RangeError(`decodeWavWindow: need offset >= 0 s and at least one sample, got offset ${offsetSeconds} s, duration ${durationSeconds} s`);
  const samples = out?.length === n ? out : new Float32Array(n);
  const have = Math.max(0, Math.min(frames, start + n) - start); // frames of the file inside the window
  if (fmt.channels === 1) decodeChannel(view, bytes, dataAt, fmt, 0, start, have, samples);
  else {
    const channels: Float32Array[] = [];
    for (let c = 0; c < fmt.channels; c++) {
      const dst = new Float32Array(have);
      decodeChannel(view, bytes, dataAt, fmt, c, start, have, dst);
      channels.push(dst);
    }
    toMono(channels, samples);
  }
  samples.fill(0, have); // the padding (and what a reused buffer held)
  return { sampleRate: fmt.sampleRate, samples };
}
