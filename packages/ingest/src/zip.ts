// Minimal ZIP extractor (stored and deflate entries, no zip64, no encryption): reads the central
// directory at the end of the file, then each entry's data through a file handle, so memory is
// bounded by one entry. CRC-32 and sizes are checked; paths that escape the target are refused.
import { mkdir, open, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';

export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

export interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  encrypted: boolean;
}

async function readAt(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fh.read(buf, 0, len, pos);
  return bytesRead === len ? buf : buf.subarray(0, bytesRead);
}

/** Lists the entries of the zip at `path` (from its central directory). */
export async function listZip(path: string): Promise<ZipEntry[]> {
  const fh = await open(path, 'r');
  try {
    return await readCentralDirectory(fh, path);
  } finally {
    await fh.close();
  }
}

async function readCentralDirectory(fh: FileHandle, path: string): Promise<ZipEntry[]> {
  const size = (await fh.stat()).size;
  // End of central directory: 22 bytes + up to 65535 bytes of comment, at the very end.
  const tailLen = Math.min(size, 22 + 65535);
  const tail = await readAt(fh, size - tailLen, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError(`${path}: not a zip file (no end-of-central-directory record)`);
  const count = tail.readUInt16LE(eocd + 10);
  const cdSize = tail.readUInt32LE(eocd + 12);
  const cdOffset = tail.readUInt32LE(eocd + 16);
  if (cdOffset === 0xffffffff || count === 0xffff) throw new ZipError(`${path}: zip64 archives are not supported`);
  const cd = await readAt(fh, cdOffset, cdSize);
  if (cd.length !== cdSize) throw new ZipError(`${path}: truncated zip (central directory past the end)`);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) throw new ZipError(`${path}: corrupt central directory at entry ${i}`);
    const flags = cd.readUInt16LE(p + 8);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    entries.push({
      name: cd.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen),
      method: cd.readUInt16LE(p + 10),
      crc: cd.readUInt32LE(p + 16),
      compressedSize: cd.readUInt32LE(p + 20),
      size: cd.readUInt32LE(p + 24),
      localHeaderOffset: cd.readUInt32LE(p + 42),
      encrypted: (flags & 1) === 1,
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Resolves an entry name under `dest`, refusing absolute paths and `..` (zip slip). */
function safeTarget(dest: string, name: string, zipPath: string): string {
  const rel = normalize(name.replace(/\\/g, '/'));
  if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`) || rel.startsWith('../')) {
    throw new ZipError(`${zipPath}: entry ${JSON.stringify(name)} would be written outside the target folder`);
  }
  return join(dest, rel);
}

/**
 * Extracts every entry of the zip at `path` into `dest` (created). Calls `onEntry(done, total)`
 * after each entry. Returns the number of files written.
 */
export async function extractZip(path: string, dest: string, onEntry?: (done: number, total: number) => void): Promise<number> {
  const fh = await open(path, 'r');
  try {
    const entries = await readCentralDirectory(fh, path);
    await mkdir(dest, { recursive: true });
    let files = 0;
    for (const [i, e] of entries.entries()) {
      const target = safeTarget(dest, e.name, path);
      if (e.name.endsWith('/')) {
        await mkdir(target, { recursive: true });
      } else {
        if (e.encrypted) throw new ZipError(`${path}: entry ${e.name} is encrypted`);
        if (e.method !== 0 && e.method !== 8) throw new ZipError(`${path}: entry ${e.name} uses compression method ${e.method} (only stored and deflate are supported)`);
        const local = await readAt(fh, e.localHeaderOffset, 30);
        if (local.length < 30 || local.readUInt32LE(0) !== 0x04034b50) throw new ZipError(`${path}: bad local header for ${e.name}`);
        const start = e.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
        const raw = await readAt(fh, start, e.compressedSize);
        if (raw.length !== e.compressedSize) throw new ZipError(`${path}: truncated zip (entry ${e.name})`);
        const data = e.method === 8 ? inflateRawSync(raw) : raw;
        if (data.length !== e.size || crc32(data) !== e.crc) throw new ZipError(`${path}: entry ${e.name} is corrupt (size or CRC-32 mismatch)`);
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, data);
        files += 1;
      }
      onEntry?.(i + 1, entries.length);
    }
    return files;
  } finally {
    await fh.close();
  }
}
