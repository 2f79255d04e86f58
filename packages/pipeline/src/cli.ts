/** ser-pipeline: repro | status | dag | params diff | metrics show|diff */
import fs from 'node:fs';
import path from 'node:path';
import { PipelineError } from './errors.ts';
import { loadPipeline, PIPELINE_FILE, type Pipeline } from './parse.ts';
import { buildGraph } from './graph.ts';
import { Hasher } from './hash.ts';
import { readLock } from './lock.ts';
import { computeStatus } from './status.ts';
import { repro, resolveTargets, workDirs } from './runner.ts';
import { dagMermaid, dagText, formatMetricsDiff, formatMetricsShow, formatParamsDiff, metricsDiff, paramsDiff, readMetrics } from './commands.ts';

const USAGE = `usage: ser-pipeline <command> [options]

  repro [stage...]      run stale stages (and their stale upstream) in order
      --profile P       params.P.yaml overlay, artifacts/P, pipeline.P.lock
      -f, --force       run the selected stages even if up to date
      --dry             print what would run, run nothing
      --downstream      the given stages and everything downstream of them
      -s, --single-item only the given stages, not their upstream
      -j, --jobs N      run up to N independent stages at once (default 1)
      --wait            wait for a concurrent repro instead of failing
      --check           then exit 1 naming each stage whose lock entry changed
      --check-except S,T  --check, leaving out stages known not to be byte-reproducible
  status [stage...]     why each stage is stale   [--json] [--check] [--profile P]
  dag                   stage graph               [--mermaid] [--profile P]
  params diff [revA [revB]]   lock vs workspace, revA vs workspace, or revA vs revB  [--json]
  metrics show          metrics files of the pipeline           [--json] [--profile P]
  metrics diff [revA [revB]]  HEAD (or revA) vs workspace, or revA vs revB  [--json]`;

interface Args {
  positional: string[];
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(['profile', 'jobs', 'check-except']);
const ALIASES: Record<string, string> = { f: 'force', s: 'single-item', j: 'jobs', h: 'help' };
const KNOWN: Record<string, string[]> = {
  repro: ['profile', 'force', 'dry', 'downstream', 'single-item', 'jobs', 'wait', 'check', 'check-except'],
  status: ['profile', 'json', 'check'],
  dag: ['profile', 'mermaid'],
  params: ['profile', 'json'],
  metrics: ['profile', 'json'],
};

export function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    let m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    let name: string | undefined;
    let value: string | undefined;
    if (m) {
      name = m[1];
      value = m[2];
    } else if ((m = /^-([a-zA-Z])(.*)$/.exec(a))) {
      name = ALIASES[m[1]] ?? m[1];
      value = m[2] || undefined;
    }
    if (!name) {
      positional.push(a);
      continue;
    }
    name = ALIASES[name] ?? name;
    if (VALUE_FLAGS.has(name)) {
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined || value.startsWith('-')) throw new PipelineError(`--${name} needs a value`);
      }
      flags.set(name, value);
    } else {
      if (value !== undefined) throw new PipelineError(`--${name} takes no value`);
      flags.set(name, true);
    }
  }
  return { positional, flags };
}

/** The directory holding pipeline.yaml: cwd or the nearest parent. */
export function findRoot(start: string): string {
  let dir = path.resolve(start);
  for (;;) {
    if (fs.existsSync(path.join(dir, PIPELINE_FILE))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new PipelineError(`${PIPELINE_FILE}: not found in ${start} or any parent directory`);
    dir = up;
  }
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(USAGE);
    return cmd ? 0 : 2;
  }
  if (!KNOWN[cmd]) throw new PipelineError(`unknown command '${cmd}' (repro, status, dag, params diff, metrics show|diff)`);
  const args = parseArgs(rest);
  if (args.flags.has('help')) {
    console.log(USAGE);
    return 0;
  }
  for (const f of args.flags.keys()) if (!KNOWN[cmd].includes(f)) throw new PipelineError(`${cmd}: unknown option --${f}`);
  const root = findRoot(process.env.PIPELINE_ROOT ?? process.cwd());
  const profile = (args.flags.get('profile') as string | undefined) ?? 'default';
  const json = args.flags.has('json');
  const load = (lenient = false): Pipeline => loadPipeline({ root, profile, lenientParams: lenient });

  switch (cmd) {
    case 'repro': {
      const p = load();
      const jobsRaw = args.flags.get('jobs');
      const jobs = jobsRaw === undefined ? 1 : Number(jobsRaw);
      if (!Number.isInteger(jobs) || jobs < 1) throw new PipelineError(`--jobs must be a positive integer, got '${jobsRaw}'`);
      const res = await repro(p, {
        targets: args.positional,
        force: args.flags.has('force'),
        dry: args.flags.has('dry'),
        downstream: args.flags.has('downstream'),
        singleItem: args.flags.has('single-item'),
        jobs,
        wait: args.flags.has('wait'),
        check: args.flags.has('check') || args.flags.has('check-except'),
        checkExcept: ((args.flags.get('check-except') as string | undefined) ?? '').split(',').filter(Boolean),
      });
      return res.ok ? 0 : 1;
    }
    case 'status': {
      const p = load();
      const g = buildGraph(p);
      const hasher = new Hasher(root, workDirs(root).state);
      const st = computeStatus(p, g, readLock(root, p.lockFile), hasher);
      hasher.save();
      const only = args.positional.length ? new Set(resolveTargets(p, args.positional)) : undefined;
      const entries = [...st].filter(([n]) => !only || only.has(n));
      const stale = entries.filter(([, e]) => e.stale);
      if (json) {
        console.log(JSON.stringify(Object.fromEntries(entries), null, 2));
      } else {
        for (const [n, e] of entries) {
          if (!e.stale) console.log(`${n}: up to date`);
          else {
            console.log(`${n}: stale`);
            for (const r of e.reasons) console.log(`    ${r.message}`);
          }
        }
        console.log(stale.length ? `${stale.length} of ${entries.length} stage(s) stale (${p.lockFile})` : `all ${entries.length} stage(s) up to date (${p.lockFile})`);
      }
      if (args.flags.has('check') && stale.length) {
        for (const [n, e] of stale) console.error(`check failed: stage '${n}' does not match ${p.lockFile}: ${e.reasons.map((r) => r.message).join('; ')}`);
        return 1;
      }
      return 0;
    }
    case 'dag': {
      const p = load(true);
      const g = buildGraph(p);
      console.log(args.flags.has('mermaid') ? dagMermaid(p, g) : dagText(p, g));
      return 0;
    }
    case 'params': {
      const [sub, ...revs] = args.positional;
      if (sub !== 'diff') throw new PipelineError(`params: unknown subcommand '${sub ?? ''}' (expected: params diff [revA [revB]])`);
      if (revs.length > 2) throw new PipelineError('params diff takes at most two revisions');
      const p = load(true);
      const ch = paramsDiff(p, revs);
      console.log(json ? JSON.stringify(ch, null, 2) : formatParamsDiff(ch));
      return 0;
    }
    case 'metrics': {
      const [sub, ...revs] = args.positional;
      const p = load(true);
      if (sub === 'show') {
        const m = readMetrics(p);
        console.log(json ? JSON.stringify(Object.fromEntries(m), null, 2) : formatMetricsShow(m));
        return 0;
      }
      if (sub === 'diff') {
        if (revs.length > 2) throw new PipelineError('metrics diff takes at most two revisions');
        const a = readMetrics(p, revs[0] ?? 'HEAD');
        const b = revs[1] ? readMetrics(p, revs[1]) : readMetrics(p);
        const ch = metricsDiff(a, b);
        console.log(json ? JSON.stringify(ch, null, 2) : formatMetricsDiff(ch));
        return 0;
      }
      throw new PipelineError(`metrics: unknown subcommand '${sub ?? ''}' (expected: show | diff)`);
    }
  }
  return 2;
}

export async function run(argv: string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (e) {
    if (e instanceof PipelineError) {
      console.error(`ser-pipeline: ${e.message}`);
      process.exitCode = 1;
    } else throw e;
  }
}

// Started by bin/ser-pipeline.mjs (directly or through the bundle).
if (process.env.SER_PIPELINE_NO_MAIN !== '1') await run(process.argv.slice(2));
