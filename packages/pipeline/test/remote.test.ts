// Remotes on a shared folder: config commands, push / pull / fetch / status --remote, resume, integrity.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, workspace, type Ws } from './helpers.ts';
import { cli, filesUnder, freshClone, lockedMd5, ranWorkspace, REMOTE_PARAMS, REMOTE_PIPELINE } from './remote-helpers.ts';
import { TransferProgress, remoteCopyIsWhole, verifyObject } from '../src/remote.ts';
import { manifestMd5 } from '../src/hash.ts';

/** Limit for a test that runs the CLI many times (seconds on an idle machine; minutes on a loaded one). */
const SLOW = 300_000;
const made: Ws[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const ws of made.splice(0)) cleanup(ws);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const track = (ws: Ws) => (made.push(ws), ws);
const remoteDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ser-remote-'));
  dirs.push(d);
  return d;
};
const objectFile = (remote: string, md5: string) => path.join(remote, 'files/md5', md5.slice(0, 2), md5.slice(2));

describe('remote config', () => {
  it('add, list, default and remove edit .pipeline/config.yaml; bad input changes nothing', async () => {
    const ws = track(workspace({ 'pipeline.yaml': REMOTE_PIPELINE, 'params.yaml': REMOTE_PARAMS }));
    let r = await cli(ws, 'remote', 'add', 'origin', 'gs://bucket/x');
    expect(r.code).toBe(1);
    expect(r.err).toContain("remote URL 'gs://bucket/x': unsupported scheme 'gs://'");
    r = await cli(ws, 'remote', 'add', 'nfs', '../shared', '--endpoint', 'http://x:1');
    expect(r.err).toContain('apply to s3:// URLs only');
    expect(ws.exists('.pipeline/config.yaml')).toBe(false);

    expect((await cli(ws, 'remote', 'add', 'nfs', '../shared')).code).toBe(0);
    r = await cli(ws, 'remote', 'add', 'origin', 's3://lab-bucket/ser', '--endpoint', 'http://rgw.lab:7480', '--region', 'eu-west-1', '--force-path-style', '--default');
    expect(r.code, r.err).toBe(0);
    expect(ws.read('.pipeline/config.yaml')).toContain('default: origin\nremotes:\n  nfs:\n    url: ../shared\n  origin:\n    url: s3://lab-bucket/ser\n    endpoint: http://rgw.lab:7480\n    region: eu-west-1\n    force_path_style: true\n');
    expect(ws.read('.pipeline/config.yaml')).not.toMatch(/secret|access_key/i);
    r = await cli(ws, 'remote', 'list');
    expect(r.out).toContain('nfs  ../shared\n');
    expect(r.out).toContain('origin  s3://lab-bucket/ser  (endpoint http://rgw.lab:7480, region eu-west-1, path-style)  [default]');

    r = await cli(ws, 'remote', 'add', 'nfs', '/elsewhere');
    expect(r.err).toContain("remote 'nfs' already exists (../shared)");
    r = await cli(ws, 'push', '-r', 'orign');
    expect(r.code).toBe(1);
    expect(r.err).toBe("ser-pipeline: no remote 'orign' in .pipeline/config.yaml (did you mean 'origin'?)\n");
    r = await cli(ws, 'remote', 'default', 'nsf');
    expect(r.err).toContain("(did you mean 'nfs'?)");

    expect((await cli(ws, 'remote', 'default', 'nfs')).code).toBe(0);
    expect(ws.read('.pipeline/config.yaml')).toContain('default: nfs\n');
    expect((await cli(ws, 'remote', 'remove', 'nfs')).code).toBe(0);
    expect(ws.read('.pipeline/config.yaml')).not.toContain('nfs');
    expect(ws.read('.pipeline/config.yaml')).not.toContain('default:');
  }, SLOW);

  it('.gitignore keeps .pipeline/config.yaml and ignores the rest of .pipeline/', async () => {
    const gitignore = fs.readFileSync(fileURLToPath(new URL('../../../.gitignore', import.meta.url)), 'utf8');
    expect(gitignore).toMatch(/^\/\.pipeline\/\*$/m);
    expect(gitignore).toMatch(/^!\/\.pipeline\/config\.yaml$/m);
  });
});

describe('push and pull through a folder remote', () => {
  it('a fresh clone pulls, repro runs nothing, status is up to date; a downstream param change reruns only that stage', async () => {
    const remote = remoteDir();
    const a = track(ranWorkspace(expect));
    expect((await cli(a, 'remote', 'add', 'shared', remote)).code).toBe(0);
    let r = await cli(a, 'status', '--remote');
    expect(r.out).toContain("status (profile default): pipeline.lock vs remote 'shared'");
    expect(r.out).toContain('a: 1 object to push\nd: 4 objects to push\nc: 1 object to push\n'); // d: its manifest and 3 files
    r = await cli(a, 'push');
    expect(r.code, r.err).toBe(0);
    // out/a.txt and out/d/copy.txt are the same bytes: one object.
    expect(r.out).toMatch(/push: 5 objects and 3 run-cache entries, [\d.]+ KiB \(\d+ bytes\), uploaded in [\d.]+ s; 0 objects already on the remote/);
    r = await cli(a, 'push');
    expect(r.out).toMatch(/push: 0 objects and 0 run-cache entries, 0 bytes, uploaded in [\d.]+ s; 5 objects already on the remote/);
    expect(filesUnder(remote).filter((f) => f.includes('.tmp'))).toEqual([]);

    const b = track(freshClone(a));
    const lockBefore = b.read('pipeline.lock');
    r = await cli(b, 'status', '--remote');
    expect(r.out).toContain('a: 1 object to pull\nd: 4 objects to pull\nc: 1 object to pull\nrun-cache: 0 entries to push, 3 entries to pull\n');
    r = await cli(b, 'pull');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/pull: 5 objects and 3 run-cache entries, .* downloaded in [\d.]+ s; 0 objects already in the cache/);
    expect(r.out).toContain('pull: checked out 3 outs (out/a.txt, out/d, out/c.txt), 0 already in place; pipeline.lock unchanged');
    expect(b.read('pipeline.lock')).toBe(lockBefore);
    expect(b.read('out/d/sub/two.txt')).toBe('two\n');
    expect(b.read('out/c.txt')).toBe(a.read('out/c.txt'));

    r = await cli(b, 'repro');
    expect(r.out).toContain(': 0 ran, 3 cached, 0 restored from cache, 0 restored from run-cache');
    r = await cli(b, 'status');
    expect(r.out).toContain('all 3 stage(s) up to date (pipeline.lock)');
    expect((await cli(b, 'status', '--remote')).out).toContain('a: in sync\nd: in sync\nc: in sync\nrun-cache: 0 entries to push, 0 entries to pull\n');

    // A teammate changes the downstream param in another fresh clone, pulls, and reruns only c.
    const t = track(freshClone(a));
    t.write('params.yaml', 'p:\n  x: 1\n  y: 2\n');
    expect((await cli(t, 'pull')).code).toBe(0);
    r = await cli(t, 'repro');
    expect(r.code, r.err).toBe(0);
    expect([t.runs('a'), t.runs('d'), t.runs('c')]).toEqual([0, 0, 1]);
    expect(r.out).toContain('1 ran, 2 cached');
    expect(t.read('out/c.txt')).toBe('x=1\ntwo\ny=2\n');
  }, SLOW);

  it('fetch fills the cache only; pull of one stage moves only its objects', async () => {
    const remote = remoteDir();
    const a = track(ranWorkspace(expect));
    await cli(a, 'remote', 'add', 'shared', remote);
    expect((await cli(a, 'push')).code).toBe(0);
    const b = track(freshClone(a));
    let r = await cli(b, 'fetch', 'a', '-j', '2');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('fetch (profile default): 1 out of pipeline.lock from');
    expect(r.out).toMatch(/fetch: 1 object and 3 run-cache entries/);
    expect(b.exists('out/a.txt')).toBe(false);
    r = await cli(b, 'pull', 'd');
    // d's copy.txt has out/a.txt's bytes: that object is already here.
    expect(r.out).toMatch(/pull: 3 objects and 0 run-cache entries, 3\.2 KiB \(3231 bytes\), .*; 1 object already in the cache/);
    expect(r.out).toContain('checked out 1 out (out/d)');
    expect(b.exists('out/c.txt')).toBe(false);
    r = await cli(b, 'push', 'nope');
    expect(r.err).toContain("pipeline.lock: no stage 'nope'");
    r = await cli(b, 'pull', '-j', '0');
    expect(r.err).toContain("--jobs must be a whole number from 1 to 256, got '0'");
  }, SLOW);

  it('an interrupted push resumes: only missing or partial objects move; temp files are not objects', async () => {
    const remote = remoteDir();
    const a = track(ranWorkspace(expect));
    await cli(a, 'remote', 'add', 'shared', remote);
    expect((await cli(a, 'push')).code).toBe(0);
    const md5 = lockedMd5(a.read('pipeline.lock'));
    // As a killed push leaves it: one object never written, one left under a temp name only, and
    // one half-written under its final name (a copy tool without temp names).
    const zeros = JSON.parse(fs.readFileSync(path.join(a.dir, '.pipeline/cache', md5['out/d']!.slice(0, 2), md5['out/d']!.slice(2)), 'utf8')).find((e: { relpath: string }) => e.relpath === 'zeros.bin').md5;
    fs.rmSync(objectFile(remote, md5['out/c.txt']!), { force: true });
    const manifestObj = objectFile(remote, md5['out/d']!);
    fs.renameSync(manifestObj, `${manifestObj}.tmp-123-abcdef01`);
    fs.chmodSync(objectFile(remote, zeros), 0o644);
    fs.truncateSync(objectFile(remote, zeros), 1000);
    const r = await cli(a, 'push');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/push: 3 objects and 0 run-cache entries, [\d.]+ KiB \(3\d\d\d bytes\), uploaded in [\d.]+ s; 2 objects already on the remote/);
    expect(fs.statSync(objectFile(remote, zeros)).size).toBe(3000);
    expect(fs.existsSync(manifestObj)).toBe(true);
  }, SLOW);

  it('a download that does not match its md5 is an error naming object and remote, and never enters the cache', async () => {
    const remote = remoteDir();
    const a = track(ranWorkspace(expect));
    await cli(a, 'remote', 'add', 'shared', remote);
    expect((await cli(a, 'push')).code).toBe(0);
    const md5 = lockedMd5(a.read('pipeline.lock'));
    const bad = objectFile(remote, md5['out/c.txt']!);
    fs.chmodSync(bad, 0o644);
    const text = fs.readFileSync(bad, 'utf8');
    fs.writeFileSync(bad, text.replace('y=1', 'y=9')); // same size, other bytes
    const b = track(freshClone(a));
    const r = await cli(b, 'pull');
    expect(r.code).toBe(1);
    const key = `files/md5/${md5['out/c.txt']!.slice(0, 2)}/${md5['out/c.txt']!.slice(2)}`;
    expect(r.err).toContain(`ser-pipeline: remote 'shared' (${remote}): ${key} is corrupt (its md5 is `);
    expect(r.err).not.toMatch(/\n\s+at /);
    const cache = filesUnder(path.join(b.dir, '.pipeline/cache'));
    expect(cache).not.toContain(`${md5['out/c.txt']!.slice(0, 2)}/${md5['out/c.txt']!.slice(2)}`);
    expect(cache.filter((f) => f.includes('.tmp'))).toEqual([]);
    expect(b.exists('out/c.txt')).toBe(false);
  }, SLOW);

  it('a folder remote that does not exist is one clear line', async () => {
    const a = track(ranWorkspace(expect));
    await cli(a, 'remote', 'add', 'shared', '/nonexistent/ser-remote');
    const r = await cli(a, 'push');
    expect(r.code).toBe(1);
    expect(r.err).toBe("ser-pipeline: remote 'shared' (/nonexistent/ser-remote): folder /nonexistent/ser-remote does not exist (create it, or mount the share)\n");
  }, SLOW);
});

describe('remote units', () => {
  it('verifyObject checks a file by md5 and a manifest by the directory hash', async () => {
    const d = remoteDir();
    const f = path.join(d, 'x');
    fs.writeFileSync(f, 'hello');
    expect(verifyObject('5d41402abc4b2a76b9719d911017c592', f)).toBeUndefined();
    expect(verifyObject('00000000000000000000000000000000', f)).toBe('its md5 is 5d41402abc4b2a76b9719d911017c592');
    const entries = [{ relpath: 'a', md5: '5d41402abc4b2a76b9719d911017c592', size: 5 }];
    fs.writeFileSync(f, JSON.stringify(entries));
    expect(verifyObject(manifestMd5(entries), f)).toBeUndefined();
    expect(verifyObject(manifestMd5([{ ...entries[0]!, size: 6 }]), f)).toMatch(/^its manifest hashes to /);
  });

  it('remoteCopyIsWhole: size must match; an md5-like ETag must be the md5', async () => {
    expect(remoteCopyIsWhole(undefined, 5, 'a')).toBe(false);
    expect(remoteCopyIsWhole({ size: 4 }, 5, undefined)).toBe(false);
    expect(remoteCopyIsWhole({ size: 5 }, 5, '5d41402abc4b2a76b9719d911017c592')).toBe(true);
    expect(remoteCopyIsWhole({ size: 5, etag: '5d41402abc4b2a76b9719d911017c592' }, 5, '5d41402abc4b2a76b9719d911017c592')).toBe(true);
    expect(remoteCopyIsWhole({ size: 5, etag: '00000000000000000000000000000000' }, 5, '5d41402abc4b2a76b9719d911017c592')).toBe(false);
    expect(remoteCopyIsWhole({ size: 5, etag: 'abc-2' }, 5, '5d41402abc4b2a76b9719d911017c592')).toBe(true); // multipart: size only
  });

  it('the progress line is rate-limited without a terminal, redrawn on one, and always shows the last update', async () => {
    let t = 0;
    const lines: string[] = [];
    const p = new TransferProgress('push', 4, 4096, { tty: false, write: (s) => lines.push(s), now: () => t });
    p.done(1024);
    t = 500;
    p.done(1024); // within 1 s of the last line: dropped
    t = 1200;
    p.done(1024);
    t = 1300;
    p.done(1024); // the last: always shown
    expect(lines).toEqual([
      'push: 1/4 files, 1.0 KiB/4.0 KiB [#####>--------------] 1000.0 KiB/s\n',
      'push: 3/4 files, 3.0 KiB/4.0 KiB [###############>----] 2.5 KiB/s\n',
      'push: 4/4 files, 4.0 KiB/4.0 KiB [####################] 3.1 KiB/s\n',
    ]);
    const tty: string[] = [];
    const q = new TransferProgress('pull', 1, 10, { tty: true, write: (s) => tty.push(s), now: () => 1000 });
    q.done(10);
    q.clear();
    expect(tty).toEqual(['\r\x1b[2Kpull: 1/1 files, 10 B/10 B [####################] 9.8 KiB/s', '\r\x1b[2K']);
  });
});
