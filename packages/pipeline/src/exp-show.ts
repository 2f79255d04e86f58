/**
 * `exp show`: experiments as a table, one row per experiment (or per grid point over its seeds,
 * mean ± sample std): name, status, the params that differ between the rows, the metrics that
 * differ (or the --keys asked for), duration. Pure: records in, text out.
 */
import { PipelineError } from './errors.ts';
import { canonical, flatten, isObject, type Json } from './params.ts';
import { portablePaths } from './status.ts';
import { formatTable } from './commands.ts';
import type { ExpRecord } from './exp-store.ts';
import { SEED_KEY } from './exp-grid.ts';

export type ShowFormat = 'text' | 'json' | 'csv' | 'md';

export interface ShowOptions {
  format: ShowFormat;
  /** Metric column to sort by, descending (`accuracy`, or `evaluate:accuracy` when ambiguous). */
  sortBy?: string;
  /** One row per grid point: experiments whose params differ only in `seed`. */
  groupSeeds?: boolean;
  /**
   * Metric leaves to show (`macro.f1`, `evaluate:accuracy`); default: each file's top-level
   * numbers that differ between the experiments.
   */
  keys?: string[];
}

/** One row of the table before formatting. */
export interface ShowRow {
  name: string;
  status: string;
  /** Experiments in the row (1 unless grouped). */
  n: number;
  params: Record<string, Json>;
  /** Column -> the values of the row's experiments that have it (one unless grouped). */
  metrics: Record<string, number[]>;
  durationS?: number;
  /** Who runs it (host:pid), for a running experiment. */
  worker?: string;
  /** Why it failed, for a failed experiment. */
  error?: string;
}

/** `${artifacts}/evaluate/metrics.json` -> `evaluate`; `${artifacts}/ingest/report.json` -> `ingest/report`. */
export function metricsLabel(file: string): string {
  return file.replace(/^\$\{artifacts\}\//, '').replace(/\/metrics\.json$/, '').replace(/\.json$/, '');
}

/** The params with this experiment's artifacts root written as `${artifacts}` (the same across experiments). */
function portableParams(rec: ExpRecord): Record<string, Json> {
  return Object.fromEntries(Object.entries(rec.params).map(([k, v]) => [k, JSON.parse(portablePaths(JSON.stringify(v), rec.artifacts)) as Json]));
}

/** Numeric metric leaves of one experiment: `label\0key` -> value. */
function metricLeaves(rec: ExpRecord, keys: string[] | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const [file, json] of Object.entries(rec.metrics)) {
    const label = metricsLabel(file);
    const leaves = keys ? flatten(json) : isObject(json) ? json : {};
    for (const [k, v] of Object.entries(leaves)) {
      if (typeof v !== 'number') continue;
      // A metrics file that echoes a param (e.g. `seed`) repeats a params column: left out unless asked for.
      if (!keys && k in rec.params && rec.params[k] === v) continue;
      if (keys && !keys.includes(k) && !keys.includes(`${label}:${k}`)) continue;
      out.set(`${label}\0${k}`, v);
    }
  }
  return out;
}

/** The rows, the params columns (keys that differ between rows) and the metric columns, sorted. */
export function showRows(records: ExpRecord[], opts: Omit<ShowOptions, 'format'>): { rows: ShowRow[]; paramKeys: string[]; metricKeys: string[] } {
  const params = records.map(portableParams);
  const leaves = records.map((r) => metricLeaves(r, opts.keys));
  // A metric key in one file is its column name; in several files, `label:key`.
  const allLeafIds = [...new Set(leaves.flatMap((m) => [...m.keys()]))];
  const byKey = new Map<string, string[]>();
  for (const id of allLeafIds) byKey.set(id.split('\0')[1]!, [...(byKey.get(id.split('\0')[1]!) ?? []), id]);
  const column = (id: string) => {
    const [label, key] = id.split('\0') as [string, string];
    return byKey.get(key)!.length > 1 ? `${label}:${key}` : key;
  };
  // Without --keys, a metric equal in every row says nothing about the experiments: left out.
  const varies = (id: string) => new Set(leaves.map((m) => m.get(id) ?? null)).size > 1;
  const metricKeys = allLeafIds.filter((id) => opts.keys || records.length < 2 || varies(id)).map(column);

  const profiles = new Set(records.map((r) => r.profile));
  let rows: ShowRow[] = records.map((r, i) => ({
    name: r.name,
    status: r.status,
    n: 1,
    params: profiles.size > 1 ? { profile: r.profile, ...params[i]! } : params[i]!,
    metrics: Object.fromEntries([...leaves[i]!].map(([id, v]) => [column(id), [v]])),
    ...(r.durationS !== undefined ? { durationS: r.durationS } : {}),
    ...(r.status === 'running' && r.worker ? { worker: r.worker } : {}),
    ...(r.status === 'failed' && r.error ? { error: r.error } : {}),
  }));
  let paramKeys = differingKeys(rows.map((r) => r.params));
  if (opts.groupSeeds) {
    rows = groupBySeeds(rows, paramKeys.filter((k) => k !== SEED_KEY));
    paramKeys = paramKeys.filter((k) => k !== SEED_KEY);
  }
  if (opts.sortBy !== undefined) {
    const col = sortColumn(opts.sortBy, metricKeys);
    const score = (r: ShowRow) => (r.metrics[col]?.length ? mean(r.metrics[col]!) : -Infinity);
    rows = [...rows].sort((a, b) => score(b) - score(a));
  }
  return { rows, paramKeys, metricKeys };
}

/** Keys whose value is not the same in every row (a key missing in a row differs too). */
function differingKeys(all: Record<string, Json>[]): string[] {
  const keys = [...new Set(all.flatMap((p) => Object.keys(p)))];
  return keys.filter((k) => new Set(all.map((p) => canonical(p[k]))).size > 1);
}

/** Rows whose differing params (seed left out) are equal become one row, in first-seen order. */
function groupBySeeds(rows: ShowRow[], keys: string[]): ShowRow[] {
  const groups = new Map<string, ShowRow[]>();
  for (const r of rows) {
    const id = canonical(Object.fromEntries(keys.map((k) => [k, r.params[k] ?? null])));
    groups.set(id, [...(groups.get(id) ?? []), r]);
  }
  return [...groups.values()].map((members) => {
    const metrics: Record<string, number[]> = {};
    for (const m of members) {
      if (m.status !== 'done') continue;
      for (const [k, v] of Object.entries(m.metrics)) metrics[k] = [...(metrics[k] ?? []), ...v];
    }
    const statuses = [...new Set(members.map((m) => m.status))];
    const durations = members.flatMap((m) => (m.durationS === undefined ? [] : [m.durationS]));
    return {
      name: groupName(members.map((m) => m.name)),
      status: statuses.length === 1 ? statuses[0]! : statuses.map((s) => `${members.filter((m) => m.status === s).length} ${s}`).join(', '),
      n: members.length,
      params: Object.fromEntries(keys.map((k) => [k, members[0]!.params[k] ?? null])),
      metrics,
      ...(durations.length ? { durationS: mean(durations) } : {}),
    };
  });
}

/** `demo-lr0.02-s1`, `demo-lr0.02-s2` -> `demo-lr0.02`; otherwise the first name and how many more. */
function groupName(names: string[]): string {
  if (names.length === 1) return names[0]!;
  const stems = names.map((n) => /^(.*)-s\d+$/.exec(n)?.[1]);
  if (stems.every((s) => s !== undefined && s === stems[0])) return stems[0]!;
  return `${names[0]} (+${names.length - 1})`;
}

function sortColumn(want: string, columns: string[]): string {
  if (columns.includes(want)) return want;
  const hits = columns.filter((c) => c.endsWith(`:${want}`));
  if (hits.length === 1) return hits[0]!;
  if (hits.length > 1) throw new PipelineError(`--sort-by ${want}: ambiguous, say which: ${hits.join(', ')}`);
  throw new PipelineError(`--sort-by ${want}: no such metric column${columns.length ? ` (columns: ${columns.join(', ')})` : ' (no experiment has metrics yet)'}`);
}

export function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n - 1); 0 for a single value. */
export function sampleStd(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Up to 4 decimals, trailing zeros dropped. */
function num(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toFixed(4)));
}

function cell(v: Json | undefined): string {
  return v === undefined ? '-' : typeof v === 'string' ? v : JSON.stringify(v);
}

function metricCell(values: number[] | undefined): string {
  if (!values?.length) return '-';
  return values.length === 1 ? num(values[0]!) : `${num(mean(values))} ± ${num(sampleStd(values))}`;
}

/** The table in the asked format. */
export function formatShow(records: ExpRecord[], opts: ShowOptions): string {
  const { rows, paramKeys, metricKeys } = showRows(records, opts);
  const grouped = !!opts.groupSeeds;
  if (opts.format === 'json') {
    return JSON.stringify(
      rows.map((r) => ({
        name: r.name,
        status: r.status,
        ...(grouped ? { n: r.n } : {}),
        params: Object.fromEntries(paramKeys.map((k) => [k, r.params[k] ?? null])),
        metrics: Object.fromEntries(
          metricKeys.filter((k) => r.metrics[k]?.length).map((k) => [k, grouped ? { mean: mean(r.metrics[k]!), std: sampleStd(r.metrics[k]!), n: r.metrics[k]!.length } : r.metrics[k]![0]!]),
        ),
        durationS: r.durationS ?? null,
        ...(r.worker ? { worker: r.worker } : {}),
        ...(r.error ? { error: r.error } : {}),
      })),
      null,
      2,
    );
  }
  const head = ['name', 'status', ...(grouped ? ['n'] : []), ...paramKeys, ...metricKeys, 'duration'];
  const body = rows.map((r) => [
    r.name,
    r.worker ? `${r.status} on ${r.worker}` : r.status,
    ...(grouped ? [String(r.n)] : []),
    ...paramKeys.map((k) => cell(r.params[k])),
    ...metricKeys.map((k) => metricCell(r.metrics[k])),
    r.durationS === undefined ? '-' : `${r.durationS.toFixed(1)} s`,
  ]);
  if (opts.format === 'csv') return [head, ...body].map((r) => r.map(csvCell).join(',')).join('\n');
  if (opts.format === 'md') return [head, head.map(() => '---'), ...body].map((r) => `| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`).join('\n');
  return formatTable(head, body);
}

function csvCell(c: string): string {
  return /[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c;
}
