// Row-parallel stages: `<stage>.workers` (auto | N) and an ordered map over worker threads. Rows go
// out to N workers with a bounded number in flight and come back to the caller strictly in input
// order, so a stage's output is byte-identical to its one-worker run and memory stays bounded by
// the window, not by the data.
import { availableParallelism } from 'node:os';
import { Worker, parentPort, type Transferable } from 'node:worker_threads';
import { ParamError } from './errors.ts';
import type { Check } from './params.ts';

export type WorkersSetting = number | 'auto';

/** `<stage>.workers`: `auto` or an integer >= 1; a missing key or null is 1 (in-process). */
export const workersParam: Check<WorkersSetting> = Object.assign(
  (v: unknown, key: string): WorkersSetting => {
    if (v === null || v === undefined) return 1;
    if (v === 'auto' || (typeof v === 'number' && Number.isInteger(v) && v >= 1)) return v;
    throw new ParamError(key, `params: ${key} must be auto or an integer >= 1, got ${JSON.stringify(v)}`);
  },
  { acceptsMissing: true },
);

/** Worker threads for a setting: `auto` = os.availableParallelism(). */
export function resolveWorkers(setting: WorkersSetting): number {
  return setting === 'auto' ? availableParallelism() : setting;
}

/** One task for a worker: a structured-cloneable message and the buffers to move, not copy. */
export interface PoolTask {
  message: unknown;
  transfer?: Transferable[];
}

/** Where and how rows are computed: the same computation inline or in worker threads. */
export interface PoolOptions<R> {
  /** Worker threads; 1 (or less) runs `inline` on this thread, no worker started. */
  workers: number;
  /** The worker's entry module: it calls `serveTasks` with the same computation as `inline`. */
  entry: URL;
  /** Passed to every worker as `workerData` (its configuration). */
  workerData?: unknown;
  /** The computation on this thread when workers <= 1 (what the worker's handler does). */
  inline: (message: unknown) => R;
}

/** One ordered pass over items. */
export interface MapOptions<I, R> {
  /** Builds the task of item `index`. */
  task: (item: I, index: number) => PoolTask;
  /** Receives the results in input order (awaited one at a time). */
  onResult: (result: R, item: I, index: number) => void | Promise<void>;
  /** Names an item in an error message (e.g. `file.arrow: row 12 (id ...)`). */
  describe: (item: I, index: number) => string;
  /** Tasks sent but not yet handed to onResult, at most (default 4 per worker). */
  window?: number;
}

export type OrderedMapOptions<I, R> = PoolOptions<R> & MapOptions<I, R>;

/** A task that failed in a worker (or the worker itself): the message names the item. */
export class PoolTaskError extends Error {
  override name = 'PoolTaskError';
}

type FromPool = { type: 'result'; seq: number; result: unknown } | { type: 'error'; seq: number; message: string };

/** Worker threads kept for several ordered passes (e.g. one per split); `close` ends them. */
export interface OrderedPool<R> {
  readonly workers: number;
  /**
   * `inline(task(item).message)` for every item, each result handed to `onResult` in input order.
   * The first failure (a task's error or a worker's exit) stops everything: the workers are
   * terminated and the promise rejects with a PoolTaskError naming the item; no later result
   * reaches onResult. Resolves to the number of items.
   */
  map<I>(items: Iterable<I> | AsyncIterable<I>, m: MapOptions<I, R>): Promise<number>;
  close(): Promise<void>;
}

function failure(describe: string, e: unknown): PoolTaskError {
  return new PoolTaskError(`${describe}: ${e instanceof Error ? e.message : String(e)}`);
}

/** A pool of `o.workers` threads (none for 1: `map` then computes inline, in order). */
export function orderedPool<R>(o: PoolOptions<R>): OrderedPool<R> {
  if (o.workers <= 1) {
    return {
      workers: 1,
      async map(items, m) {
        let index = 0;
        for await (const item of items) {
          let result: R;
          try {
            result = o.inline(m.task(item, index).message);
          } catch (e) {
            throw failure(m.describe(item, index), e);
          }
          await m.onResult(result, item, index);
          index++;
        }
        return index;
      },
      async close() {},
    };
  }

  const threads = Array.from({ length: o.workers }, () => new Worker(o.entry, { workerData: o.workerData }));
  const outstanding = threads.map(() => 0);
  let broken: Error | null = null; // a thread failed or exited: the pool is unusable
  let closing = false;
  // The running pass: where messages go.
  let job: { results: Map<number, unknown>; error: (seq: number, message: string) => void; wake: () => void } | null = null;
  const breakPool = (e: Error) => {
    broken ??= e;
    job?.wake();
  };
  threads.forEach((t, w) => {
    t.on('message', (m: FromPool) => {
      outstanding[w]!--;
      if (!job) return;
      if (m.type === 'result') job.results.set(m.seq, m.result);
      else job.error(m.seq, m.message);
      job.wake();
    });
    t.on('error', (e) => breakPool(new PoolTaskError(`worker ${w + 1}/${threads.length} failed: ${e.message}`)));
    t.on('exit', (code) => {
      if (!closing) breakPool(new PoolTaskError(`worker ${w + 1}/${threads.length} exited (code ${code}) before its tasks were done`));
    });
  });
  const close = async () => {
    closing = true;
    await Promise.all(threads.map((t) => t.terminate()));
  };

  return {
    workers: threads.length,
    close,
    async map<I>(items: Iterable<I> | AsyncIterable<I>, m: MapOptions<I, R>): Promise<number> {
      if (job) throw new Error('orderedPool: one map at a time');
      const window = Math.max(threads.length, m.window ?? 4 * threads.length);
      const sentItems = new Map<number, I>(); // seq -> item, until handed to onResult
      const results = new Map<number, unknown>();
      let taskError: Error | null = null;
      let wake: (() => void) | null = null;
      job = {
        results,
        error: (seq, message) => (taskError ??= failure(m.describe(sentItems.get(seq) as I, seq), message)),
        wake: () => {
          const w = wake;
          wake = null;
          w?.();
        },
      };
      const check = () => {
        const e = taskError ?? broken;
        if (e) throw e;
      };
      let sent = 0;
      let done = 0;
      const handOver = async () => {
        while (results.has(done)) {
          const result = results.get(done) as R;
          results.delete(done);
          const item = sentItems.get(done) as I;
          sentItems.delete(done);
          await m.onResult(result, item, done);
          done++;
          check();
        }
      };
      /** Waits until fewer than `limit` tasks are unfinished, handing results over meanwhile. */
      const drainTo = async (limit: number) => {
        for (;;) {
          check();
          await handOver();
          if (sent - done < limit) return;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      };
      try {
        for await (const item of items) {
          await drainTo(window);
          const { message, transfer } = m.task(item, sent);
          let w = 0;
          for (let i = 1; i < threads.length; i++) if (outstanding[i]! < outstanding[w]!) w = i;
          sentItems.set(sent, item);
          threads[w]!.postMessage({ seq: sent, message }, transfer ?? []);
          outstanding[w]!++;
          sent++;
        }
        await drainTo(1);
        return sent;
      } catch (e) {
        await close(); // tasks may still be running: the pool cannot be reused
        throw e;
      } finally {
        job = null;
      }
    },
  };
}

/** One ordered pass on a pool of its own (see OrderedPool.map), closed at the end. */
export async function mapOrdered<I, R>(items: Iterable<I> | AsyncIterable<I>, o: OrderedMapOptions<I, R>): Promise<number> {
  const pool = orderedPool(o);
  try {
    return await pool.map(items, o);
  } finally {
    await pool.close();
  }
}

/**
 * The worker side of mapOrdered: answers every task with `handle(message)`; a thrown error goes
 * back as that task's failure. `handle` returns the result and the buffers to move with it.
 */
export function serveTasks(handle: (message: unknown) => { result: unknown; transfer?: Transferable[] }): void {
  if (!parentPort) throw new Error('serveTasks: not in a worker thread');
  const port = parentPort;
  port.on('message', (m: { seq: number; message: unknown }) => {
    let reply: { result: unknown; transfer?: Transferable[] };
    try {
      reply = handle(m.message);
    } catch (e) {
      port.postMessage({ type: 'error', seq: m.seq, message: e instanceof Error ? e.message : String(e) });
      return;
    }
    port.postMessage({ type: 'result', seq: m.seq, result: reply.result }, reply.transfer ?? []);
  });
}
