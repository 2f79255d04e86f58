/**
 * Content-addressed cache: `.pipeline/cache/<md5[0:2]>/<md5[2:]>` (directories: `<md5>.dir`
 * holds the manifest). Objects are read-only; workspace files are reflinks, hardlinks or copies.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FileEntry, HashInfo, Hasher } from './hash.ts';

export type LinkType = 'reflink' | 'hardlink' | 'copy';

export class Cache {
  readonly dir: string;
  private types: LinkType[];

  constructor(dir: string, types: LinkType[] = parseLinkTypes(process.env.PIPELINE_CACHE_TYPE)) {
    this.dir = dir;
    this.types = types;
  }

  objectPath(md5: string): string {
    return path.join(this.dir, md5.slice(0, 2), md5.slice(2));
  }

  has(info: HashInfo): boolean {
    if (!fs.existsSync(this.objectPath(info.md5))) return false;
    if (!info.md5.endsWith('.dir')) return true;
    const entries = this.readManifest(info.md5);
    return entries !== undefined && entries.every((e) => fs.existsSync(this.objectPath(e.md5)));
  }

  readManifest(md5: string): FileEntry[] | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.objectPath(md5), 'utf8')) as FileEntry[];
    } catch {
      return undefined;
    }
  }

  /** Put a file (or directory, given its manifest) into the cache; the source stays where it is. */
  store(abs: string, info: HashInfo): void {
    if (info.entries) {
      for (const e of info.entries) this.storeFile(path.join(abs, e.relpath), e.md5);
      const obj = this.objectPath(info.md5);
      if (!fs.existsSync(obj)) writeAtomic(obj, JSON.stringify(info.entries));
    } else {
      this.storeFile(abs, info.md5);
    }
  }

  private storeFile(abs: string, md5: string): void {
    const obj = this.objectPath(md5);
    if (fs.existsSync(obj)) return;
    fs.mkdirSync(path.dirname(obj), { recursive: true });
    const tmp = `${obj}.${process.pid}.tmp`;
    this.link(abs, tmp);
    fs.chmodSync(tmp, 0o444);
    fs.renameSync(tmp, obj);
  }

  /**
   * Materialise a cached out at `dest` (replacing what is there), atomically via a temp sibling.
   * Records the new files in the hasher's memo so they are not re-read.
   */
  checkout(info: HashInfo, destAbs: string, hasher: Hasher): void {
    const tmp = `${destAbs}.checkout-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(destAbs), { recursive: true });
    const placed: [string, string][] = [];
    if (info.md5.endsWith('.dir')) {
      const entries = this.readManifest(info.md5) ?? [];
      fs.mkdirSync(tmp, { recursive: true });
      for (const e of entries) {
        const to = path.join(tmp, e.relpath);
        fs.mkdirSync(path.dirname(to), { recursive: true });
        this.link(this.objectPath(e.md5), to);
        placed.push([path.join(destAbs, e.relpath), e.md5]);
      }
    } else {
      this.link(this.objectPath(info.md5), tmp);
      placed.push([destAbs, info.md5]);
    }
    fs.rmSync(destAbs, { recursive: true, force: true });
    fs.renameSync(tmp, destAbs);
    for (const [p, md5] of placed) hasher.remember(p, fs.statSync(p), md5);
  }

  /** reflink, else hardlink, else copy (first that works, remembered per process). */
  private link(from: string, to: string): void {
    while (this.types.length) {
      const t = this.types[0];
      try {
        if (t === 'reflink') fs.copyFileSync(from, to, fs.constants.COPYFILE_FICLONE_FORCE);
        else if (t === 'hardlink') fs.linkSync(from, to);
        else {
          fs.copyFileSync(from, to);
          fs.chmodSync(to, 0o644);
        }
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (t === 'copy' || code === 'ENOENT' || code === 'EEXIST') throw e;
        fs.rmSync(to, { force: true });
        this.types = this.types.slice(1);
      }
    }
    throw new Error('no cache link type left');
  }
}

export function parseLinkTypes(s: string | undefined): LinkType[] {
  const list = (s ?? 'reflink,hardlink,copy').split(',').map((x) => x.trim()).filter(Boolean) as LinkType[];
  return list.includes('copy') ? list : [...list, 'copy'];
}

export function writeAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
