// Opening a report in a real browser, for tests: Debian's chromium (no browser download) driven
// by playwright-core. Without a chromium binary the tests are skipped with the reason, unless
// SER_REQUIRE_CHROMIUM=1 (CI) makes that a failure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

/** Headless, offline, no state shared with any other run. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ChromiumEnv {
  /** The binary, when it exists. */
  executablePath?: string;
  /** Why the browser tests are skipped (no binary). */
  reason?: string;
  /** SER_REQUIRE_CHROMIUM=1: a missing binary fails instead of skipping. */
  required: boolean;
}

/** CHROMIUM_PATH, else /usr/bin/chromium. */
export function chromiumEnv(env: NodeJS.ProcessEnv = process.env): ChromiumEnv {
  const required = env['SER_REQUIRE_CHROMIUM'] === '1';
  const candidate = env['CHROMIUM_PATH'] || '/usr/bin/chromium';
  if (fs.existsSync(candidate)) return { executablePath: candidate, required };
  return { reason: `no chromium at ${candidate} (set CHROMIUM_PATH, or on Debian: apt-get install chromium)`, required };
}

/** Rendered marks of one chart: mark type (rect, symbol, line, text...) -> items drawn. */
export type MarkCounts = Record<string, number>;

export interface PageResult {
  /** Console messages of type error, uncaught page errors, CSP violations. */
  errors: string[];
  warnings: string[];
  /** Every URL the page requested (the report itself only, when nothing is fetched). */
  requests: string[];
  failedRequests: string[];
  /** The report's data-rendered (number of charts drawn) or data-render-error. */
  rendered: string | null;
  renderError: string | null;
  /** Chart element id -> its marks (role "mark" groups only: no axes, legends or titles). */
  charts: Record<string, MarkCounts>;
  /** Rows of each table's body, in page order. */
  tableRows: number[];
}

/** Runs in the page (a string: this package is type-checked without the DOM library). */
const COUNT_MARKS = `(() => {
  const charts = {};
  for (const chart of document.querySelectorAll('div.chart')) {
    const counts = {};
    for (const g of chart.querySelectorAll('g.role-mark')) {
      const cls = Array.from(g.classList).find((c) => c.startsWith('mark-'));
      const type = cls ? cls.slice(5) : '?';
      counts[type] = (counts[type] || 0) + g.children.length;
    }
    charts[chart.id] = counts;
  }
  const tableRows = Array.from(document.querySelectorAll('table tbody')).map((b) => b.querySelectorAll('tr').length);
  return { charts, tableRows };
})()`;

/**
 * Opens `file` from a file:// URL in headless chromium (a fresh temporary profile), waits until
 * every chart is drawn (or failed), and reports errors, requests and the marks in each chart.
 */
export async function openReport(executablePath: string, file: string, timeoutMs = 60_000): Promise<PageResult> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ser-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath, headless: true, args: CHROMIUM_FLAGS, timeout: timeoutMs });
  const res: PageResult = { errors: [], warnings: [], requests: [], failedRequests: [], rendered: null, renderError: null, charts: {}, tableRows: [] };
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') res.errors.push(`console: ${m.text()}`);
      else if (m.type() === 'warning') res.warnings.push(m.text());
    });
    page.on('pageerror', (e) => res.errors.push(`page error: ${e.message}`));
    page.on('request', (r) => res.requests.push(r.url()));
    page.on('requestfailed', (r) => res.failedRequests.push(`${r.url()}: ${r.failure()?.errorText ?? 'failed'}`));
    await page.goto(pathToFileURL(file).href, { timeout: timeoutMs });
    try {
      await page.waitForSelector('body[data-rendered], body[data-render-error]', { timeout: timeoutMs });
    } catch (e) {
      res.errors.push(`not rendered: ${(e as Error).message.split('\n')[0]}`);
    }
    res.rendered = await page.getAttribute('body', 'data-rendered');
    res.renderError = await page.getAttribute('body', 'data-render-error');
    const counted = (await page.evaluate(COUNT_MARKS)) as { charts: Record<string, MarkCounts>; tableRows: number[] };
    res.charts = counted.charts;
    res.tableRows = counted.tableRows;
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  return res;
}
