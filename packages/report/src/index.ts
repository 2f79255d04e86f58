// Public API of @ser/report: plot specs, the HTML report, server-side SVG (see README.md).
export { TEMPLATES, VEGA_LITE_SCHEMA, PlotDataError, barSpec, confusionCells, confusionSpec, linearSpec, plotSpec, recordsOf, type PlotDef, type RunData, type Template, type VegaLiteSpec } from './specs.ts';
export { EMBED_OPTIONS, escapeHtml, librarySources, renderReportHtml, type Cell, type ChartSection, type Report, type Section, type TableSection } from './html.ts';
export { renderSvg, type SvgOptions } from './svg.ts';
