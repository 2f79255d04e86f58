/**
 * The drawing half of a stage's `plots` entries in pipeline.yaml. An entry is a path (a plot data
 * file: cached and locked like any out, not drawn) or `{ path, template, x, y, group, title,
 * x_label, y_label }` (also drawn by `plots show|diff`). pipeline.schema.json checks each field's
 * type and rejects unknown ones; `plotDefProblem` holds the rules between fields.
 */
import type { PlotDef, Template } from '@ser/report';
import { isObject, type Json, type JsonObject } from './params.ts';

export interface StagePlot extends PlotDef {
  /** The data file, interpolated (one of the stage's `plots` outs). */
  path: string;
  /** The path as pipeline.yaml writes it (`${artifacts}/train/history.json`). */
  rawPath: string;
  /** Position of the entry in the stage's `plots` list (error lines). */
  index: number;
}

/** The path of a `plots` entry, in either form. */
export function plotEntryPath(entry: Json): Json {
  return isObject(entry) ? (entry.path as Json) : entry;
}

const optional = (v: Json | undefined): string | undefined => (v === undefined || v === null ? undefined : String(v));

/** The object entries of a stage's `plots` list, their strings interpolated by `interp` and the path normalised by `norm`. */
export function stagePlots(raw: Json | undefined, interp: (v: Json) => Json, norm: (p: string) => string): StagePlot[] {
  const entries = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return entries.flatMap((entry, index) => {
    if (!isObject(entry)) return [];
    const e = interp(entry) as JsonObject;
    const y = e.y === undefined ? undefined : (Array.isArray(e.y) ? e.y : [e.y]).map(String);
    const plot: StagePlot = { path: norm(String(e.path)), rawPath: String(entry.path), index, template: (e.template ?? 'linear') as Template };
    const fields = { x: optional(e.x), y, group: optional(e.group), title: optional(e.title), xLabel: optional(e.x_label), yLabel: optional(e.y_label) };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) (plot as unknown as Record<string, unknown>)[k] = v;
    return [plot];
  });
}

/** Why a plot definition cannot be drawn (rules between its fields), or undefined. */
export function plotDefProblem(d: StagePlot): string | undefined {
  const where = `plot '${d.path}'`;
  if (d.template === 'confusion') {
    const extra = (['x', 'y', 'group'] as const).filter((k) => d[k] !== undefined);
    return extra.length ? `${where}: template confusion takes no ${extra.join(', ')} (it reads { labels, matrix })` : undefined;
  }
  const missing = [...(d.x === undefined ? ['x'] : []), ...(d.y === undefined ? ['y'] : [])];
  if (missing.length) return `${where}: template ${d.template} needs ${missing.join(' and ')}`;
  if (d.group !== undefined && d.y!.length !== 1) return `${where}: group '${d.group}' needs exactly one y field, got ${d.y!.length}`;
  return undefined;
}
