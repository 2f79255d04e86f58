/**
 * The distributed experiment queue: experiments as BullMQ jobs on Redis, run by `ser-pipeline
 * worker` processes on any number of machines.
 *
 * - `exp run --queue --redis URL` adds one job per experiment (job id = experiment name); the job
 *   carries the queued ExpRecord, whose `baseCommit` is the commit every worker checks out.
 * - A worker runs each job in a git worktree of its own checkout at that commit (worktree.ts):
 *   it fetches the profile lock's objects and the run-cache from the remote, runs `exp run
 *   --from-queue` there in a child process, pushes the experiment's outs and run-cache entries,
 *   and completes the job with the final record (and the experiment's lock). Job logs hold the
 *   run's output; progress says which worker runs it and its last line.
 * - Faults are BullMQ's: a worker that stops renewing its job's lock (killed, machine gone) has the
 *   job handed to another worker by the stalled-job check; a job whose run fails is retried, and
 *   marked failed with its log after its last attempt.
 * - Records are read back from Redis (`exp show`), merged over the local ones by name.
 *
 * bullmq and ioredis are imported only when a Redis queue is used.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import type { Job, Queue, Worker } from 'bullmq';
import { PipelineError } from './errors.ts';
import { readConfig, resolveRemote } from './config.ts';
import { lockFileName, PIPELINE_FILE } from './parse.ts';
import { readLock } from './lock.ts';
import { openRemote, remoteLabel, type RemoteBackend } from './remote.ts';
import { fetchObjects, push } from './remote-sync.ts';
import { readExperiment, writeExperiment, type ExpRecord } from './exp-store.ts';
import { describePoint } from './exp-grid.ts';
import { formatBytes } from './bytes.ts';
import { addWorktree, removeAbandonedWorktrees, removeWorktree, WORKTREES_DIR } from './worktree.ts';

/** The BullMQ queue every submitter and worker of a Redis database shares. */
export const QUEUE_NAME = 'ser-pipeline-exp';
/** Runs of a job before it is marked failed (a run that fails, or a worker that dies mid-run). */
export const DEFAULT_ATTEMPTS = 3;
/** First retry delay of a failed run, doubled each time: a remote or a disk that hiccups gets time to come back. */
export const RETRY_DELAY_MS = 5000;
/** Seconds without a lock renewal after which a job counts as stalled and goes to another worker. */
export const DEFAULT_STALL_TIMEOUT_S = 30;
/** Parallel transfers of a worker's fetch and push. */
const TRANSFER_JOBS = 8;
/** Lines of a failed run's output kept in the job's failure reason (the whole output is in its log). */
const TAIL_LINES = 20;

/** What a job carries. */
export interface JobData {
  record: ExpRecord;
}

/** What a finished job returns. */
export interface JobResult {
  record: ExpRecord;
  /** The experiment's lock file, as text ('' when it wrote none). */
  lock: string;
}

/** What a running job reports. */
interface JobProgress {
  worker: string;
  startedAt: string;
  line?: string;
}

/** `redis://user:secret@host` -> `redis://user:***@host`, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^(\w+:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}

/**
 * The Redis URL: the flag, else `queue.redis` in .pipeline/config.yaml; undefined when neither
 * (the local queue). A malformed URL is an error naming where it came from.
 */
export function redisUrl(root: string, flag: string | true | undefined): string | undefined {
  if (flag === true) throw new PipelineError('--redis needs a URL (redis://host:6379)');
  const cfg = readConfig(root).other.queue;
  const fromConfig = cfg && typeof cfg === 'object' && !Array.isArray(cfg) ? (cfg as Record<string, unknown>).redis : undefined;
  if (flag === undefined && fromConfig !== undefined && typeof fromConfig !== 'string') {
    throw new PipelineError(`.pipeline/config.yaml: queue.redis: expected a URL (redis://host:6379), got ${JSON.stringify(fromConfig)}`);
  }
  const url = flag ?? (fromConfig as string | undefined);
  if (url === undefined) return undefined;
  if (!/^rediss?:\/\/[^/]/.test(url)) throw new PipelineError(`${flag !== undefined ? '--redis' : '.pipeline/config.yaml: queue.redis'}: '${redactUrl(url)}' is not a Redis URL (redis://host:6379, rediss:// for TLS)`);
  return url;
}

/** Check that Redis answers, before anything is queued or taken: a clear error, never a local fallback. */
export async function checkRedis(url: string, timeoutMs = 5000): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  client.on('error', () => {}); // reported below, once
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    throw new PipelineError(`cannot reach Redis at ${redactUrl(url)}: ${(e as Error).message || String(e)} (is redis-server running there? the URL comes from --redis or queue.redis in .pipeline/config.yaml)`);
  } finally {
    client.disconnect();
  }
}

async function openQueue(url: string): Promise<Queue<JobData, JobResult>> {
  await checkRedis(url);
  const { Queue } = await import('bullmq');
  return new Queue<JobData, JobResult>(QUEUE_NAME, { connection: { url } });
}

function gitDirty(root: string): string[] {
  try {
    const out = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.split('\n').filter(Boolean).map((l) => l.slice(3));
  } catch {
    return [];
  }
}

/**
 * `exp run --queue --redis`: one job per record. Workers run the records' commit, so the
 * workspace must be a git checkout without uncommitted changes to tracked files; a name already on
 * the queue is refused unless `force` (then its job is replaced, unless a worker is running it).
 */
export async function submitExperiments(root: string, url: string, records: ExpRecord[], opts: { force?: boolean; attempts?: number } = {}): Promise<void> {
  const commit = records[0]?.baseCommit;
  if (!commit) throw new PipelineError('exp run --redis: the workspace is not a git checkout; workers run an experiment at its commit');
  const dirty = gitDirty(root);
  if (dirty.length) {
    throw new PipelineError(
      `exp run --redis: uncommitted changes to ${dirty.slice(0, 5).join(', ')}${dirty.length > 5 ? `, ... (${dirty.length} files)` : ''}; workers run commit ${commit.slice(0, 10)}, which lacks them: commit (and push) first`,
    );
  }
  const queue = await openQueue(url);
  try {
    for (const rec of records) {
      const old = await queue.getJob(rec.name);
      if (!old) continue;
      const state = await old.getState();
      if (!opts.force) throw new PipelineError(`exp run: experiment '${rec.name}' is already on the queue at ${redactUrl(url)} (${state}); pass --force to replace it, or --name for another name`);
      if (state === 'active') throw new PipelineError(`exp run --force: experiment '${rec.name}' is running on a worker; wait for it to finish`);
      await old.remove();
    }
    for (const rec of records) {
      await queue.add('exp', { record: rec }, {
        jobId: rec.name,
        attempts: opts.attempts ?? DEFAULT_ATTEMPTS,
        backoff: { type: 'exponential', delay: RETRY_DELAY_MS },
        removeOnComplete: false,
        removeOnFail: false,
      });
    }
  } finally {
    await queue.close();
  }
}

/** A job as an experiment record: queued, running (which worker), done or failed (with why). */
export function recordOfJob(job: Pick<Job<JobData, JobResult>, 'data' | 'returnvalue' | 'progress' | 'failedReason' | 'attemptsMade'>, state: string): ExpRecord {
  const rec = job.data.record;
  if (state === 'completed' && job.returnvalue?.record) return job.returnvalue.record;
  if (state === 'failed') return { ...rec, status: 'failed', error: `${(job.failedReason ?? '').split('\n')[0]} (after ${job.attemptsMade} attempt(s); 'ser-pipeline exp log ${rec.name}')` };
  if (state === 'active') {
    const p = (typeof job.progress === 'object' ? job.progress : {}) as Partial<JobProgress>;
    return { ...rec, status: 'running', worker: p.worker, startedAt: p.startedAt };
  }
  return { ...rec, status: 'queued' };
}

const STATES = ['waiting', 'prioritized', 'delayed', 'waiting-children', 'active', 'completed', 'failed'] as const;

/** Every experiment on the queue, as records. */
export async function queuedRecords(url: string): Promise<ExpRecord[]> {
  const queue = await openQueue(url);
  try {
    const out: ExpRecord[] = [];
    for (const state of STATES) {
      for (const job of await queue.getJobs([state])) if (job) out.push(recordOfJob(job, state));
    }
    return out;
  } finally {
    await queue.close();
  }
}

/** A job's log (the run's output, the worker's fetch and push lines) and state. */
export async function jobLog(url: string, name: string): Promise<{ state: string; lines: string[] }> {
  const queue = await openQueue(url);
  try {
    const job = await queue.getJob(name);
    if (!job) throw new PipelineError(`experiment '${name}' is not on the queue at ${redactUrl(url)}`);
    const { logs } = await queue.getJobLogs(name, 0, -1);
    return { state: await job.getState(), lines: logs };
  } finally {
    await queue.close();
  }
}

/**
 * Remove jobs from the queue by experiment name (`*`: every job that is not running). A name not
 * on the queue, or running on a worker, is an error before anything is removed. Returns the names.
 */
export async function removeJobs(url: string, names: string[]): Promise<string[]> {
  const queue = await openQueue(url);
  try {
    const all = names.length === 1 && names[0] === '*';
    const jobs = all ? (await queue.getJobs([...STATES].filter((s) => s !== 'active'))).filter((j) => j !== undefined) : await Promise.all(names.map((n) => queue.getJob(n)));
    const missing = names.filter((_, i) => !all && !jobs[i]);
    if (missing.length) throw new PipelineError(`experiment(s) ${missing.join(', ')} neither in this workspace nor on the queue at ${redactUrl(url)}`);
    for (const job of jobs) {
      if ((await job!.getState()) === 'active') throw new PipelineError(`experiment '${job!.id}' is running on a worker; wait for it to finish`);
    }
    for (const job of jobs) await job!.remove();
    return jobs.map((j) => j!.id!);
  } finally {
    await queue.close();
  }
}

/** The records of the workspace and of the queue, one per name (the queue's wins: it is the shared truth). */
export function mergeRecords(local: ExpRecord[], queued: ExpRecord[]): ExpRecord[] {
  const byName = new Map(local.map((r) => [r.name, r]));
  for (const r of queued) byName.set(r.name, r);
  return [...byName.values()].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.name < b.name ? -1 : 1));
}

// ------------------------------------------------------------------------------- worker

export interface WorkerOptions {
  url: string;
  /** Jobs at once (each its own worktree and child process). */
  concurrency: number;
  stallTimeoutS: number;
  /** Remote name for fetch and push; default: the commit's default remote (none: no transfers). */
  remote?: string;
  /** Stop once the queue has nothing waiting or running. */
  exitWhenEmpty?: boolean;
  log: (line: string) => void;
}

/** The remote a job's worktree uses, or undefined (no remote configured). */
async function jobRemote(wt: string, name: string | undefined): Promise<{ backend: RemoteBackend; label: string } | undefined> {
  const cfg = readConfig(wt);
  if (name === undefined && cfg.default === undefined) return undefined;
  const r = resolveRemote(cfg, name);
  return { backend: await openRemote(wt, r.name, r.remote), label: remoteLabel(r.name, r.remote) };
}

function transferLine(verb: string, r: Awaited<ReturnType<typeof push>>, where: string): string {
  return `${verb} ${where}: ${r.objects.moved} object(s) and ${r.runs.moved} run-cache entr${r.runs.moved === 1 ? 'y' : 'ies'}, ${formatBytes(r.objects.bytes + r.runs.bytes)} in ${r.seconds.toFixed(2)} s`;
}

/** Run `exp run --from-queue NAME` in the worktree; each output line goes to `onLine`. Resolves with the exit code. */
function runChild(wt: string, name: string, onLine: (line: string) => void): Promise<number> {
  const entry = process.argv[1];
  if (!entry) throw new PipelineError('worker: cannot tell how this process was started');
  const child = spawn(process.execPath, [...process.execArgv, entry, 'exp', 'run', '--from-queue', name], { cwd: wt, env: { ...process.env, PIPELINE_ROOT: wt }, stdio: ['ignore', 'pipe', 'pipe'] });
  const split = (stream: NodeJS.ReadableStream) => {
    let buf = '';
    stream.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) onLine(l);
    });
    stream.on('end', () => buf && onLine(buf));
  };
  split(child.stdout);
  split(child.stderr);
  return new Promise((resolve) => {
    child.on('error', (e) => {
      onLine(`could not start the run: ${e.message}`);
      resolve(-1);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : -1)));
  });
}

/** One job: worktree at the commit, fetch, run, push, result. Throws (for BullMQ to retry) when the run fails. */
async function processJob(root: string, job: Job<JobData, JobResult>, opts: WorkerOptions, workerId: string): Promise<JobResult> {
  const queued = job.data.record;
  const name = queued.name;
  const startedAt = new Date().toISOString();
  const tail: string[] = [];
  let lastProgress = 0;
  const out = (line: string) => {
    opts.log(`[${name}] ${line}`);
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    void job.log(line).catch(() => {});
    if (Date.now() - lastProgress > 1000) {
      lastProgress = Date.now();
      void job.updateProgress({ worker: workerId, startedAt, line } satisfies JobProgress).catch(() => {});
    }
  };
  await job.updateProgress({ worker: workerId, startedAt } satisfies JobProgress);
  out(`worker ${workerId}: attempt ${job.attemptsStarted}, commit ${queued.baseCommit?.slice(0, 10)}: ${describePoint(queued.overrides)}`);
  const wt = path.join(root, WORKTREES_DIR, `${name}.${process.pid}`);
  fs.rmSync(wt, { recursive: true, force: true });
  addWorktree(root, wt, queued.baseCommit!);
  try {
    writeExperiment(wt, { ...queued, status: 'queued' });
    const remote = await jobRemote(wt, opts.remote);
    const profileLock = lockFileName(PIPELINE_FILE, queued.profile);
    const lock = readLock(wt, profileLock);
    if (remote && Object.keys(lock).length) {
      const r = await fetchObjects(remote.backend, { root: wt, lock, lockFile: profileLock, stages: [], jobs: TRANSFER_JOBS });
      out(transferLine('fetch from', r, remote.label));
    } else if (!remote) out('no remote configured: nothing fetched, nothing will be pushed');
    const code = await runChild(wt, name, out);
    const rec = readExperiment(wt, name);
    if (code !== 0 || rec.status !== 'done') {
      throw new Error(`${rec.error ?? `the run exited with code ${code}`}\n${tail.join('\n')}`);
    }
    const lockAbs = path.join(wt, rec.lockFile);
    const lockText = fs.existsSync(lockAbs) ? fs.readFileSync(lockAbs, 'utf8') : '';
    if (remote && lockText) {
      const r = await push(remote.backend, { root: wt, lock: readLock(wt, rec.lockFile), lockFile: rec.lockFile, stages: [], jobs: TRANSFER_JOBS });
      out(transferLine('push to', r, remote.label));
    }
    return { record: { ...rec, worker: workerId }, lock: lockText };
  } finally {
    removeWorktree(root, wt);
  }
}

/**
 * `ser-pipeline worker`: take jobs until stopped (SIGINT/SIGTERM: finish the running jobs, take no
 * more), or until the queue is empty with `exitWhenEmpty`. Resolves when it has stopped.
 */
export async function runWorker(root: string, opts: WorkerOptions): Promise<void> {
  await checkRedis(opts.url);
  const abandoned = removeAbandonedWorktrees(root);
  if (abandoned.length) opts.log(`worker: removed ${abandoned.length} worktree(s) a dead worker left: ${abandoned.join(', ')}`);
  const { Worker, Queue } = await import('bullmq');
  const workerId = `${os.hostname()}:${process.pid}`;
  const stallMs = opts.stallTimeoutS * 1000;
  const worker: Worker<JobData, JobResult> = new Worker<JobData, JobResult>(QUEUE_NAME, (job) => processJob(root, job, opts, workerId), {
    connection: { url: opts.url, maxRetriesPerRequest: null },
    concurrency: opts.concurrency,
    lockDuration: stallMs,
    stalledInterval: Math.max(1000, stallMs / 2),
    // A job whose workers keep dying is failed after as many stalls as it has attempts.
    maxStalledCount: DEFAULT_ATTEMPTS,
  });
  worker.on('completed', (job) => opts.log(`worker: ${job.id} done in ${job.returnvalue.record.durationS?.toFixed(1)} s`));
  worker.on('failed', (job, err) => opts.log(`worker: ${job?.id} failed (attempt ${job?.attemptsMade}): ${err.message.split('\n')[0]}`));
  worker.on('stalled', (id) => opts.log(`worker: ${id} stalled (its worker stopped answering); it goes back to the queue`));
  worker.on('error', (e) => opts.log(`worker: ${e.message}`));
  opts.log(`worker ${workerId}: taking jobs from ${redactUrl(opts.url)} (queue ${QUEUE_NAME}), ${opts.concurrency} at a time; a job stalls after ${opts.stallTimeoutS} s without this worker`);

  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(130);
    stopping = true;
    opts.log('worker: stopping after the running jobs (again to abandon them: they go back to the queue after the stall timeout)');
    void worker.close();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (opts.exitWhenEmpty) {
    const queue = new Queue(QUEUE_NAME, { connection: { url: opts.url } });
    const timer = setInterval(() => {
      void queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized').then((c) => {
        if (Object.values(c).every((n) => n === 0) && !stopping) {
          stopping = true;
          opts.log('worker: the queue is empty; stopping');
          void worker.close();
        }
      });
    }, 1000);
    worker.on('closed', () => {
      clearInterval(timer);
      void queue.close();
    });
  }
  await worker.waitUntilReady();
  await new Promise<void>((resolve) => worker.on('closed', () => resolve()));
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
}
