// orderedPool / mapOrdered: results in input order whatever the completion order, a bounded
// window in flight, failures naming the item, the same results inline and on worker threads.
import { describe, expect, it } from 'vitest';
import { mapOrdered, orderedPool, resolveWorkers, workersFromEnv, workersParam, type PoolTask } from '@ser/stage-kit';
import { availableParallelism } from 'node:os';
import { poolTask, type PoolTestTask } from './fixtures/pool-task.ts';

const entry = new URL('./fixtures/pool-worker.mjs', import.meta.url);
const inline = (m: unknown) => poolTask(m as PoolTestTask);
// Later items finish first within each window: out-of-order completion.
const items = Array.from({ length: 24 }, (_, i) => i);
const delayOf = (i: number) => (i % 4 === 0 ? 30 : 1);

async function run(workers: number, tasks: (i: number) => PoolTestTask, window?: number) {
  const got: [number, number][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const count = await mapOrdered(items, {
    workers,
    entry,
    inline,
    window,
    task: (i): PoolTask => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return { message: tasks(i) };
    },
    onResult: (r, i, index) => {
      inFlight--;
      expect(index).toBe(i);
      got.push([i, r]);
    },
    describe: (i) => `item ${i}`,
  });
  return { count, got, maxInFlight };
}

describe('mapOrdered', () => {
  it('hands results over in input order on 3 workers, with at most `window` tasks in flight', async () => {
    const r = await run(3, (i) => ({ value: i, delayMs: delayOf(i) }), 5);
    expect(r.count).toBe(24);
    expect(r.got).toEqual(items.map((i) => [i, 2 * i]));
    expect(r.maxInFlight).toBeLessThanOrEqual(5);
    expect(r.maxInFlight).toBeGreaterThan(1);
  });

  it('inline (1 worker) gives the same results', async () => {
    const r = await run(1, (i) => ({ value: i, delayMs: 0 }));
    expect(r.got).toEqual(items.map((i) => [i, 2 * i]));
    expect(r.maxInFlight).toBe(1);
  });

  for (const workers of [1, 2]) {
    it(`a failing task rejects naming the item; no later result is handed over (${workers} worker(s))`, async () => {
      const seen: number[] = [];
      const p = mapOrdered(items, {
        workers,
        entry,
        inline,
        task: (i) => ({ message: { value: i, delayMs: delayOf(i), fail: i === 9 } }),
        onResult: (_r, i) => void seen.push(i),
        describe: (i) => `rows.arrow: row ${i}`,
      });
      await expect(p).rejects.toThrow(/^rows\.arrow: row 9: boom at 9$/);
      // Earlier rows may still be in flight when the failure arrives: a prefix of them got through.
      expect(seen).toEqual(items.slice(0, seen.length));
      expect(seen.length).toBeLessThanOrEqual(9);
      if (workers === 1) expect(seen.length).toBe(9);
    });
  }

  it('a worker that exits fails the pass, naming the worker', async () => {
    const p = mapOrdered(items, { workers: 2, entry, inline, task: (i) => ({ message: { value: i, delayMs: 1, exit: i === 5 } }), onResult: () => {}, describe: (i) => `item ${i}` });
    await expect(p).rejects.toThrow(/worker [12]\/2 exited \(code 3\) before its tasks were done/);
  });

  it('a pool serves several passes in order (one per split)', async () => {
    const pool = orderedPool({ workers: 2, entry, inline });
    try {
      for (const base of [0, 100]) {
        const got: number[] = [];
        await pool.map([1, 2, 3, 4, 5], { task: (v) => ({ message: { value: base + v, delayMs: v === 1 ? 20 : 0 } }), onResult: (r) => void got.push(r), describe: String });
        expect(got).toEqual([1, 2, 3, 4, 5].map((v) => 2 * (base + v)));
      }
    } finally {
      await pool.close();
    }
  });
});

describe('workersFromEnv', () => {
  it('takes the string of an environment variable: N, auto, unset or empty = auto; anything else names the variable', () => {
    expect(workersFromEnv('BENCH_WORKERS', { BENCH_WORKERS: '2' })).toBe(2);
    expect(workersFromEnv('BENCH_WORKERS', { BENCH_WORKERS: ' 1 ' })).toBe(1);
    expect(workersFromEnv('BENCH_WORKERS', { BENCH_WORKERS: 'auto' })).toBe(availableParallelism());
    expect(workersFromEnv('BENCH_WORKERS', {})).toBe(availableParallelism());
    expect(workersFromEnv('BENCH_WORKERS', { BENCH_WORKERS: '' })).toBe(availableParallelism());
    for (const bad of ['0', '-1', '2.5', 'all']) {
      expect(() => workersFromEnv('BENCH_WORKERS', { BENCH_WORKERS: bad })).toThrow(/BENCH_WORKERS must be auto or an integer >= 1/);
    }
  });
});

describe('workersParam', () => {
  it('auto or an integer >= 1; missing or null = 1; anything else names the key', () => {
    expect(workersParam('auto', 'x.workers')).toBe('auto');
    expect(workersParam(2, 'x.workers')).toBe(2);
    expect(workersParam(undefined, 'x.workers')).toBe(1);
    expect(workersParam(null, 'x.workers')).toBe(1);
    for (const bad of [0, -1, 2.5, 'all', true]) expect(() => workersParam(bad, 'ingest.workers')).toThrow(/params: ingest\.workers must be auto or an integer >= 1/);
    expect(resolveWorkers('auto')).toBe(availableParallelism());
    expect(resolveWorkers(3)).toBe(3);
  });
});
