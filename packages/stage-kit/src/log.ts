// Plain-text logging on stdout (the engine prefixes `[stage]`); progress at most ~1 line/s.

/** One line on stdout. */
export function log(msg: string): void {
  process.stdout.write(msg + '\n');
}

let lastProgress = 0;
let lastLabel = '';

/** Minimum interval between progress lines, ms. */
export const PROGRESS_INTERVAL_MS = 1000;

/**
 * Progress line `label: done/total (p%)`, rate-limited to one per PROGRESS_INTERVAL_MS; the first
 * call for a label and the final one (done === total) are always printed.
 */
export function progress(done: number, total: number, label = 'progress', now: number = Date.now()): void {
  const final = done >= total;
  if (!final && label === lastLabel && now - lastProgress < PROGRESS_INTERVAL_MS) return;
  lastProgress = now;
  lastLabel = label;
  const pct = total > 0 ? ((100 * done) / total).toFixed(0) : '100';
  log(`${label}: ${done}/${total} (${pct}%)`);
}
