/**
 * `plots show|diff`: the plots the stages declare (pipeline.yaml's `{ path, template, ... }`
 * entries), read for one or more runs (the workspace, git revisions through their lock and the
 * cache, experiments), as report sections: one chart per plot definition with every run that has
 * the file, then a metrics table. Drawing is @ser/report's; this module only finds the files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PlotDataError, plotSpec, type RunData, type Section, type Cell } from '@ser/report';
import { PipelineError } from './errors.ts';
import type { Pipeline } from './parse.ts';
import type { StagePlot } from './plot-defs.ts';
import { Cache } from './cache.ts';
import { workDirs } from './runner.ts';
import { parseLockText } from './lock.ts';
import { flatten, type Json } from './params.ts';
import { gitShow, readMetrics, resolveRev } from './commands.ts';
import type { ExpRecord } from './exp-store.ts';

/** One run to draw: where its copy of each plot file (a path of the pipeline) is. */
export interface PlotRun {
  name: string;
  /** The file's text, or undefined when this run has none. */
  read(plotPath: string): string | undefined;
  /** Its metrics files: display path -> flattened leaves. */
  metrics(): Map<string, Record<string, Json>>;
}

/** A metrics or plot path as the report shows it: relative to the run's artifacts root. */
function shortPath(file: string, artifacts: string): string {
  for (const prefix of ['${artifacts}/', `${artifacts}/`]) if (file.startsWith(prefix)) return file.slice(prefix.length);
  return file;
}

function readIfExists(abs: string): string | undefined {
  return fs.existsSync(abs) && fs.statSync(abs).isFile() ? fs.readFileSync(abs, 'utf8') : undefined;
}

const shortMetrics = (m: Map<string, Record<string, Json>>, artifacts: string) => new Map([...m].map(([f, v]) => [shortPath(f, artifacts), v]));

/** The profile's workspace: the files under its artifacts. */
export function workspaceRun(p: Pipeline, name = 'workspace'): PlotRun {
  return {
    name,
    read: (f) => readIfExists(path.resolve(p.root, f)),
    metrics: () => shortMetrics(readMetrics(p), p.artifacts),
  };
}

/**
 * A git revision: the profile's lock at `rev` names each out's md5, and the content cache holds
 * the bytes. A plot the lock records but the cache lacks is an error naming both (run repro there).
 */
export function revisionRun(p: Pipeline, rev: string): PlotRun {
  const commit = resolveRev(p.root, rev);
  const text = gitShow(p.root, commit, p.lockFile);
  if (text === undefined) throw new PipelineError(`plots diff: ${p.lockFile} does not exist at git revision '${rev}' (the profile '${p.profile}' never ran there)`);
  const outs = Object.values(parseLockText(text, `${rev}:${p.lockFile}`)).flatMap((e) => e.outs);
  const cache = new Cache(workDirs(p.root).cache);
  return {
    name: rev,
    read(f) {
      const locked = outs.find((o) => o.path === f);
      if (!locked) return undefined;
      if (locked.md5.endsWith('.dir')) throw new PipelineError(`plots diff: ${f} at revision '${rev}' is a directory, not a plot file`);
      const text = readIfExists(cache.objectPath(locked.md5));
      if (text === undefined) {
        throw new PipelineError(
          `plots diff: ${f} of revision '${rev}' (md5 ${locked.md5}) is not in the cache; ` +
            `check out '${rev}' and run 'ser-pipeline repro --profile ${p.profile}' there (or fetch it from a remote) to bring it back`,
        );
      }
      return text;
    },
    metrics: () => shortMetrics(readMetrics(p, rev), p.artifacts),
  };
}

/** An experiment: the same plot paths under its own artifacts root; its metrics from its record. */
export function experimentRun(p: Pipeline, rec: ExpRecord): PlotRun {
  const prefix = `${p.artifacts}/`;
  return {
    name: rec.name,
    read(f) {
      if (!f.startsWith(prefix)) throw new PipelineError(`plots show --exp: plot ${f} is not under ${prefix}, so experiment '${rec.name}' has no copy of it`);
      return readIfExists(path.resolve(p.root, rec.artifacts, f.slice(prefix.length)));
    },
    metrics: () => new Map(Object.entries(rec.metrics).map(([f, v]) => [shortPath(f, rec.artifacts), flatten(v)])),
  };
}

/** Every drawn plot of the pipeline, in stage order. */
export function plotDefinitions(p: Pipeline): { stage: string; plot: StagePlot }[] {
  return p.stages.flatMap((s) => (s.plotDefs ?? []).map((plot) => ({ stage: s.name, plot })));
}

export interface PlotChart {
  stage: string;
  plot: StagePlot;
  title: string;
  spec: Record<string, unknown>;
  /** The runs that have no copy of the file. */
  missing: string[];
}

/** One chart per plot definition that at least one run has; `onSkip` hears of the others. */
export function plotCharts(p: Pipeline, runs: PlotRun[], onSkip: (msg: string) => void = () => {}): PlotChart[] {
  const defs = plotDefinitions(p);
  if (!defs.length) throw new PipelineError(`${p.file}: no stage draws a plot (a plots entry { path, template, x, y } says how to draw a file)`);
  const charts: PlotChart[] = [];
  for (const { stage, plot } of defs) {
    const data: RunData[] = [];
    const missing: string[] = [];
    for (const r of runs) {
      const text = r.read(plot.path);
      if (text === undefined) {
        missing.push(r.name);
        continue;
      }
      try {
        data.push({ run: r.name, data: JSON.parse(text) });
      } catch (e) {
        throw new PipelineError(`${plot.path} (${r.name}): not valid JSON: ${(e as Error).message}`);
      }
    }
    if (!data.length) {
      onSkip(`${plot.path}: not in ${runs.length === 1 ? `the ${runs[0]!.name}` : `any of ${runs.map((r) => r.name).join(', ')}`} (run repro); skipped`);
      continue;
    }
    let spec;
    try {
      spec = plotSpec(plot, data);
    } catch (e) {
      if (e instanceof PlotDataError) throw new PipelineError(`${p.file}: stage '${stage}': plot ${plot.path}: ${e.message}`);
      throw e;
    }
    charts.push({ stage, plot, title: plot.title ?? path.posix.basename(plot.path), spec, missing });
  }
  return charts;
}

const cell = (v: Json | undefined): Cell => (v === undefined ? null : typeof v === 'number' ? +v.toPrecision(6) : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * Metrics side by side, a row per `file key` and a column per run (numbers and strings; arrays
 * such as a confusion matrix are plots, not table cells). `params`: rows of params first.
 */
export function metricsTable(runs: { name: string; metrics: Map<string, Record<string, Json>> }[], params: { key: string; values: (Json | undefined)[] }[] = []): { columns: string[]; rows: Cell[][] } {
  const rows: Cell[][] = params.map((q) => [`param ${q.key}`, ...q.values.map(cell)]);
  const files = [...new Set(runs.flatMap((r) => [...r.metrics.keys()]))];
  for (const f of files) {
    const keys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics.get(f) ?? {})))];
    for (const k of keys) {
      const values = runs.map((r) => r.metrics.get(f)?.[k]);
      if (values.every((v) => v === undefined || (typeof v !== 'number' && typeof v !== 'string'))) continue;
      rows.push([`${f} ${k}`, ...values.map(cell)]);
    }
  }
  return { columns: ['metric', ...runs.map((r) => r.name)], rows };
}

/** The params whose values differ between experiments (their overrides first). */
export function differingParams(recs: ExpRecord[]): { key: string; values: (Json | undefined)[] }[] {
  const keys = [...new Set([...recs.flatMap((r) => Object.keys(r.overrides)), ...recs.flatMap((r) => Object.keys(r.params))])];
  return keys
    .map((key) => ({ key, values: recs.map((r) => r.params[key] ?? r.overrides[key]) }))
    .filter((q) => new Set(q.values.map((v) => JSON.stringify(v))).size > 1);
}

/** The report's sections: each chart (its file, and which runs lack it), then the metrics table. */
export function reportSections(charts: PlotChart[], table?: { title: string; columns: string[]; rows: Cell[][] }): Section[] {
  const sections: Section[] = charts.map((c) => ({
    title: c.title,
    note: `${c.stage}: ${c.plot.path}${c.missing.length ? ` (not in ${c.missing.join(', ')})` : ''}`,
    spec: c.spec,
  }));
  if (table && table.rows.length) sections.push({ title: table.title, table: { columns: table.columns, rows: table.rows } });
  return sections;
}

/** File names for one SVG per chart: `<stage>-<title>.svg`, lower case, unique. */
export function svgFileNames(charts: PlotChart[]): string[] {
  const seen = new Map<string, number>();
  return charts.map((c) => {
    const slug = `${c.stage}-${c.title}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'plot';
    const n = (seen.get(slug) ?? 0) + 1;
    seen.set(slug, n);
    return `${n === 1 ? slug : `${slug}-${n}`}.svg`;
  });
}
