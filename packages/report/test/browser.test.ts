// The report in a real browser: headless chromium opens it from a file:// URL, with no console
// error, page error or request other than the file itself, and draws every mark.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { plotSpec, renderReportHtml } from '../src/index.ts';
import { chromiumEnv, openReport } from '../testing/index.ts';
import { CLASSES, EPOCHS, byIntensity, confusion, history, perClass } from './fixtures.ts';

const env = chromiumEnv();
if (!env.executablePath && !env.required) console.log(`browser report test skipped: ${env.reason}; SER_REQUIRE_CHROMIUM=1 makes this a failure`);

describe.skipIf(!env.executablePath && !env.required)('the HTML report in headless chromium', () => {
  it('renders offline without errors: one cell per confusion entry, one point per epoch and series, one bar per class and series', async () => {
    if (!env.executablePath) throw new Error(`SER_REQUIRE_CHROMIUM=1 but ${env.reason}`);
    const run = (data: unknown) => [{ run: 'fixture', data }];
    const html = renderReportHtml({
      title: 'Fixture report',
      sections: [
        { title: 'Loss', spec: plotSpec({ template: 'linear', x: 'epoch', y: ['loss', 'val_loss'] }, run(history)) },
        { title: 'Accuracy', spec: plotSpec({ template: 'linear', x: 'epoch', y: ['acc', 'val_acc'] }, run(history)) },
        { title: 'Confusion', spec: plotSpec({ template: 'confusion' }, run(confusion)) },
        { title: 'Recall and F1', spec: plotSpec({ template: 'bar', x: 'emotion', y: ['recall', 'f1'] }, run(perClass)) },
        { title: 'By intensity', spec: plotSpec({ template: 'bar', x: 'emotion', y: ['accuracy'], group: 'intensity' }, run(byIntensity)) },
        { title: 'Two runs', spec: plotSpec({ template: 'linear', x: 'epoch', y: ['loss'] }, [{ run: 'a', data: history }, { run: 'b', data: history }]) },
        { title: 'Metrics', table: { columns: ['metric', 'a', 'b'], rows: [['accuracy', 0.5, 0.6], ['loss', 1.2, 1.1]] } },
      ],
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ser-report-'));
    const file = path.join(dir, 'report.html');
    fs.writeFileSync(file, html);
    try {
      const page = await openReport(env.executablePath, file);
      expect(page.errors).toEqual([]);
      expect(page.failedRequests).toEqual([]);
      expect(page.requests).toEqual([`file://${file}`]);
      expect(page.renderError).toBeNull();
      expect(page.rendered).toBe('6');
      console.log(`chromium marks: ${JSON.stringify(page.charts)}`);
      expect(page.charts).toEqual({
        'chart-1': { line: 2, symbol: 2 * EPOCHS },
        'chart-2': { line: 2, symbol: 2 * EPOCHS },
        'chart-3': { rect: 64, text: 64 },
        'chart-4': { rect: 2 * CLASSES.length },
        'chart-5': { rect: 2 * (CLASSES.length + 1) },
        'chart-6': { line: 2, symbol: 2 * EPOCHS },
      });
      expect(page.tableRows).toEqual([2]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('the check itself fails on a blocked fetch and a console error', async () => {
    if (!env.executablePath) throw new Error(`SER_REQUIRE_CHROMIUM=1 but ${env.reason}`);
    const html = renderReportHtml({ title: 'Broken', sections: [{ title: 'Loss', spec: plotSpec({ template: 'linear', x: 'epoch', y: ['loss'] }, [{ run: 'w', data: history }]) }] })
      .replace(/<\/body>\n<\/html>\n$/, '<img src="http://127.0.0.1:9/remote.png"><script>console.error("boom")</script></body></html>');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ser-report-'));
    const file = path.join(dir, 'report.html');
    fs.writeFileSync(file, html);
    try {
      const page = await openReport(env.executablePath, file);
      expect(page.errors.some((e) => e.includes('boom'))).toBe(true);
      expect(page.errors.some((e) => e.includes("violates the following Content Security Policy directive: \"img-src data:\""))).toBe(true);
      expect(page.failedRequests).toEqual(['http://127.0.0.1:9/remote.png: csp']);
      expect(page.rendered).toBe('1');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
