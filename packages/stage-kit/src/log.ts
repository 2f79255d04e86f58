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

/** A line of live status: redrawn in place on a terminal, plain rate-limited lines otherwise. */
export interface StatusLine {
  /** Whether the line is redrawn in place (a terminal) rather than printed as plain lines. */
  readonly tty: boolean;
  /** Shows `text`; `final` forces it out (the last update of a task is never dropped). */
  update(text: string, final?: boolean, now?: number): void;
  /** Erases a redrawn line so the next log line starts clean (no-op without a terminal). */
  clear(): void;
}

export interface StatusLineOptions {
  /** Redraw in place (default: stdout and stderr are both terminals and TERM is not `dumb`). */
  tty?: boolean;
  /** Minimum ms between lines (default 100 on a terminal, PROGRESS_INTERVAL_MS otherwise). */
  intervalMs?: number;
  /** Terminal width: a redrawn line is cut to it so it cannot wrap (default stdout's columns, else 120). */
  columns?: number;
  write?: (s: string) => void;
}

/** True when live redrawing makes sense: both streams are terminals (a pipe, a log file or CI gets plain lines). */
export function isInteractive(env: NodeJS.ProcessEnv = process.env): boolean {
  return !!process.stdout.isTTY && !!process.stderr.isTTY && env.TERM !== 'dumb';
}

/**
 * A StatusLine. On a terminal each update rewrites the line (`\r`, erase line, text cut to the
 * width), at most every 100 ms; without one (the engine's `[stage]` log, CI) each update that
 * passes the rate limit is a plain line, as `progress` prints.
 */
export function statusLine(opts: StatusLineOptions = {}): StatusLine {
  const tty = opts.tty ?? isInteractive();
  const interval = opts.intervalMs ?? (tty ? 100 : PROGRESS_INTERVAL_MS);
  const write = opts.write ?? ((s: string) => void process.stdout.write(s));
  const columns = opts.columns ?? (process.stdout.columns || 120);
  let last = -Infinity;
  let drawn = false;
  return {
    tty,
    update(text, final = false, now = Date.now()) {
      if (!final && now - last < interval) return;
      last = now;
      if (!tty) return write(text + '\n');
      write(`\r\x1b[2K${text.length >= columns ? text.slice(0, Math.max(0, columns - 1)) : text}`);
      drawn = true;
    },
    clear() {
      if (drawn) write('\r\x1b[2K');
      drawn = false;
    },
  };
}

/** `[#######>------------]`: `done` of `total` as a bar of `width` cells. */
export function progressBar(done: number, total: number, width = 20): string {
  const filled = total > 0 ? Math.min(width, Math.floor((width * done) / total)) : width;
  const head = filled < width && done > 0 ? '>' : '';
  return `[${'#'.repeat(filled)}${head}${'-'.repeat(width - filled - head.length)}]`;
}
