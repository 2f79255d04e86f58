// `ser-ingest download`: fetch the RAVDESS speech zip into data.dir, resumable and verified.
//
// Why a separate command and not part of the cached stage: data.dir is the ingest stage's dep
// (hashed by the engine before the stage runs) and a stage may write only its outs. So the user
// runs the download once; the stage then reads data.dir like any other corpus.
//
// Steps: `<dir>.zip.part` is fetched with HTTP Range requests (resumed after a cut connection or
// a killed process; a server that ignores Range restarts from byte 0), retried with back-off;
// its MD5 is checked against data.md5 (mismatch: the file is deleted, one clear error); it is
// renamed to `<dir>.zip`, extracted to `<dir>.tmp-extract/` and that folder renamed onto `<dir>`,
// so `<dir>` appears complete or not at all. The zip is deleted unless keepZip.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { dirname } from 'node:path';
import { extractZip } from './zip.ts';

/** Zenodo record 1188976: the RAVDESS speech audio (24 actors x 60 clips, ~208 MB). */
export const RAVDESS_SPEECH_URL = 'https://zenodo.org/records/1188976/files/Audio_Speech_Actors_01-24.zip?download=1';
export const RAVDESS_SPEECH_MD5 = 'bc696df654c87fed845eb13823edef8a';

export class DownloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadError';
  }
}

export interface DownloadOptions {
  /** attempts per file, including the first (default 5) */
  attempts?: number;
  /** wait before retry k is k * retryDelayMs (default 2000) */
  retryDelayMs?: number;
  /** called with bytes so far and the total (NaN when the server does not say) */
  onProgress?: (bytes: number, total: number) => void;
  log?: (msg: string) => void;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

function request(url: string, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    const req = get(url, { headers }, resolve);
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error('no data for 60 s')));
  });
}

/**
 * One attempt: appends to `part` from its current size (Range), following redirects.
 * Resolves when the server has sent everything; rejects on a cut connection (the bytes that
 * arrived stay in `part` for the next attempt).
 */
async function fetchOnce(url: string, part: string, opts: DownloadOptions): Promise<void> {
  let have = await sizeOf(part);
  // Opened before the request: between receiving the response and attaching its listeners there
  // must be no await on other I/O, or a quick 'close' (a cut connection) would be missed.
  const fh = await open(part, 'a');
  try {
    let res: IncomingMessage | undefined;
    for (let hops = 0; hops < 10; hops++) {
      res = await request(url, have > 0 ? { Range: `bytes=${have}-` } : {});
      const code = res.statusCode ?? 0;
      if (code >= 300 && code < 400 && res.headers.location) {
        res.resume();
        url = new URL(res.headers.location, url).toString();
        res = undefined;
        continue;
      }
      break;
    }
    if (!res) throw new DownloadError(`${url}: too many redirects`);
    const r = res;
    const code = r.statusCode ?? 0;
    if (code === 416 && have > 0) {
      r.resume(); // nothing left to fetch: the part file is complete (MD5 decides)
      return;
    }
    if (code !== 200 && code !== 206) {
      r.resume();
      const err = new DownloadError(`${url}: HTTP ${code} ${r.statusMessage ?? ''}`.trim());
      // 4xx other than 408/429 will not get better by retrying
      (err as DownloadError & { fatal?: boolean }).fatal = code >= 400 && code < 500 && code !== 408 && code !== 429;
      throw err;
    }
    let writing: Promise<unknown> = Promise.resolve();
    if (code === 200 && have > 0) {
      opts.log?.(`server ignored the Range request: restarting from byte 0`);
      have = 0;
      writing = fh.truncate(0); // 'a' mode: later writes go to the (new) end
    }
    const cr = /^bytes (\d+)-/.exec(String(r.headers['content-range'] ?? ''));
    if (code === 206 && cr && Number(cr[1]) !== have) {
      r.resume();
      throw new DownloadError(`${url}: asked for bytes from ${have}, server sent from ${cr[1]}`);
    }
    const len = Number(r.headers['content-length']);
    const total = Number.isFinite(len) ? have + len : NaN;
    let got = have;
    await new Promise<void>((resolve, reject) => {
      r.on('data', (chunk: Buffer) => {
        r.pause();
        writing = writing
          .then(() => fh.write(chunk))
          .then(() => {
            got += chunk.length;
            opts.onProgress?.(got, total);
            r.resume();
          });
        writing.catch(reject);
      });
      // 'close' always comes last (after 'error' on a cut): finish pending writes, then decide.
      r.on('error', () => {});
      r.on('close', () => {
        writing.then(() => {
          if (!r.complete || (Number.isFinite(total) && got < total)) {
            reject(new DownloadError(`connection cut after ${got} of ${Number.isFinite(total) ? total : '?'} bytes`));
          } else resolve();
        }, reject);
      });
    });
  } finally {
    await fh.close();
  }
}

/** Downloads `url` to `dest` (via `dest.part`, resumable), retrying; returns the path. */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<string> {
  const attempts = opts.attempts ?? 5;
  const delay = opts.retryDelayMs ?? 2000;
  const part = `${dest}.part`;
  await mkdir(dirname(dest), { recursive: true });
  for (let k = 1; ; k++) {
    try {
      await fetchOnce(url, part, opts);
      await rename(part, dest);
      return dest;
    } catch (e) {
      const fatal = (e as { fatal?: boolean }).fatal === true;
      if (fatal || k >= attempts) {
        throw new DownloadError(`download of ${url} failed after ${k} attempt(s): ${(e as Error).message} (partial file kept at ${part}; run again to resume)`);
      }
      opts.log?.(`download attempt ${k} failed (${(e as Error).message}); retrying in ${(k * delay) / 1000} s`);
      await new Promise((r) => setTimeout(r, k * delay));
    }
  }
}

/** Hex MD5 of a file, streamed. */
export async function md5File(path: string): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function isEmptyDir(path: string): Promise<boolean> {
  try {
    return (await readdir(path)).length === 0;
  } catch {
    return true; // missing counts as empty
  }
}

export interface CorpusDownload extends DownloadOptions {
  dataDir: string;
  url: string;
  /** expected hex MD5 of the zip; empty string skips the check */
  md5: string;
  keepZip?: boolean;
  /** called after each extracted zip entry */
  onExtract?: (done: number, total: number) => void;
}

/**
 * Downloads, verifies and extracts the corpus zip into `dataDir`, which must be missing or
 * empty. Returns the number of files extracted.
 */
export async function downloadCorpus(o: CorpusDownload): Promise<number> {
  if (!(await isEmptyDir(o.dataDir))) {
    throw new DownloadError(`data.dir ${o.dataDir} is not empty: refusing to download into it (empty it or point data.dir elsewhere)`);
  }
  const zip = `${o.dataDir.replace(/[\\/]+$/, '')}.zip`;
  if ((await sizeOf(zip)) === 0) {
    o.log?.(`downloading ${o.url} -> ${zip}`);
    await downloadFile(o.url, zip, o);
  } else {
    o.log?.(`using the already downloaded ${zip}`);
  }
  if (o.md5) {
    const got = await md5File(zip);
    if (got !== o.md5.toLowerCase()) {
      await rm(zip, { force: true });
      throw new DownloadError(`MD5 mismatch for ${o.url}: got ${got}, expected ${o.md5} (data.md5); the download was deleted, run again to retry`);
    }
    o.log?.(`MD5 ok (${got})`);
  }
  const tmp = `${zip.slice(0, -4)}.tmp-extract`;
  await rm(tmp, { recursive: true, force: true });
  let files: number;
  try {
    files = await extractZip(zip, tmp, o.onExtract);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  await rmdir(o.dataDir).catch(() => {}); // an empty data.dir is replaced by the extracted folder
  await mkdir(dirname(o.dataDir), { recursive: true });
  await rename(tmp, o.dataDir);
  if (!o.keepZip) await rm(zip, { force: true });
  o.log?.(`extracted ${files} files into ${o.dataDir}`);
  return files;
}
