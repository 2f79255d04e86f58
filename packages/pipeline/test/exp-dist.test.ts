// The distributed queue against real servers: Debian's redis-server and the S3-API test server,
// with worker processes in their own git clones (two machines). One worker is killed (-9, its
// whole process group) mid-job: the job goes to the other worker and finishes once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanup, collect, count, freePort, waitFor, workspace, type Ws } from './helpers.ts';
import { cli } from './remote-helpers.ts';
import { startS3ForTests, type S3TestServer } from './s3-server.ts';
import { redisUnavailable, startRedis, type RedisTestServer } from './redis-server.ts';

// prep (restored from the remote on the workers) -> fit (p.y = 0 fails; p.sleep keeps it running).
const PIPELINE = `stages:
  prep:
    cmd: ${count('prep')}; mkdir -p \${artifacts}/prep && echo "x=\${p.x}" > \${artifacts}/prep/data.txt
    params: [p.x]
    outs: ["\${artifacts}/prep/data.txt"]
  fit:
    cmd: >-
      ${count('fit')}; sleep \${p.sleep}; test \${p.y} -ne 0 && mkdir -p \${artifacts}/fit &&
      cat \${artifacts}/prep/data.txt > \${artifacts}/fit/out.txt && echo '{"score": \${p.y}0}' > \${artifacts}/fit/metrics.json
    deps: ["\${artifacts}/prep/data.txt"]
    params: [p.y, p.sleep]
    outs: ["\${artifacts}/fit/out.txt"]
    metrics: ["\${artifacts}/fit/metrics.json"]
`;
const PARAMS = 'p:\n  x: 1\n  y: 1\n  sleep: 0\n';

let redis: RedisTestServer | undefined;
let s3: S3TestServer | undefined;
let skipReason: string | undefined;
const made: Ws[] = [];
const dirs: string[] = [];
const workers: ChildProcess[] = [];

beforeAll(async () => {
  const r = await startRedis();
  if ('unavailable' in r) {
    skipReason = redisUnavailable(r.unavailable);
    return;
  }
  redis = r;
  ({ server: s3, skipReason } = await startS3ForTests());
}, 300_000);

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.pid) killGroup(w.pid);
  for (const ws of made.splice(0)) cleanup(ws);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  await redis?.stop();
  await s3?.stop();
});

const GIT = ['-c', 'user.name=Test', '-c', 'user.email=test@example.com'];
const git = (cwd: string, ...args: string[]) => execFileSync('git', [...GIT, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** A committed workspace whose lock's outs are on an S3 remote (its default); `bucketPrefix` keeps tests apart. */
async function labWorkspace(bucketPrefix: string): Promise<Ws> {
  const ws = workspace({ 'pipeline.yaml': PIPELINE, 'params.yaml': PARAMS, '.gitignore': '/.pipeline/*\n!/.pipeline/config.yaml\n/artifacts/\n' });
  made.push(ws);
  let r = await cli(ws, 'remote', 'add', 'lab', `s3://${s3!.bucket}/${bucketPrefix}`, '--endpoint', s3!.endpoint, '--force-path-style', '--default');
  expect(r.code, r.err).toBe(0);
  r = await cli(ws, 'repro');
  expect(r.code, r.err).toBe(0);
  r = await cli(ws, 'push');
  expect(r.code, r.err).toBe(0);
  git(ws.dir, 'init', '-q');
  git(ws.dir, 'add', '-A');
  git(ws.dir, 'commit', '-q', '-m', 'lab');
  return ws;
}

/** Another machine: a clone of the workspace (no cache, no outs). */
function machine(ws: Ws): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ser-worker-machine-'));
  dirs.push(dir);
  git(os.tmpdir(), 'clone', '-q', ws.dir, dir);
  return dir;
}

/** A worker process in its own process group (so a test can kill it and its runs at once, like a machine going down). */
function startWorker(ws: Ws, cwd: string, ...extra: string[]): ChildProcess & { out: () => string; done: Promise<{ code: number; out: string; err: string }> } {
  const child = spawn(process.execPath, [BIN, 'worker', '--redis', redis!.url, '--stall-timeout', '2', ...extra], { cwd, detached: true, env: { ...process.env, RUNLOG: ws.log }, stdio: ['ignore', 'pipe', 'pipe'] });
  workers.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const done = collect(child);
  return Object.assign(child, { out: () => out, done });
}

/** `exp show --json` rows. */
interface Row {
  name: string;
  status: string;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  worker?: string;
  error?: string;
}

async function showJson(ws: Ws): Promise<Row[]> {
  const r = await cli(ws, 'exp', 'show', '--json', '--redis', redis!.url);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as Row[];
}

describe('distributed experiment queue (Redis + BullMQ, S3 cache)', () => {
  it('two workers on two clones drain 4 experiments; one killed mid-job loses nothing; each finishes once', async (ctx) => {
    if (!redis || !s3) return ctx.skip(skipReason);
    const ws = await labWorkspace('drain');
    const objectsBefore = fs.readdirSync(s3.dir, { recursive: true }).length;
    let r = await cli(ws, 'exp', 'run', '-S', 'p.y=1,2,3,4', '-S', 'p.sleep=3', '--name', 'grid', '--redis', redis.url);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('4 experiment(s) on the Redis queue');
    // Nothing is written to the submitting workspace: the queue holds the records.
    expect(ws.exists('.pipeline/exps')).toBe(false);
    expect((await showJson(ws)).map((e) => [e.name, e.status])).toEqual([1, 2, 3, 4].map((i) => [`grid-${i}`, 'queued']));

    const a = startWorker(ws, machine(ws));
    await waitFor(() => /\[(grid-\d)\] worker /.test(a.out()), 60_000);
    const victim = /\[(grid-\d)\] worker /.exec(a.out())![1]!;
    // Any machine sees which worker runs it.
    expect((await showJson(ws)).find((e) => e.name === victim)).toMatchObject({ status: 'running', worker: `${os.hostname()}:${a.pid}` });
    const b = startWorker(ws, machine(ws), '--exit-when-empty');
    await new Promise((res) => setTimeout(res, 1500));
    killGroup(a.pid!);

    const bDone = await b.done;
    expect(bDone.code, bDone.err).toBe(0);
    expect(bDone.out).toContain(`[${victim}] worker `);
    const recs = await showJson(ws);
    expect(recs.map((e) => e.name).sort()).toEqual(['grid-1', 'grid-2', 'grid-3', 'grid-4']);
    for (const e of recs) {
      expect(e.status, `${e.name}: ${e.error}`).toBe('done');
      expect(e.metrics).toEqual({ score: Number(e.params['p.y']) * 10 });
    }
    // The workspace's run, then each experiment once, plus the killed attempt if it reached the stage.
    expect(ws.runs('fit')).toBeGreaterThanOrEqual(1 + 4);
    expect(ws.runs('fit')).toBeLessThanOrEqual(1 + 5);
    // prep ran once, in the workspace: the workers restored it from what they fetched.
    expect(ws.runs('prep')).toBe(1);
    // Each experiment's outs went to the remote (out.txt is the same bytes for all; the metrics differ).
    expect(fs.readdirSync(s3.dir, { recursive: true }).length).toBeGreaterThan(objectsBefore);
    r = await cli(ws, 'exp', 'log', victim, '--redis', redis.url);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`worker ${os.hostname()}:${b.pid}: attempt`);
    expect(r.out).toContain("push to remote 'lab'");
  }, 180_000);

  it('a run that keeps failing is tried 3 times, then marked failed with its log', async (ctx) => {
    if (!redis || !s3) return ctx.skip(skipReason);
    const ws = await labWorkspace('fail');
    let r = await cli(ws, 'exp', 'run', '-S', 'p.y=0', '--name', 'broken', '--redis', redis.url);
    expect(r.code, r.err).toBe(0);
    const w = startWorker(ws, machine(ws), '--exit-when-empty');
    const done = await w.done;
    expect(done.code, done.err).toBe(0);
    expect(ws.runs('fit')).toBe(1 + 3);
    const rec = (await showJson(ws)).find((e) => e.name === 'broken')!;
    expect(rec.status).toBe('failed');
    expect(rec.error).toMatch(/stage\(s\) failed: fit .*after 3 attempt/);
    r = await cli(ws, 'exp', 'log', 'broken', '--redis', redis.url);
    expect(r.out).toContain('exp log broken: failed on the Redis queue');
    expect(r.out.match(/: attempt \d/g)).toHaveLength(3);
  }, 180_000);

  it('refuses what cannot work before queueing anything: Redis unreachable, uncommitted changes, a name already queued', async (ctx) => {
    if (!redis || !s3) return ctx.skip(skipReason);
    const ws = await labWorkspace('refuse');
    const closed = await freePort();
    let r = await cli(ws, 'exp', 'run', '-S', 'p.y=2', '--redis', `redis://127.0.0.1:${closed}`);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`cannot reach Redis at redis://127.0.0.1:${closed}`);
    r = await cli(ws, 'worker', '--redis', `redis://127.0.0.1:${closed}`);
    expect(r.code).toBe(1);
    expect(r.err).toContain('cannot reach Redis');
    r = await cli(ws, 'exp', 'show', '--redis', 'http://x');
    expect(r.err).toContain("--redis: 'http://x' is not a Redis URL");

    ws.write('params.yaml', PARAMS.replace('x: 1', 'x: 2'));
    r = await cli(ws, 'exp', 'run', '-S', 'p.y=2', '--name', 'dirty', '--redis', redis.url);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/uncommitted changes to params\.yaml; workers run commit [0-9a-f]{10}/);
    ws.write('params.yaml', PARAMS);

    r = await cli(ws, 'exp', 'run', '-S', 'p.y=2', '--name', 'twice', '--redis', redis.url);
    expect(r.code, r.err).toBe(0);
    r = await cli(ws, 'exp', 'run', '-S', 'p.y=3', '--name', 'twice', '--redis', redis.url);
    expect(r.code).toBe(1);
    expect(r.err).toContain("experiment 'twice' is already on the queue");
    r = await cli(ws, 'exp', 'run', '-S', 'p.y=3', '--name', 'twice', '--redis', redis.url, '--force');
    expect(r.code, r.err).toBe(0);
    r = await cli(ws, 'exp', 'run', '-S', 'p.y=4', '--name', 'other', '--redis', redis.url);
    expect(r.code, r.err).toBe(0);
    const rows = (await showJson(ws)).filter((e) => ['twice', 'other', 'dirty'].includes(e.name));
    expect(rows.map((e) => [e.name, e.status, e.params['p.y']])).toEqual([
      ['twice', 'queued', 3],
      ['other', 'queued', 4],
    ]);
    r = await cli(ws, 'exp', 'remove', 'twice', 'nosuch', '--redis', redis.url);
    expect(r.code).toBe(1);
    expect(r.err).toContain('experiment(s) nosuch neither in this workspace nor on the queue');
    r = await cli(ws, 'exp', 'remove', 'twice', 'other', '--redis', redis.url);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('removed 2 experiment(s): twice, other');
    expect((await showJson(ws)).filter((e) => ['twice', 'other'].includes(e.name))).toEqual([]);

    // queue.redis in .pipeline/config.yaml: --queue goes to Redis, exp show reads it; a bad value names the key.
    ws.write('.pipeline/config.yaml', `${ws.read('.pipeline/config.yaml')}queue:\n  redis: ${redis.url}\n`);
    git(ws.dir, 'commit', '-q', '-am', 'queue on redis');
    r = await cli(ws, 'exp', 'run', '-S', 'p.y=5', '--name', 'configured', '--queue');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('1 experiment(s) on the Redis queue: configured');
    r = await cli(ws, 'exp', 'show');
    expect(r.out).toMatch(/configured\s+queued/);
    ws.write('.pipeline/config.yaml', ws.read('.pipeline/config.yaml').replace(`redis: ${redis.url}`, 'redis: localhost:6379'));
    r = await cli(ws, 'exp', 'show');
    expect(r.code).toBe(1);
    expect(r.err).toContain(".pipeline/config.yaml: queue.redis: 'localhost:6379' is not a Redis URL");
  }, 180_000);
});
