import { describe, expect, it } from 'vitest';
import { librarySources, plotSpec, renderReportHtml, renderSvg, type Report } from '../src/index.ts';
import { confusion, history, perClass } from './fixtures.ts';

const confusionChart = plotSpec({ template: 'confusion', title: 'Confusion' }, [{ run: 'w', data: confusion }]);
const lossChart = plotSpec({ template: 'linear', x: 'epoch', y: ['loss', 'val_loss'] }, [{ run: 'w', data: history }]);

const report: Report = {
  title: 'Report </script><b>',
  sections: [
    { title: 'Confusion', note: 'evaluate/confusion.json', spec: confusionChart },
    { title: 'Loss', spec: lossChart },
    { title: 'Metrics', table: { columns: ['metric', 'a & b'], rows: [['accuracy', 0.5], ['loss', null]] } },
  ],
};

/** The items of every `<g class="mark-TYPE role-mark ...">` group of an SVG, by mark type. */
function svgMarks(svg: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of svg.matchAll(/<g class="mark-(\w+) role-mark[^"]*"[^>]*>/g)) {
    // Items of a mark group are its direct children: count the tags up to the group's end.
    let depth = 0;
    let items = 0;
    const rest = svg.slice(m.index! + m[0].length);
    for (const t of rest.matchAll(/<(\/?)(\w+)[^>]*?(\/?)>/g)) {
      if (t[1]) {
        if (depth === 0) break;
        depth--;
      } else if (!t[3]) {
        if (depth === 0) items++;
        depth++;
      } else if (depth === 0) items++;
    }
    counts[m[1]!] = (counts[m[1]!] ?? 0) + items;
  }
  return counts;
}

describe('renderReportHtml', () => {
  const html = renderReportHtml(report);

  it('is one self-contained file: the three libraries inlined, no URL to load, a CSP that forbids fetching', () => {
    for (const src of librarySources()) expect(html).toContain(src.slice(0, 2000));
    expect(librarySources().join('').length).toBeGreaterThan(500_000);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|sourceMappingURL/);
    expect(html).toContain(`content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data:"`);
    expect(html).toContain('{"renderer":"svg","actions":false}');
  });

  it('escapes text and the specs: a title cannot end a script or add markup', () => {
    expect(html).toContain('<title>Report &lt;/script&gt;&lt;b&gt;</title>');
    expect(html).toContain('<th>a &amp; b</th>');
    expect(html).toContain('<td>-</td>');
    const json = /<script type="application\/json" id="report-charts">(.*?)<\/script>/s.exec(html)![1]!;
    expect(JSON.parse(json).map((c: { id: string }) => c.id)).toEqual(['chart-1', 'chart-2']);
    expect(html.match(/<\/script>/g)).toHaveLength(5); // 3 libraries, the specs, the boot script
  });

  it('the same sections give the same bytes', () => {
    expect(renderReportHtml(structuredClone(report))).toBe(html);
  });
});

describe('renderSvg', () => {
  it('draws every mark: 64 cells with their counts, one point per epoch and series', async () => {
    const warnings: string[] = [];
    const svg = await renderSvg(confusionChart, { onWarning: (w) => warnings.push(w) });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svgMarks(svg)).toEqual({ rect: 64, text: 64 });
    expect(warnings).toEqual([]);
    const curves = svgMarks(await renderSvg(lossChart));
    expect(curves).toEqual({ line: 2, symbol: 2 * history.epochs.length });
    const bars = svgMarks(await renderSvg(plotSpec({ template: 'bar', x: 'emotion', y: ['recall', 'f1'] }, [{ run: 'w', data: perClass }])));
    expect(bars).toEqual({ rect: 16 });
  });

  it('is deterministic: the same bytes again, after another picture in between (gradient and clip ids restart)', async () => {
    const first = await renderSvg(confusionChart);
    expect(first).toMatch(/id="gradient_0"/);
    await renderSvg(plotSpec({ template: 'confusion' }, [{ run: 'a', data: confusion }, { run: 'b', data: confusion }]));
    expect(await renderSvg(confusionChart)).toBe(first);
  });
});
