/**
 * Remotes: a second copy of the cache that several workspaces share, on S3-compatible object
 * storage (`remote-s3.ts`, loaded only when a command uses one) or in a folder (NFS).
 *
 * Layout on the remote, mirroring the local cache:
 *   files/md5/<md5[0:2]>/<md5[2:]>   content-addressed objects (`<md5>.dir` manifests too)
 *   runs/<relative path>             run-cache entries, copied as opaque files
 *
 * Only what is missing moves (one listing per area first); every download is verified against its
 * md5 before it enters the cache; nothing is ever visible under its final name half-written (a
 * folder remote and the local cache write a temp name and rename; an S3 PutObject is atomic and
 * carries Content-MD5, so the server rejects a corrupted upload).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { shortBytes } from './bytes.ts';
import { PipelineError } from './errors.ts';
import { manifestMd5, md5File, type FileEntry } from './hash.ts';
import { parseRemoteUrl, type RemoteConfig } from './config.ts';

export const OBJECTS_AREA = 'files/md5';
export const RUNS_AREA = 'runs';

export interface RemoteEntry {
  size: number;
  /** The S3 ETag without quotes (the md5 of the bytes for a single-part upload). */
  etag?: string;
}

/** One remote, whatever it is stored on. Keys are posix paths relative to the remote's root. */
export interface RemoteBackend {
  /** `remote 'origin' (s3://bucket/prefix)`: how every message names it. */
  readonly label: string;
  /** Every complete object under `area` (`files/md5` or `runs`), by key relative to the area. */
  list(area: string): Promise<Map<string, RemoteEntry>>;
  /** Upload `fileAbs` under `key` atomically; `bytesMd5` is the md5 of the file's bytes. */
  put(key: string, fileAbs: string, size: number, bytesMd5: string): Promise<void>;
  /** Download `key` to `destAbs` (a temp path the caller verifies, then renames); returns the ETag when the store has one. */
  get(key: string, destAbs: string): Promise<{ etag?: string }>;
}

/** `files/md5/ab/cdef...` for a cache key (`<md5>` or `<md5>.dir`), relative to its area. */
export function objectKey(md5: string): string {
  return `${md5.slice(0, 2)}/${md5.slice(2)}`;
}

export function isPlainMd5(etag: string | undefined): etag is string {
  return !!etag && /^[0-9a-f]{32}$/.test(etag);
}

/** Is the remote copy whole? The size must match, and an ETag that is a plain md5 must be the bytes' md5. */
export function remoteCopyIsWhole(entry: RemoteEntry | undefined, size: number, bytesMd5: string | undefined): boolean {
  if (!entry || entry.size !== size) return false;
  return !isPlainMd5(entry.etag) || bytesMd5 === undefined || entry.etag === bytesMd5;
}

export function remoteLabel(name: string, remote: RemoteConfig): string {
  return `remote '${name}' (${remote.url}${remote.endpoint ? ` at ${remote.endpoint}` : ''})`;
}

/** Open a configured remote; an S3 remote loads the AWS SDK only now. */
export async function openRemote(root: string, name: string, remote: RemoteConfig): Promise<RemoteBackend> {
  const loc = parseRemoteUrl(remote.url, root);
  const label = remoteLabel(name, remote);
  if (loc.kind === 'folder') return new FolderRemote(loc.dir, label);
  const { openS3Remote } = await import('./remote-s3.ts');
  return openS3Remote({ bucket: loc.bucket, prefix: loc.prefix, endpoint: remote.endpoint, region: remote.region, forcePathStyle: remote.force_path_style ?? false, label });
}

/** A temp name beside `final`: unique per process and call, never mistaken for an object. */
export function tempNameFor(final: string): string {
  return `${final}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
}
const TEMP_NAME = /\.tmp-\d+-[0-9a-f]{8}$/;

/** Files below `dir` (recursively) by posix relative path -> size in bytes, leaving out the names
 *  `isTemp` matches; a missing folder is empty. */
export function filesUnder(dir: string, isTemp: (name: string) => boolean): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (at: string, prefix: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(at, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of entries) {
      const rel = prefix ? `${prefix}/${d.name}` : d.name;
      if (d.isDirectory()) walk(path.join(at, d.name), rel);
      else if (d.isFile() && !isTemp(d.name)) out.set(rel, fs.statSync(path.join(at, d.name)).size);
    }
  };
  walk(dir, '');
  return out;
}

/** A shared folder (NFS): files written under a temp name and renamed (atomic on one file system). */
export class FolderRemote implements RemoteBackend {
  constructor(
    readonly dir: string,
    readonly label: string,
  ) {}

  private checkRoot(): void {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.dir);
    } catch {
      throw new PipelineError(`${this.label}: folder ${this.dir} does not exist (create it, or mount the share)`);
    }
    if (!st.isDirectory()) throw new PipelineError(`${this.label}: ${this.dir} is not a folder`);
  }

  async list(area: string): Promise<Map<string, RemoteEntry>> {
    this.checkRoot();
    const base = path.join(this.dir, area);
    const out = new Map<string, RemoteEntry>();
    for (const [rel, size] of filesUnder(base, (name) => TEMP_NAME.test(name))) out.set(rel, { size });
    return out;
  }

  async put(key: string, fileAbs: string): Promise<void> {
    const final = path.join(this.dir, key);
    fs.mkdirSync(path.dirname(final), { recursive: true });
    const tmp = tempNameFor(final);
    try {
      await fs.promises.copyFile(fileAbs, tmp);
      await fs.promises.chmod(tmp, 0o444);
      await fs.promises.rename(tmp, final);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw new PipelineError(`${this.label}: cannot write ${key}: ${(e as Error).message}`);
    }
  }

  async get(key: string, destAbs: string): Promise<{ etag?: string }> {
    try {
      await streamPipeline(fs.createReadStream(path.join(this.dir, key)), fs.createWriteStream(destAbs));
    } catch (e) {
      throw new PipelineError(`${this.label}: cannot read ${key}: ${(e as Error).message}`);
    }
    return {};
  }
}

// ------------------------------------------------------------------------------- verification

/**
 * Check a downloaded cache object before it enters the cache: a file's bytes must hash to its
 * md5; a `.dir` manifest must parse and hash (as the engine hashes directories) to its key.
 * Returns the problem, or undefined when it is the object it claims to be.
 */
export function verifyObject(md5: string, fileAbs: string): string | undefined {
  if (!md5.endsWith('.dir')) {
    const got = md5File(fileAbs);
    return got === md5 ? undefined : `its md5 is ${got}`;
  }
  let entries: FileEntry[];
  try {
    entries = JSON.parse(fs.readFileSync(fileAbs, 'utf8')) as FileEntry[];
    if (!Array.isArray(entries)) return 'it is not a directory manifest';
  } catch {
    return 'it is not a directory manifest (invalid JSON)';
  }
  const got = manifestMd5(entries);
  return got === md5 ? undefined : `its manifest hashes to ${got}`;
}

// ------------------------------------------------------------------------------- parallel work

/** Run `work` over `items`, at most `jobs` at once; every item is tried; returns the failures. */
export async function runPool<T>(items: T[], jobs: number, work: (item: T) => Promise<void>): Promise<{ item: T; error: Error }[]> {
  const failures: { item: T; error: Error }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (e) {
        failures.push({ item, error: e as Error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
  return failures;
}

// ------------------------------------------------------------------------------- progress


/** `[#######>------------]`: `done` of `total` as a bar of `width` cells (as stage-kit draws it). */
export function bar(done: number, total: number, width = 20): string {
  const filled = total > 0 ? Math.min(width, Math.floor((width * done) / total)) : width;
  const head = filled < width && done > 0 ? '>' : '';
  return `[${'#'.repeat(filled)}${head}${'-'.repeat(width - filled - head.length)}]`;
}

export interface ProgressOptions {
  /** Redraw one line in place (default: stdout is a terminal and TERM is not `dumb`). */
  tty?: boolean;
  /** Minimum ms between updates (default: 100 on a terminal, 1000 otherwise: CI logs stay short). */
  intervalMs?: number;
  write?: (s: string) => void;
  now?: () => number;
}

/**
 * The transfer progress line: `push: 12/40 objects, 1.2 MiB/9.8 MiB [####>----] 3.1 MiB/s`,
 * redrawn in place on a terminal, plain rate-limited lines otherwise (the last one always shown).
 */
export class TransferProgress {
  private files = 0;
  private bytes = 0;
  private last = -Infinity;
  private drawn = false;
  private readonly started: number;
  private readonly tty: boolean;
  private readonly interval: number;
  private readonly write: (s: string) => void;
  private readonly now: () => number;

  constructor(
    private readonly verb: string,
    private totalFiles: number,
    private totalBytes: number,
    opts: ProgressOptions = {},
  ) {
    this.tty = opts.tty ?? (!!process.stdout.isTTY && process.env.TERM !== 'dumb');
    this.interval = opts.intervalMs ?? (this.tty ? 100 : 1000);
    this.write = opts.write ?? ((s) => void process.stdout.write(s));
    this.now = opts.now ?? Date.now;
    this.started = this.now();
  }

  /** More work found on the way (a pull learns a directory's files from its manifest). */
  expect(files: number, bytes: number): void {
    this.totalFiles += files;
    this.totalBytes += bytes;
  }

  done(bytes: number): void {
    this.files++;
    this.bytes += bytes;
    this.show(this.files === this.totalFiles);
  }

  private show(final: boolean): void {
    const t = this.now();
    if (!final && t - this.last < this.interval) return;
    this.last = t;
    const secs = Math.max((t - this.started) / 1000, 1e-3);
    const text = `${this.verb}: ${this.files}/${this.totalFiles} files, ${shortBytes(this.bytes)}/${shortBytes(this.totalBytes)} ${bar(this.bytes, this.totalBytes)} ${shortBytes(Math.round(this.bytes / secs))}/s`;
    if (!this.tty) return this.write(text + '\n');
    this.write(`\r\x1b[2K${text}`);
    this.drawn = true;
  }

  /** Erase a redrawn line so the summary starts clean. */
  clear(): void {
    if (this.drawn) this.write('\r\x1b[2K');
    this.drawn = false;
  }
}
