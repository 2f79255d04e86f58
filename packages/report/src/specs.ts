// Plot data -> Vega-Lite specs. Pure: the same data gives the same spec (no clock, no ids).
// A plot is drawn over one or more runs (a workspace, git revisions, experiments); several runs
// share one chart, told apart by a `run` colour.

/** How a plot file is drawn (pipeline.yaml's `template`). */
export const TEMPLATES = ['linear', 'confusion', 'bar'] as const;
export type Template = (typeof TEMPLATES)[number];

export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** A Vega-Lite spec as JSON. */
export type VegaLiteSpec = Record<string, unknown>;

/** How to draw one plot file: the object form of a pipeline.yaml `plots` entry, without its path. */
export interface PlotDef {
  template: Template;
  /** linear: the numeric x field (e.g. epoch); bar: the category field. Not used by confusion. */
  x?: string;
  /** linear, bar: the numeric fields drawn, one series each. Not used by confusion. */
  y?: string[];
  /** linear, bar: a field whose values split the rows into series (with exactly one y). */
  group?: string;
  title?: string;
  xLabel?: string;
  yLabel?: string;
}

/** One run's parsed plot file. */
export interface RunData {
  run: string;
  data: unknown;
}

/** Plot data that does not fit its template; the message names the field or shape expected. */
export class PlotDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlotDataError';
  }
}

type Row = Record<string, unknown>;

const isRow = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * The rows of a plot file: a JSON list of records, or an object holding exactly one such list
 * (train's history.json is `{ "epochs": [...] }`).
 */
export function recordsOf(data: unknown): Row[] {
  if (Array.isArray(data)) {
    if (!data.every(isRow)) throw new PlotDataError('expected a list of records (JSON objects)');
    return data;
  }
  if (isRow(data)) {
    const lists = Object.entries(data).filter(([, v]) => Array.isArray(v) && v.length > 0 && v.every(isRow));
    if (lists.length === 1) return lists[0]![1] as Row[];
    if (lists.length > 1) throw new PlotDataError(`expected one list of records, found ${lists.length} (${lists.map(([k]) => k).join(', ')})`);
  }
  throw new PlotDataError('expected a list of records, or an object holding one (e.g. {"epochs": [...]})');
}

/** Values in order of first appearance (the order the file lists them). */
function firstSeen(values: string[]): string[] {
  return [...new Set(values)];
}

function checkFields(rows: Row[], fields: { name: string; role: string }[], run: string): void {
  const known = firstSeen(rows.flatMap((r) => Object.keys(r)));
  for (const f of fields) {
    if (!known.includes(f.name)) {
      throw new PlotDataError(`${f.role} field '${f.name}' is not in the rows of run '${run}' (fields: ${known.join(', ') || 'none'})`);
    }
  }
}

function seriesFields(def: PlotDef, template: string): { x: string; y: string[] } {
  if (!def.x || !def.y?.length) throw new PlotDataError(`template ${template} needs x and y`);
  if (def.group && def.y.length !== 1) throw new PlotDataError(`group '${def.group}' needs exactly one y field, got ${def.y.length}`);
  return { x: def.x, y: def.y };
}

/** Long-format points { run, x, series, value }: one per row and y field (or group value). */
function points(def: PlotDef, runs: RunData[], template: string, xIsNumber: boolean) {
  const { x, y } = seriesFields(def, template);
  return runs.flatMap(({ run, data }) => {
    const rows = recordsOf(data);
    checkFields(rows, [{ name: x, role: 'x' }, ...y.map((name) => ({ name, role: 'y' })), ...(def.group ? [{ name: def.group, role: 'group' }] : [])], run);
    return rows.flatMap((row) =>
      y.flatMap((field) => {
        const value = row[field];
        const xv = row[x];
        // A missing or non-numeric value (null accuracy of an empty class) is no point, not a zero.
        if (!isNumber(value) || (xIsNumber ? !isNumber(xv) : xv === undefined || xv === null)) return [];
        const series = def.group ? String(row[def.group]) : field;
        return [{ run, x: xIsNumber ? xv : String(xv), series, value }];
      }),
    );
  });
}

const title = (def: PlotDef, fallback: string) => def.title ?? fallback;

/**
 * Curves of one or more numeric fields over x (e.g. loss and val_loss per epoch), with a point
 * per value. One run: a colour per series. Several runs: a colour per run, a dash per series.
 */
export function linearSpec(def: PlotDef, runs: RunData[]): VegaLiteSpec {
  const values = points(def, runs, 'linear', true);
  const { x, y } = seriesFields(def, 'linear');
  const multiRun = runs.length > 1;
  const series = firstSeen(values.map((v) => v.series));
  const integerX = values.every((v) => Number.isInteger(v.x));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: title(def, y.join(', ')),
    width: 360,
    height: 220,
    data: { values },
    mark: { type: 'line', point: true, tooltip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: def.xLabel ?? x, ...(integerX ? { axis: { tickMinStep: 1, format: 'd' } } : {}) },
      y: { field: 'value', type: 'quantitative', title: def.yLabel ?? (def.group ? y[0] : y.join(', ')), scale: { zero: false } },
      color: multiRun
        ? { field: 'run', type: 'nominal', title: 'run', sort: runs.map((r) => r.run) }
        : { field: 'series', type: 'nominal', title: def.group ?? null, sort: series },
      ...(multiRun && series.length > 1 ? { strokeDash: { field: 'series', type: 'nominal', title: def.group ?? null, sort: series } } : {}),
    },
  };
}

/**
 * Bars of numeric fields per category (e.g. recall and F1 per class), side by side when there
 * are several series (y fields, or the values of `group`). Several runs: a colour per run, and a
 * row of bars per series when there are several.
 */
export function barSpec(def: PlotDef, runs: RunData[]): VegaLiteSpec {
  const values = points(def, runs, 'bar', false);
  const { x, y } = seriesFields(def, 'bar');
  const multiRun = runs.length > 1;
  const categories = firstSeen(values.map((v) => String(v.x)));
  const series = firstSeen(values.map((v) => v.series));
  const seriesTitle = def.group ?? null;
  const bySeries = { field: 'series', type: 'nominal', sort: series };
  const byRun = { field: 'run', type: 'nominal', sort: runs.map((r) => r.run) };
  const side = multiRun ? byRun : series.length > 1 ? bySeries : undefined;
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: title(def, y.join(', ')),
    width: Math.max(240, categories.length * (side ? 44 : 28)),
    height: 200,
    data: { values },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'x', type: 'nominal', title: def.xLabel ?? x, sort: categories, axis: { labelAngle: -40 } },
      // With a row per series, the row header names the series.
      y: { field: 'value', type: 'quantitative', title: def.yLabel ?? (multiRun && series.length > 1 ? null : def.group ? y[0] : y.join(', ')) },
      ...(side ? { xOffset: side, color: { ...side, title: multiRun ? 'run' : seriesTitle } } : {}),
      ...(multiRun && series.length > 1 ? { row: { ...bySeries, title: seriesTitle } } : {}),
    },
  };
}

/** A confusion matrix as `{ labels: [...], matrix: [[...]] }`, rows = actual, columns = predicted. */
export function confusionCells(data: unknown, run: string): { labels: string[]; cells: { run: string; actual: string; predicted: string; count: number }[] } {
  const shape = `expected { "labels": [n names], "matrix": [n rows of n counts] }`;
  if (!isRow(data) || !Array.isArray(data.labels) || !Array.isArray(data.matrix)) throw new PlotDataError(`run '${run}': ${shape}`);
  const labels = data.labels.map(String);
  const matrix = data.matrix as unknown[];
  const n = labels.length;
  if (matrix.length !== n || !matrix.every((r) => Array.isArray(r) && r.length === n && r.every((c) => isNumber(c) && c >= 0))) {
    throw new PlotDataError(`run '${run}': ${shape}; got ${n} labels and a matrix of ${matrix.length} rows`);
  }
  const cells = (matrix as number[][]).flatMap((row, i) => row.map((count, j) => ({ run, actual: labels[i]!, predicted: labels[j]!, count })));
  return { labels, cells };
}

/**
 * A heatmap with the count written in each cell (white on the darker half of the scale).
 * Several runs: one matrix per run, side by side, on one colour scale.
 */
export function confusionSpec(def: PlotDef, runs: RunData[]): VegaLiteSpec {
  const parsed = runs.map((r) => confusionCells(r.data, r.run));
  const labels = parsed[0]?.labels ?? [];
  for (const [i, p] of parsed.entries()) {
    if (p.labels.join('\0') !== labels.join('\0')) throw new PlotDataError(`run '${runs[i]!.run}' has labels ${p.labels.join(', ')}; run '${runs[0]!.run}' has ${labels.join(', ')}`);
  }
  const values = parsed.flatMap((p) => p.cells);
  const max = Math.max(0, ...values.map((c) => c.count));
  const cell = 30;
  const unit = {
    width: labels.length * cell,
    height: labels.length * cell,
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: labels, title: def.xLabel ?? 'predicted', axis: { labelAngle: -40 } },
      y: { field: 'actual', type: 'nominal', sort: labels, title: def.yLabel ?? 'actual' },
    },
    layer: [
      { mark: { type: 'rect', tooltip: true }, encoding: { color: { field: 'count', type: 'quantitative', title: 'count', scale: { scheme: 'blues', domainMin: 0 } } } },
      {
        mark: { type: 'text', baseline: 'middle', fontSize: 11 },
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: `datum.count > ${max / 2}`, value: 'white' }, value: 'black' },
        },
      },
    ],
  };
  const head = { $schema: VEGA_LITE_SCHEMA, title: title(def, 'confusion matrix'), data: { values } };
  if (runs.length <= 1) return { ...head, ...unit };
  return { ...head, facet: { column: { field: 'run', type: 'nominal', title: null, sort: runs.map((r) => r.run) } }, spec: unit };
}

/** The spec for a plot definition over one or more runs. */
export function plotSpec(def: PlotDef, runs: RunData[]): VegaLiteSpec {
  if (!runs.length) throw new PlotDataError('no run to draw');
  switch (def.template) {
    case 'linear':
      return linearSpec(def, runs);
    case 'bar':
      return barSpec(def, runs);
    case 'confusion':
      return confusionSpec(def, runs);
    default:
      throw new PlotDataError(`unknown template '${String(def.template)}' (${TEMPLATES.join(', ')})`);
  }
}
