// One self-contained, offline HTML report: vega, vega-lite and vega-embed inlined from
// node_modules, the specs as JSON, nothing fetched when it is opened (a Content-Security-Policy
// forbids it). No clock: the same sections give the same bytes.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { VegaLiteSpec } from './specs.ts';

export interface ChartSection {
  title: string;
  /** A line under the title (e.g. the plot file). */
  note?: string;
  spec: VegaLiteSpec;
}

export type Cell = string | number | null;

export interface TableSection {
  title: string;
  note?: string;
  table: { columns: string[]; rows: Cell[][] };
}

export type Section = ChartSection | TableSection;

export interface Report {
  title: string;
  sections: Section[];
}

/** The browser builds, in load order (vega-lite needs vega; vega-embed needs both). */
const LIBRARIES = [
  { pkg: 'vega', file: 'vega.min.js' },
  { pkg: 'vega-lite', file: 'vega-lite.min.js' },
  { pkg: 'vega-embed', file: 'vega-embed.min.js' },
] as const;

/** The options every chart is embedded with: SVG marks (countable in a test), no action menu. */
export const EMBED_OPTIONS = { renderer: 'svg', actions: false } as const;

let libraryCache: string[] | undefined;

/**
 * The three libraries' minified browser builds, read from node_modules (next to each package's
 * entry: the packages export no other path). The source-map comment is dropped: a browser would
 * try to fetch the map.
 */
export function librarySources(): string[] {
  if (libraryCache) return libraryCache;
  const require = createRequire(import.meta.url);
  libraryCache = LIBRARIES.map(({ pkg, file }) => {
    const abs = path.join(path.dirname(require.resolve(pkg)), file);
    const text = fs.readFileSync(abs, 'utf8').replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n');
    // Inside <script>, these would end the element or open a comment.
    if (/<\/script|<!--/i.test(text)) throw new Error(`${abs}: contains '</script' or '<!--'; cannot be inlined`);
    return text;
  });
  return libraryCache;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that is safe inside a <script> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const CSP = "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data:";

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin: 1.6em 0 0.2em; }
.note { color: #666; font-size: 0.9em; margin: 0 0 0.6em; font-family: ui-monospace, monospace; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #ddd; padding: 0.2em 0.8em; text-align: right; }
th:first-child, td:first-child { text-align: left; font-family: ui-monospace, monospace; }
`;

// Embeds every chart; the body's data-rendered says when all are drawn (or data-render-error why not).
const BOOT = `
(function () {
  var charts = JSON.parse(document.getElementById('report-charts').textContent);
  var options = ${JSON.stringify(EMBED_OPTIONS)};
  Promise.all(charts.map(function (c) { return vegaEmbed('#' + c.id, c.spec, options); })).then(
    function () { document.body.setAttribute('data-rendered', String(charts.length)); },
    function (e) { document.body.setAttribute('data-render-error', String((e && e.message) || e)); console.error(e); }
  );
})();
`;

const cellText = (c: Cell) => (c === null ? '-' : String(c));

function tableHtml(t: TableSection['table']): string {
  const head = `<tr>${t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr>`;
  const rows = t.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(cellText(c))}</td>`).join('')}</tr>`);
  return `<table>\n<thead>${head}</thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
}

/** The report as one HTML document (UTF-8), viewable offline from a file:// URL. */
export function renderReportHtml(report: Report): string {
  const charts: { id: string; spec: VegaLiteSpec }[] = [];
  const body = report.sections.map((s, i) => {
    const head = `<h2>${escapeHtml(s.title)}</h2>${s.note ? `\n<p class="note">${escapeHtml(s.note)}</p>` : ''}`;
    if ('spec' in s) {
      const id = `chart-${i + 1}`;
      charts.push({ id, spec: s.spec });
      return `<section>\n${head}\n<div id="${id}" class="chart"></div>\n</section>`;
    }
    return `<section>\n${head}\n${tableHtml(s.table)}\n</section>`;
  });
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    `<title>${escapeHtml(report.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(report.title)}</h1>`,
    ...body,
    ...librarySources().map((src) => `<script>\n${src}</script>`),
    `<script type="application/json" id="report-charts">${scriptJson(charts)}</script>`,
    `<script>${BOOT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
