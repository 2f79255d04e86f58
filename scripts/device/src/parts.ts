// Split one file into numbered parts of at most `maxBytes` each and describe them in a manifest
// (sha256 per part, plus the whole stream's), so a part that arrives damaged is named on unpack.
// The manifest is also written as SHA256SUMS so `sha256sum -c` checks it where no Node runs yet.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

/** 1 MiB in bytes. */
export const MIB = 1 << 20;
/** Default part size: 56 MiB, so a part plus the ~2 MB working tree fits one 64 MiB transfer. */
export const DEFAULT_PART_BYTES = 56 * MIB;

export interface PartInfo { file: string; bytes: number; sha256: string }
export interface PartsManifest {
  /** What the parts hold, e.g. 'node_modules.tar.xz' or 'ravdess-segments.serc.xz'. */
  name: string;
  /** Bytes of the whole (concatenated) stream and its sha256. */
  bytes: number;
  sha256: string;
  parts: PartInfo[];
  /** Free facts (clip count, window, ...). */
  meta?: Record<string, unknown>;
}

export class PartError extends Error {}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * Splits `srcFile` into `<outDir>/<prefix>.partNN` (NN from 00) of at most `maxBytes` bytes, writes
 * `<outDir>/<prefix>.manifest.json` and `<outDir>/<prefix>.SHA256SUMS`; returns the manifest.
 */
export function splitFile(srcFile: string, outDir: string, prefix: string, maxBytes = DEFAULT_PART_BYTES, meta?: Record<string, unknown>): PartsManifest {
  if (!(maxBytes >= 1)) throw new RangeError(`splitFile: maxBytes must be >= 1, got ${maxBytes}`);
  const total = statSync(srcFile).size;
  const whole = createHash('sha256');
  const parts: PartInfo[] = [];
  const fd = openSync(srcFile, 'r');
  try {
    const buf = Buffer.alloc(Math.min(maxBytes, Math.max(total, 1)));
    for (let off = 0, i = 0; off < total || (total === 0 && i === 0); i++) {
      const n = readSync(fd, buf, 0, Math.min(maxBytes, total - off), off);
      const chunk = buf.subarray(0, n);
      const file = `${prefix}.part${String(i).padStart(2, '0')}`;
      writeFileSync(join(outDir, file), chunk);
      whole.update(chunk);
      parts.push({ file, bytes: n, sha256: sha(chunk) });
      off += n;
      if (total === 0) break;
    }
  } finally {
    closeSync(fd);
  }
  const m: PartsManifest = { name: basename(srcFile), bytes: total, sha256: whole.digest('hex'), parts, ...(meta ? { meta } : {}) };
  writeFileSync(join(outDir, `${prefix}.manifest.json`), JSON.stringify(m, null, 2) + '\n');
  writeFileSync(join(outDir, `${prefix}.SHA256SUMS`), parts.map((p) => `${p.sha256}  ${p.file}\n`).join(''));
  return m;
}

export function readManifest(path: string): PartsManifest {
  if (!existsSync(path)) throw new PartError(`manifest not found: ${path}`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PartsManifest;
  } catch (e) {
    throw new PartError(`manifest ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * Reads the parts listed in `manifest` from `dir`, checks each one's size and sha256 (a missing or
 * damaged part throws PartError naming its path) and the whole stream's; returns the stream.
 */
export function joinParts(dir: string, manifest: PartsManifest): Buffer {
  const chunks: Buffer[] = [];
  for (const p of manifest.parts) {
    const path = join(dir, p.file);
    if (!existsSync(path)) throw new PartError(`part missing: ${path} (copy it with this transfer, or with an earlier one to this host)`);
    const b = readFileSync(path);
    if (b.length !== p.bytes) throw new PartError(`part ${path} has ${b.length} bytes, manifest says ${p.bytes} (truncated or wrong part)`);
    if (sha(b) !== p.sha256) throw new PartError(`part ${path} is corrupt: sha256 ${sha(b)} != manifest ${p.sha256}`);
    chunks.push(b);
  }
  const all = Buffer.concat(chunks);
  if (sha(all) !== manifest.sha256) throw new PartError(`stream ${manifest.name}: sha256 of the joined parts differs from the manifest`);
  return all;
}
