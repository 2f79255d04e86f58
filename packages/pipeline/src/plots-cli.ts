/**
 * `plots show | diff`: their specs join cli.ts's COMMANDS table; cli.ts dispatches here.
 * The report is written whole or not at all (temp file + rename; SVGs rendered before any is written).
 */
import fs from 'node:fs';
import path from 'node:path';
import { renderReportHtml, renderSvg } from '@ser/report';
import { PipelineError } from './errors.ts';
import { loadPipeline, type Pipeline } from './parse.ts';
import { profileLabel, type ResolvedProfile } from './profile.ts';
import { writeAtomic } from './cache.ts';
import { readExperiment } from './exp-store.ts';
import { differingParams, experimentRun, metricsTable, plotCharts, reportSections, revisionRun, svgFileNames, workspaceRun, type PlotRun } from './plots.ts';
import type { Json } from './params.ts';

import type { CommandSpec as Command, FlagSpec as Flag, ParsedArgs } from './cli-spec.ts';

export const DEFAULT_HTML = 'report.html';
export const DEFAULT_SVG_DIR = 'plots';

const OUTPUT_FLAGS: Flag[] = [
  { name: 'out', short: 'o', value: 'FILE', help: `the HTML report (default: ${DEFAULT_HTML})` },
  { name: 'format', value: 'F', help: 'html (one self-contained file, default) or svg (one picture per plot)' },
  { name: 'out-dir', value: 'D', help: `--format svg: the folder for the SVG files (default: ${DEFAULT_SVG_DIR})` },
];

/** The plots commands' specs; `profileFlag` is cli.ts's, so its help has one home. */
export function plotsCommands(profileFlag: Flag): Record<string, Command> {
  return {
    'plots show': {
      args: '',
      summary: "the plots the stages declare, as one offline HTML report (or SVGs): the profile's workspace, or experiments overlaid with a metrics table",
      flags: [profileFlag, { name: 'exp', value: 'NAME...', help: 'experiments to overlay instead of the workspace (names after it, or a,b)' }, ...OUTPUT_FLAGS],
      examples: ['ser-pipeline plots show --profile demo -o report.html', 'ser-pipeline plots show --profile demo --format svg --out-dir docs/img', 'ser-pipeline plots show --exp demo-lr0.02-s1 demo-lr0.05-s1'],
    },
    'plots diff': {
      args: 'REV...',
      summary: 'the same plots for git revisions (their lock + the cache) and the workspace, overlaid, with a metrics table',
      flags: [profileFlag, ...OUTPUT_FLAGS],
      examples: ['ser-pipeline plots diff HEAD~1 --profile demo', 'ser-pipeline plots diff main HEAD -o diff.html'],
    },
  };
}

type Format = 'html' | 'svg';

function outputOf(args: ParsedArgs): { format: Format; file: string } {
  const format = (args.flags.get('format') ?? 'html') as string;
  if (format !== 'html' && format !== 'svg') throw new PipelineError(`--format must be html or svg, got '${format}'`);
  if (format === 'html' && args.flags.has('out-dir')) throw new PipelineError('--out-dir is for --format svg; the HTML report is one file: -o FILE');
  if (format === 'svg' && args.flags.has('out')) throw new PipelineError('-o is for the HTML report; --format svg writes one file per plot into --out-dir D');
  const file = (format === 'html' ? args.flags.get('out') ?? DEFAULT_HTML : args.flags.get('out-dir') ?? DEFAULT_SVG_DIR) as string;
  return { format, file: path.resolve(process.cwd(), file) };
}

/** `--exp a b` or `--exp a,b` (names after --exp are the command's positional words). */
function experimentNames(args: ParsedArgs): string[] | undefined {
  const raw = args.flags.get('exp');
  if (raw === undefined) return undefined;
  const names = [String(raw), ...args.positional].flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  if (!names.length) throw new PipelineError('--exp needs at least one experiment name');
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new PipelineError(`--exp names experiment '${dup}' twice`);
  return names;
}

const sizeText = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.round(bytes / 1024)} KB`);
const shown = (abs: string) => {
  const rel = path.relative(process.cwd(), abs);
  return rel.startsWith('..') ? abs : rel || '.';
};

export async function runPlotsCommand(cmd: string, root: string, resolved: ResolvedProfile, args: ParsedArgs): Promise<number> {
  const out = outputOf(args);
  const p: Pipeline = loadPipeline({ root, profile: resolved.name, lenientParams: true });
  let runs: PlotRun[];
  let params: { key: string; values: (Json | undefined)[] }[] = [];
  let what: string;
  if (cmd === 'plots show') {
    const names = experimentNames(args);
    if (!names && args.positional.length) throw new PipelineError(`plots show takes no revision (got '${args.positional[0]}'; for revisions: plots diff)`);
    if (names) {
      const recs = names.map((n) => readExperiment(root, n));
      for (const r of recs) if (r.status !== 'done') console.error(`plots show: experiment '${r.name}' is ${r.status}; drawing what it has`);
      runs = recs.map((r) => experimentRun(p, r));
      params = differingParams(recs);
      what = `experiments ${names.join(', ')}`;
    } else {
      runs = [workspaceRun(p)];
      what = 'the workspace';
    }
  } else {
    if (!args.positional.length) throw new PipelineError('plots diff needs at least one git revision (e.g. plots diff HEAD~1)');
    runs = [...args.positional.map((rev) => revisionRun(p, rev)), workspaceRun(p)];
    what = `${args.positional.join(', ')} and the workspace`;
  }
  const charts = plotCharts(p, runs, (msg) => console.error(`${cmd}: ${msg}`));
  if (!charts.length) throw new PipelineError(`${cmd}: no plot file found in ${what} (${profileLabel(resolved)}); run 'ser-pipeline repro --profile ${resolved.name}' first`);
  const head = `${cmd} (${profileLabel(resolved)}): ${charts.length} plot(s) of ${what}`;

  if (out.format === 'svg') {
    // Render every picture before writing any: a failure leaves the folder as it was.
    const names = svgFileNames(charts);
    const svgs: string[] = [];
    for (const c of charts) svgs.push(await renderSvg(c.spec));
    fs.mkdirSync(out.file, { recursive: true });
    names.forEach((n, i) => writeAtomic(path.join(out.file, n), svgs[i]!));
    console.log(`${head} -> ${shown(out.file)}/`);
    for (const n of names) console.log(`  ${n}`);
    return 0;
  }
  const table = metricsTable(runs.map((r) => ({ name: r.name, metrics: r.metrics() })), params);
  const html = renderReportHtml({ title: `${cmd} (${profileLabel(resolved)}): ${what}`, sections: reportSections(charts, { title: 'Metrics', ...table }) });
  writeAtomic(out.file, html);
  console.log(`${head} -> ${shown(out.file)} (${sizeText(Buffer.byteLength(html))}, self-contained)`);
  return 0;
}
