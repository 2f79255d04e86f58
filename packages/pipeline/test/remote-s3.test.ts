// Remotes on S3: the same push / pull round trip against a real S3-API server (s3-server.ts), and
// the errors a user meets (credentials, bucket, endpoint, corrupt object), each one clear line.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanup, collect, freePort, type Ws } from './helpers.ts';
import { cli, filesUnder, freshClone, lockedMd5, ranWorkspace } from './remote-helpers.ts';
import { noAwsEnv, startS3ForTests, type S3TestServer } from './s3-server.ts';

let server: S3TestServer | undefined;
let skipReason: string | undefined;
const made: Ws[] = [];

beforeAll(async () => {
  ({ server, skipReason } = await startS3ForTests());
}, 300_000);

afterAll(async () => {
  for (const ws of made.splice(0)) cleanup(ws);
  await server?.stop();
});

const track = (ws: Ws) => (made.push(ws), ws);

/** Run the CLI with exactly `env` (no inherited AWS settings). */
function cliWithEnv(ws: Ws, env: Record<string, string | undefined>, ...args: string[]) {
  return collect(spawn(process.execPath, [BIN, ...args], { cwd: ws.dir, env: { ...env, RUNLOG: ws.log }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

describe('push and pull through an S3 remote', () => {
  it('a fresh clone pulls from S3, repro runs nothing, status is up to date; a downstream param change reruns only that stage', async (ctx) => {
    if (!server) return ctx.skip(skipReason);
    const a = track(ranWorkspace(expect));
    let r = await cli(a, 'remote', 'add', 'lab', `s3://${server.bucket}/ser/cache`, '--endpoint', server.endpoint, '--force-path-style');
    expect(r.code, r.err).toBe(0);
    r = await cli(a, 'push', '-j', '4');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`push (profile default): 3 outs of pipeline.lock to remote 'lab' (s3://${server.bucket}/ser/cache at ${server.endpoint})`);
    expect(r.out).toMatch(/push: 5 objects and 3 run-cache entries, [\d.]+ KiB \(\d+ bytes\), uploaded in [\d.]+ s; 0 objects already on the remote/);
    // The layout in the bucket mirrors the local cache.
    const stored = filesUnder(path.join(server.dir, server.bucket)).filter((f) => f.endsWith('._S3rver_object'));
    const md5 = lockedMd5(a.read('pipeline.lock'));
    expect(stored).toContain(`ser/cache/files/md5/${md5['out/d']!.slice(0, 2)}/${md5['out/d']!.slice(2)}._S3rver_object`);
    expect(stored.filter((f) => f.startsWith('ser/cache/runs/'))).toHaveLength(3);
    r = await cli(a, 'push');
    expect(r.out).toMatch(/push: 0 objects and 0 run-cache entries, 0 bytes, uploaded in [\d.]+ s; 5 objects already on the remote/);

    const b = track(freshClone(a));
    r = await cli(b, 'pull');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/pull: 5 objects and 3 run-cache entries, .* downloaded in [\d.]+ s; 0 objects already in the cache/);
    r = await cli(b, 'repro');
    expect(r.out).toContain(': 0 ran, 3 cached, 0 restored from cache, 0 restored from run-cache');
    expect((await cli(b, 'status')).out).toContain('all 3 stage(s) up to date (pipeline.lock)');
    expect((await cli(b, 'remote', 'status')).out).toContain('a: in sync\nd: in sync\nc: in sync\nrun-cache: 0 entries to push, 0 entries to pull\n');

    const t = track(freshClone(a));
    t.write('params.yaml', 'p:\n  x: 1\n  y: 2\n');
    expect((await cli(t, 'pull')).code).toBe(0);
    r = await cli(t, 'repro');
    expect([t.runs('a'), t.runs('d'), t.runs('c')]).toEqual([0, 0, 1]);
    expect(r.out).toContain('1 ran, 2 cached');
  }, 300_000);

  it('an object whose bytes do not match its md5 is refused, naming object and remote', async (ctx) => {
    if (!server) return ctx.skip(skipReason);
    const a = track(ranWorkspace(expect));
    await cli(a, 'remote', 'add', 'lab', `s3://${server.bucket}/corrupt`, '--endpoint', server.endpoint, '--force-path-style');
    expect((await cli(a, 'push')).code).toBe(0);
    const md5 = lockedMd5(a.read('pipeline.lock'))['out/c.txt']!;
    // Damage the stored bytes behind the server's back (same size, so only the md5 can tell).
    const obj = path.join(server.dir, server.bucket, 'corrupt/files/md5', md5.slice(0, 2), `${md5.slice(2)}._S3rver_object`);
    fs.writeFileSync(obj, fs.readFileSync(obj, 'utf8').replace('y=1', 'y=9'));
    const b = track(freshClone(a));
    const r = await cli(b, 'pull', 'c');
    expect(r.code).toBe(1);
    expect(r.err).toContain(`ser-pipeline: remote 'lab' (s3://${server.bucket}/corrupt at ${server.endpoint}): files/md5/${md5.slice(0, 2)}/${md5.slice(2)} is corrupt (its md5 is `);
    expect(filesUnder(path.join(b.dir, '.pipeline/cache'))).toEqual([]);
    expect(b.exists('out/c.txt')).toBe(false);
  }, 300_000);

  it('missing credentials, a missing bucket and an unreachable endpoint are one line each, nothing written', async (ctx) => {
    if (!server) return ctx.skip(skipReason);
    const a = track(ranWorkspace(expect));
    await cli(a, 'remote', 'add', 'lab', `s3://${server.bucket}/x`, '--endpoint', server.endpoint, '--force-path-style');
    await cli(a, 'remote', 'add', 'nobucket', 's3://no-such-bucket/x', '--endpoint', server.endpoint, '--force-path-style');
    await cli(a, 'remote', 'add', 'down', 's3://whatever/x', '--endpoint', `http://127.0.0.1:${await freePort()}`, '--force-path-style');
    const lab = `remote 'lab' (s3://${server.bucket}/x at ${server.endpoint})`;

    let r = await cliWithEnv(a, noAwsEnv(), 'push', '-r', 'lab');
    expect(r.code).toBe(1);
    expect(r.err).toBe(`ser-pipeline: ${lab}: no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (credentials never go in .pipeline/config.yaml)\n`);

    r = await cliWithEnv(a, { ...noAwsEnv(), AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'wrong' }, 'push', '-r', 'lab');
    expect(r.err).toMatch(new RegExp(`^ser-pipeline: ${lab.replace(/[.()/]/g, '\\$&')}: access denied \\(SignatureDoesNotMatch\\) to list x/(files/md5|runs)/: check the AWS credentials and the bucket's permissions\\n$`));

    r = await cli(a, 'push', '-r', 'nobucket');
    expect(r.code).toBe(1);
    expect(r.err).toBe(`ser-pipeline: remote 'nobucket' (s3://no-such-bucket/x at ${server.endpoint}): bucket 'no-such-bucket' does not exist\n`);

    r = await cli(a, 'pull', '-r', 'down');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^ser-pipeline: remote 'down' \(s3:\/\/whatever\/x at http:\/\/127\.0\.0\.1:\d+\): cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\n$/);

    // Nothing was stored by the failed commands, and the bucket got nothing.
    expect(filesUnder(path.join(server.dir, server.bucket)).filter((f) => f.startsWith('x/'))).toEqual([]);
    expect(filesUnder(path.join(a.dir, '.pipeline/runs')).filter((f) => f.includes('.tmp'))).toEqual([]);
  }, 300_000);
});
