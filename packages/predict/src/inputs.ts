// ser-predict's inputs, checked before any model loads: folders become the WAV files inside
// them, and every file must exist, be readable and start with a RIFF/WAVE header.
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HEADER_BYTES, notWavProblem } from './formats.ts';

export interface CheckedInputs {
  /** Every file, in the order given (a folder's WAVs in name order), with its problem if any. */
  files: { file: string; error?: string }[];
  /** What the folders stood for, e.g. `clips: 12 WAV files (2 other files skipped)`. */
  notes: string[];
}

const errCode = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/** The first bytes of `file`, or why it cannot be read. */
async function readHead(file: string): Promise<Uint8Array | string> {
  let fh;
  try {
    fh = await open(file, 'r');
    const head = new Uint8Array(HEADER_BYTES);
    const { bytesRead } = await fh.read(head, 0, HEADER_BYTES, 0);
    return head.subarray(0, bytesRead);
  } catch (e) {
    return `${file}: cannot read (${errCode(e)})`;
  } finally {
    await fh?.close();
  }
}

/** The .wav files directly inside `dir` in name order, and a note on what was found. */
async function wavsIn(dir: string): Promise<{ wavs: string[]; note?: string; error?: string }> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    return { wavs: [], error: `${dir}: cannot read the folder (${errCode(e)})` };
  }
  const wavs = entries.filter((e) => !e.isDirectory() && /\.wav$/i.test(e.name)).map((e) => e.name).sort();
  const others = entries.filter((e) => !e.isDirectory() && !/\.wav$/i.test(e.name)).length;
  const folders = entries.filter((e) => e.isDirectory()).length;
  const skipped = [others ? `${others} other file${others > 1 ? 's' : ''}` : '', folders ? `${folders} subfolder${folders > 1 ? 's' : ''}` : ''].filter(Boolean).join(', ');
  if (wavs.length === 0) return { wavs, error: `${dir}: no .wav files in this folder${skipped ? ` (${skipped}; subfolders are not searched, pass them instead)` : ''}` };
  return { wavs: wavs.map((n) => join(dir, n)), note: `${dir}: ${wavs.length} WAV file${wavs.length > 1 ? 's' : ''}${skipped ? ` (${skipped} skipped)` : ''}` };
}

/** Expands folders and checks every file's header; reads no more than 12 bytes of each. */
export async function checkInputs(paths: readonly string[]): Promise<CheckedInputs> {
  const out: CheckedInputs = { files: [], notes: [] };
  for (const path of paths) {
    let isDir = false;
    try {
      isDir = (await stat(path)).isDirectory();
    } catch (e) {
      out.files.push({ file: path, error: `${path}: cannot read (${errCode(e)})` });
      continue;
    }
    const files = isDir ? await wavsIn(path) : { wavs: [path] };
    if ('note' in files && files.note) out.notes.push(files.note);
    if ('error' in files && files.error) out.files.push({ file: path, error: files.error });
    for (const file of files.wavs) {
      const head = await readHead(file);
      const error = typeof head === 'string' ? head : notWavProblem(head, file);
      out.files.push(error ? { file, error } : { file });
    }
  }
  return out;
}
