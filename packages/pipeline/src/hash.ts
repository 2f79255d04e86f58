/**
 * Content hashes (md5, as DVC) with a size+mtime+inode memo so an unchanged file is never re-read.
 * A directory hashes to the md5 of its manifest (sorted relpath, md5, size) plus `.dir`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

export interface FileEntry {
  /** Path relative to the hashed directory (posix). */
  relpath: string;
  md5: string;
  size: number;
}

export interface HashInfo {
  md5: string;
  size: number;
  /** Present for directories and globs. */
  nfiles?: number;
  /** Manifest of a directory (not written to the lock; stored in the cache as `<md5>.dir`). */
  entries?: FileEntry[];
}

type MemoRow = [size: number, mtimeMs: number, ino: number, md5: string];

const CHUNK = 8 << 20;

/** Glob metacharacters (fast-glob syntax); fast-glob itself is loaded only when a dep is a glob. */
export function isGlob(p: string): boolean {
  return /[*?[\]{}!]|[@+]\(/.test(p);
}

let fgCache: typeof import('fast-glob') | undefined;
function fastGlob(): typeof import('fast-glob') {
  fgCache ??= createRequire(import.meta.url)('fast-glob') as typeof import('fast-glob');
  return fgCache;
}

export function md5File(abs: string): string {
  const h = crypto.createHash('md5');
  const fd = fs.openSync(abs, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      h.update(n === CHUNK ? buf : buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

export function md5Text(s: string): string {
  return crypto.createHash('md5').update(s).digest('hex');
}

export function manifestMd5(entries: FileEntry[]): string {
  return md5Text(JSON.stringify(entries.map((e) => [e.relpath, e.md5, e.size]))) + '.dir';
}

/** Memo of file hashes keyed by path, persisted in `.pipeline/state.json`. */
export class Hasher {
  private memo: Record<string, MemoRow> = {};
  private dirty = false;
  /** Bytes actually read for hashing in this process (the bench checks it is 0 on a no-op). */
  bytesHashed = 0;
  filesHashed = 0;

  constructor(private root: string, private stateFile: string) {
    try {
      this.memo = JSON.parse(fs.readFileSync(stateFile, 'utf8')).files ?? {};
    } catch {
      this.memo = {};
    }
  }

  save(): void {
    if (!this.dirty) return;
    fs.mkdirSync(path.dirname(this.stateFile), { recursive: true });
    const tmp = `${this.stateFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ version: 1, files: this.memo }));
    fs.renameSync(tmp, this.stateFile);
    this.dirty = false;
  }

  /** md5 of one file, from the memo when size, mtime and inode are unchanged. */
  fileMd5(abs: string, st: fs.Stats, memoize = true): string {
    const key = path.relative(this.root, abs);
    const row = this.memo[key];
    if (memoize && row && row[0] === st.size && row[1] === st.mtimeMs && row[2] === st.ino) return row[3];
    const md5 = md5File(abs);
    this.bytesHashed += st.size;
    this.filesHashed++;
    if (memoize) this.remember(abs, st, md5);
    return md5;
  }

  remember(abs: string, st: fs.Stats, md5: string): void {
    const key = path.relative(this.root, abs);
    this.memo[key] = [st.size, st.mtimeMs, st.ino, md5];
    this.dirty = true;
  }

  /** Per-process results of hashPath: deps are read by many stages; only the engine changes outs. */
  private seen = new Map<string, HashInfo | undefined>();

  /** Forget per-process results touching `rel` (called after the engine writes an out). */
  invalidate(rel: string): void {
    for (const k of this.seen.keys()) {
      if (k === rel || k.startsWith(rel + '/') || rel.startsWith(k + '/') || /[*?[{]/.test(k)) this.seen.delete(k);
    }
  }

  /** Hash a workspace path (file, directory or fast-glob pattern); undefined when missing/empty glob. */
  hashPath(rel: string): HashInfo | undefined {
    if (this.seen.has(rel)) return this.seen.get(rel);
    const h = this.hashPathUncached(rel);
    this.seen.set(rel, h);
    return h;
  }

  private hashPathUncached(rel: string): HashInfo | undefined {
    const abs = path.resolve(this.root, rel);
    if (isGlob(rel) && !fs.existsSync(abs)) {
      const files = fastGlob().sync(rel, { cwd: this.root, dot: true, onlyFiles: true }).sort();
      if (files.length === 0) return undefined;
      const entries = files.map((f) => {
        const a = path.resolve(this.root, f);
        const st = fs.statSync(a);
        return { relpath: f, md5: this.fileMd5(a, st), size: st.size };
      });
      return withManifest(entries);
    }
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      return undefined;
    }
    if (st.isDirectory()) return withManifest(this.walk(abs));
    return { md5: this.fileMd5(abs, st), size: st.size };
  }

  /** Files under `absDir` (any depth), sorted by relpath; `memoize = false` for paths about to move (staging). */
  walk(absDir: string, memoize = true): FileEntry[] {
    const out: FileEntry[] = [];
    const rec = (dir: string, prefix: string) => {
      for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
        const a = path.join(dir, d.name);
        const rel = prefix ? `${prefix}/${d.name}` : d.name;
        const st = fs.statSync(a);
        if (st.isDirectory()) rec(a, rel);
        else if (st.isFile()) out.push({ relpath: rel, md5: this.fileMd5(a, st, memoize), size: st.size });
      }
    };
    rec(absDir, '');
    return out.sort((x, y) => (x.relpath < y.relpath ? -1 : x.relpath > y.relpath ? 1 : 0));
  }
}

export function withManifest(entries: FileEntry[]): HashInfo {
  return { md5: manifestMd5(entries), size: entries.reduce((s, e) => s + e.size, 0), nfiles: entries.length, entries };
}
