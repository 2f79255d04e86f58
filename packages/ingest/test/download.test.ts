import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { downloadCorpus, downloadFile } from '../src/download.ts';
import { extractZip, listZip } from '../src/zip.ts';
import { ravdessWav, tone } from '@ser/audio/testing';
import { makeZip } from './zip-bytes.ts';

const ROOT = resolve(__dirname, '../../..');
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

// A small RAVDESS-like zip: two actor folders, three WAVs (one stored, two deflated).
const wavA = ravdessWav([tone(4800, 220, 48000)]);
const wavB = ravdessWav([tone(4800, 330, 48000), tone(4800, 440, 48000)]);
const wavC = ravdessWav([tone(2400, 550, 48000)]);
const ZIP = makeZip([
  { name: 'Actor_01/', data: new Uint8Array(0) },
  { name: 'Actor_01/03-01-01-01-01-01-01.wav', data: wavA },
  { name: 'Actor_01/03-01-03-02-01-01-01.wav', data: wavB, method: 0 },
  { name: 'Actor_02/03-01-05-01-02-02-02.wav', data: wavC },
]);
const ZIP_MD5 = md5(ZIP);

/** Server behaviour, reset before each test. */
let mode: { cutFirst?: number; cutAlways?: number; ignoreRange?: boolean; status?: number } = {};
let ranges: (string | undefined)[] = [];
let server: Server;
let base: string;
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'ingest-dl-'));
  server = createServer((req, res) => {
    if (req.url === '/moved.zip') {
      res.writeHead(302, { Location: '/c.zip' }).end();
      return;
    }
    ranges.push(req.headers.range);
    if (mode.status) {
      res.writeHead(mode.status).end('nope');
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    if (m && !mode.ignoreRange) {
      start = Number(m[1]);
      if (start >= ZIP.length) {
        res.writeHead(416).end();
        return;
      }
      res.writeHead(206, { 'Content-Length': ZIP.length - start, 'Content-Range': `bytes ${start}-${ZIP.length - 1}/${ZIP.length}` });
    } else {
      res.writeHead(200, { 'Content-Length': ZIP.length });
    }
    const cut = mode.cutAlways ?? (ranges.length === 1 ? mode.cutFirst : undefined);
    if (cut !== undefined) {
      // send `cut` bytes, then drop the connection mid-body
      res.write(ZIP.subarray(start, start + cut), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(ZIP.subarray(start));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(tmp, { recursive: true, force: true });
});
beforeEach(() => {
  mode = {};
  ranges = [];
});

async function expectCorpus(dir: string): Promise<void> {
  expect((await readdir(dir)).sort()).toEqual(['Actor_01', 'Actor_02']);
  expect((await readFile(join(dir, 'Actor_01/03-01-01-01-01-01-01.wav'))).equals(Buffer.from(wavA))).toBe(true);
  expect((await readFile(join(dir, 'Actor_01/03-01-03-02-01-01-01.wav'))).equals(Buffer.from(wavB))).toBe(true);
  expect((await readFile(join(dir, 'Actor_02/03-01-05-01-02-02-02.wav'))).equals(Buffer.from(wavC))).toBe(true);
}

const quiet = { retryDelayMs: 10, log: () => {} };

describe('zip reader', () => {
  it('lists and extracts stored and deflated entries (and agrees with unzip when present)', async () => {
    const zip = join(tmp, 'plain.zip');
    await writeFile(zip, ZIP);
    const entries = await listZip(zip);
    expect(entries.map((e) => [e.name, e.method])).toEqual([
      ['Actor_01/', 0],
      ['Actor_01/03-01-01-01-01-01-01.wav', 8],
      ['Actor_01/03-01-03-02-01-01-01.wav', 0],
      ['Actor_02/03-01-05-01-02-02-02.wav', 8],
    ]);
    expect(await extractZip(zip, join(tmp, 'plain'))).toBe(3);
    await expectCorpus(join(tmp, 'plain'));
    if (spawnSync('unzip', ['-v']).status === 0) expect(spawnSync('unzip', ['-tq', zip]).status).toBe(0);
  });

  it('refuses entries that escape the target, corrupt data and non-zips', async () => {
    const slip = join(tmp, 'slip.zip');
    await writeFile(slip, makeZip([{ name: '../evil.wav', data: new Uint8Array(4) }]));
    await expect(extractZip(slip, join(tmp, 'slip'))).rejects.toThrow(/entry "..\/evil.wav" would be written outside the target folder/);
    expect(existsSync(join(tmp, 'evil.wav'))).toBe(false);
    const bad = Buffer.from(makeZip([{ name: 'a.wav', data: wavA, method: 0 }]));
    bad[30 + 5 + 100]! ^= 0xff; // flip a byte of the stored data
    await writeFile(join(tmp, 'crc.zip'), bad);
    await expect(extractZip(join(tmp, 'crc.zip'), join(tmp, 'crc'))).rejects.toThrow(/entry a\.wav is corrupt \(size or CRC-32 mismatch\)/);
    await writeFile(join(tmp, 'no.zip'), 'hello');
    await expect(listZip(join(tmp, 'no.zip'))).rejects.toThrow(/not a zip file/);
  });
});

describe('download', () => {
  it('resumes with an HTTP Range request after the connection is cut, verifies MD5, extracts', async () => {
    mode = { cutFirst: 5000 };
    const dataDir = join(tmp, 'resume/RAVDESS');
    const progress: number[] = [];
    const n = await downloadCorpus({ dataDir, url: `${base}/c.zip`, md5: ZIP_MD5, ...quiet, onProgress: (b) => progress.push(b) });
    expect(n).toBe(3);
    expect(ranges).toEqual([undefined, 'bytes=5000-']);
    expect(progress).toContain(5000);
    await expectCorpus(dataDir);
    expect(await readdir(join(tmp, 'resume'))).toEqual(['RAVDESS']); // zip, .part and tmp folder gone
  });

  it('a server that ignores Range restarts from byte 0; redirects are followed', async () => {
    mode = { cutFirst: 3000, ignoreRange: true };
    const dataDir = join(tmp, 'norange/RAVDESS');
    await downloadCorpus({ dataDir, url: `${base}/moved.zip`, md5: ZIP_MD5, keepZip: true, ...quiet });
    expect(ranges).toEqual([undefined, 'bytes=3000-']);
    await expectCorpus(dataDir);
    expect((await readFile(`${dataDir}.zip`)).equals(ZIP)).toBe(true);
  });

  it('MD5 mismatch -> one clear error, the download deleted, nothing extracted', async () => {
    const dataDir = join(tmp, 'md5/RAVDESS');
    await mkdir(dataDir, { recursive: true }); // empty: allowed
    const wrong = 'bc696df654c87fed845eb13823edef8a';
    await expect(downloadCorpus({ dataDir, url: `${base}/c.zip`, md5: wrong, ...quiet })).rejects.toThrow(
      `MD5 mismatch for ${base}/c.zip: got ${ZIP_MD5}, expected ${wrong} (data.md5); the download was deleted, run again to retry`,
    );
    expect(await readdir(join(tmp, 'md5'))).toEqual(['RAVDESS']);
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('gives up after the attempts, keeps the partial file, and a later run resumes from it', async () => {
    mode = { cutAlways: 1000 };
    const dest = join(tmp, 'giveup/c.zip');
    await expect(downloadFile(`${base}/c.zip`, dest, { attempts: 3, ...quiet })).rejects.toThrow(
      /failed after 3 attempt\(s\): connection cut after 3000 of \d+ bytes \(partial file kept at .*c\.zip\.part; run again to resume\)/,
    );
    expect(ranges).toEqual([undefined, 'bytes=1000-', 'bytes=2000-']);
    mode = {};
    ranges = [];
    await downloadFile(`${base}/c.zip`, dest, quiet);
    expect(ranges).toEqual(['bytes=3000-']);
    expect((await readFile(dest)).equals(ZIP)).toBe(true);
  });

  it('HTTP 404 fails at once (no retries)', async () => {
    mode = { status: 404 };
    await expect(downloadFile(`${base}/c.zip`, join(tmp, '404/c.zip'), { attempts: 5, ...quiet })).rejects.toThrow(/failed after 1 attempt\(s\): .*HTTP 404/);
    expect(ranges.length).toBe(1);
  });

  it('refuses to download into a non-empty data.dir', async () => {
    const dataDir = join(tmp, 'full/RAVDESS');
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, 'x.txt'), 'x');
    await expect(downloadCorpus({ dataDir, url: `${base}/c.zip`, md5: ZIP_MD5, ...quiet })).rejects.toThrow(/is not empty: refusing to download into it/);
    expect(ranges).toEqual([]);
  });

  it('CLI `ser-ingest download` then the stage ingests the downloaded corpus', async () => {
    const dir = join(tmp, 'cli');
    const dataDir = join(dir, 'RAVDESS');
    const env = { ...process.env, PIPELINE_PARAMS: '' };
    const run = (args: string[], params = '') =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => {
        const p = spawn(process.execPath, [join(ROOT, 'packages/ingest/bin/ser-ingest.mjs'), ...args], { cwd: ROOT, env: { ...env, PIPELINE_PARAMS: params } });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d) => (stdout += d));
        p.stderr.on('data', (d) => (stderr += d));
        p.on('close', (code) => res({ code, stdout, stderr }));
      });
    const bad = await run(['download', '--data-dir', dataDir, '--url', `${base}/c.zip`, '--md5', '0'.repeat(32)]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: MD5 mismatch for .* expected 0{32} \(data\.md5\)/)]);
    const ok = await run(['download', '--data-dir', dataDir, '--url', `${base}/c.zip`, '--md5', ZIP_MD5]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/MD5 ok/);
    expect(ok.stdout).toMatch(/extracted 3 files into/);
    const st = await run(['--data-dir', dataDir, '--out', join(dir, 'out/clips.arrow'), '--report', join(dir, 'out/report.json')], JSON.stringify({ data: { url: '' }, ingest: { sample_rate: 48000, on_error: 'fail' } }));
    expect(st.code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'out/report.json'), 'utf8'))).toMatchObject({ files: 3, ingested: 3, multichannel: ['Actor_01/03-01-03-02-01-01-01.wav'] });
  });
});
