/**
 * Which selected stage may start now: its selected upstream stages are done and fewer than
 * `jobs` stages are running (`repro -j N`). Knows nothing of what a stage does.
 */

export interface ScheduleInput {
  /** Selected stages in topological order; ready stages start in this order. */
  order: string[];
  /** Upstream stages of a stage (those outside `order` are not waited for). */
  upstreamOf: (stage: string) => string[];
  /** How many stages may run at once (at least 1). */
  jobs: number;
  /** Process one stage; resolves false when it failed (nothing new starts after that). */
  runStage: (stage: string) => Promise<boolean>;
}

/**
 * Runs every stage of `order` once its upstream stages are done, up to `jobs` at a time. After a
 * failure no new stage starts; the running ones finish, then the promise resolves. An error
 * thrown by `runStage` rejects at once.
 */
export function schedule({ order, upstreamOf, jobs, runStage }: ScheduleInput): Promise<void> {
  const selected = new Set(order);
  const maxRunning = Math.max(1, jobs);
  const done = new Set<string>();
  const running = new Set<string>();
  let failed = false;
  const isReady = (stage: string) =>
    !done.has(stage) && !running.has(stage) && upstreamOf(stage).every((u) => !selected.has(u) || done.has(u));

  return new Promise<void>((resolve, reject) => {
    const startReady = () => {
      if (!failed) {
        for (const stage of order) {
          if (running.size >= maxRunning) break;
          if (!isReady(stage)) continue;
          running.add(stage);
          runStage(stage).then(
            (ok) => {
              running.delete(stage);
              done.add(stage);
              if (!ok) failed = true;
              startReady();
            },
            (e: unknown) => {
              running.delete(stage);
              failed = true;
              reject(e);
            },
          );
        }
      }
      // Nothing running and nothing could start: all done, stopped by a failure, or blocked.
      if (running.size === 0) resolve();
    };
    startReady();
  });
}
