// Recognises what an input file is from its first bytes, so that a non-WAV input gets a message
// that says what it is and how to convert it, not a dump of its header bytes.

/** Bytes needed by `notWavProblem`: RIFF + size + form type. */
export const HEADER_BYTES = 12;

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

/** The audio container or codec the header belongs to, when it is a known non-WAV one. */
export function sniffFormat(head: Uint8Array): string | null {
  if (ascii(head, 0, 3) === 'ID3') return 'MP3';
  if (head[0] === 0xff && head.length > 1 && (head[1]! & 0xe0) === 0xe0) return (head[1]! & 0x06) === 0 ? 'AAC (ADTS)' : 'MP3';
  if (ascii(head, 0, 4) === 'fLaC') return 'FLAC';
  if (ascii(head, 0, 4) === 'OggS') return 'Ogg (Vorbis/Opus)';
  if (ascii(head, 4, 4) === 'ftyp') return 'MP4/M4A';
  if (ascii(head, 0, 4) === 'FORM' && /^AIF[FC]$/.test(ascii(head, 8, 4))) return 'AIFF';
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return 'WebM/Matroska';
  if (ascii(head, 0, 5) === '#!AMR') return 'AMR';
  if (ascii(head, 0, 4) === 'RF64') return 'RF64 (64-bit WAV)';
  return null;
}

const shellWord = (s: string) => (/^[\w./+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** `ffmpeg -i x.mp3 x.wav`: the conversion command for `file` (never overwriting it). */
export function convertHint(file: string): string {
  const base = file.replace(/\.[^./]*$/, '');
  const out = /\.wav$/i.test(file) ? `${base}.converted.wav` : `${base}.wav`;
  return `ffmpeg -i ${shellWord(file)} ${shellWord(out)}`;
}

/**
 * Why the file whose first bytes are `head` is not a RIFF/WAVE file, or null when it is one.
 * The message names the file: `x.mp3: MP3 is not supported, convert to WAV (e.g. ffmpeg -i x.mp3 x.wav)`.
 */
export function notWavProblem(head: Uint8Array, file: string): string | null {
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 4) === 'WAVE') return null;
  const convert = `convert to WAV (e.g. ${convertHint(file)})`;
  const format = sniffFormat(head);
  if (format) return `${file}: ${format} is not supported, ${convert}`;
  if (head.length < HEADER_BYTES) return `${file}: not a WAV file (${head.length} bytes, a RIFF/WAVE header needs ${HEADER_BYTES})`;
  if (ascii(head, 0, 4) === 'RIFF') return `${file}: a RIFF file of type ${JSON.stringify(ascii(head, 8, 4))}, not WAVE audio; ${convert}`;
  return `${file}: not a WAV file (no RIFF/WAVE header); if it is audio, ${convert}`;
}
