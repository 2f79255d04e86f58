/** ser-pipeline: repro | status | dag | params diff | metrics show|diff | gc | profile | remote | push | fetch | pull | exp | plots | worker */
import fs from 'node:fs';
import path from 'node:path';
import { PipelineError } from './errors.ts';
import { artifactsRoot, DEFAULT_PROFILE, loadPipeline, lockFileName, PIPELINE_FILE, type Pipeline } from './parse.ts';
import { buildGraph } from './graph.ts';
import { Hasher } from './hash.ts';
import { readLock } from './lock.ts';
import { computeStatus } from './status.ts';
import { repro, resolveTargets, workDirs } from './runner.ts';
import { acquireRunLock } from './runlock.ts';
import { paramsFileNames, profileOverlays } from './params.ts';
import { listProfiles, profileLabel, rememberProfile, resolveProfile, type ResolvedProfile } from './profile.ts';
import { formatBytes } from './bytes.ts';
import { applyGc, lockSources, planGc, refuseWhileExperimentsRun, type GcPlan, type GcScope } from './gc.ts';
import {
  dagMermaid,
  dagText,
  filterMetrics,
  formatMetricsDiff,
  formatMetricsShow,
  formatParamsDiff,
  metricsDiff,
  paramsDiff,
  readMetrics,
  roundChanges,
  roundMetrics,
} from './commands.ts';
import { expCommands, runExpCommand, runWorkerCommand } from './exp-cli.ts';
import { plotsCommands, runPlotsCommand } from './plots-cli.ts';
import { remoteCommands, runRemoteCommand } from './remote-cli.ts';
import type { CommandSpec, FlagSpec, ParsedArgs } from './cli-spec.ts';
import pkg from '../package.json' with { type: 'json' };

const VERSION: string = pkg.version;

const PROFILE_FLAG: FlagSpec = { name: 'profile', value: 'P', help: `params.P.yaml over params.yaml, artifacts/P, pipeline.P.lock (default: the workspace profile, see 'ser-pipeline profile')` };
const JSON_FLAG: FlagSpec = { name: 'json', help: 'machine-readable output on stdout' };
const METRICS_FLAGS: FlagSpec[] = [
  { name: 'keys', value: 'K,L', help: 'only these metric keys: a key, a section (per_emotion selects per_emotion.happy.f1) or a glob (*.f1)' },
  { name: 'precision', value: 'N', help: 'round numbers to N decimal places' },
];

/** Every command, its flags and examples: the one source of parsing, `--help` and the usage text. */
const COMMANDS: Record<string, CommandSpec> = {
  repro: {
    args: '[stage...]',
    summary: 'run stale stages (and their stale upstream) in order; records the profile as the workspace profile',
    flags: [
      PROFILE_FLAG,
      { name: 'force', short: 'f', help: 'run the selected stages even if up to date' },
      { name: 'dry', help: 'print what would run and why, run nothing' },
      { name: 'downstream', help: 'the given stages and everything downstream of them' },
      { name: 'single-item', short: 's', help: 'only the given stages, not their upstream' },
      { name: 'jobs', short: 'j', value: 'N', help: 'run up to N independent stages at once (default 1)' },
      { name: 'wait', help: 'wait for a concurrent repro instead of failing' },
      { name: 'check', help: 'then exit 1 naming each stage whose lock entry changed (CI)' },
      { name: 'check-except', value: 'S,T', help: '--check, leaving out stages known not to be byte-reproducible' },
    ],
    examples: ['ser-pipeline repro --profile demo', 'ser-pipeline repro train --force -j 2'],
  },
  status: {
    args: '[stage...]',
    summary: 'which stages are stale and why',
    flags: [PROFILE_FLAG, JSON_FLAG, { name: 'check', help: 'exit 1 naming each stale stage (CI)' }, { name: 'remote', help: "compare the cache with the default remote instead (= 'remote status')" }],
    examples: ['ser-pipeline status', 'ser-pipeline status --profile demo --check'],
  },
  dag: {
    args: '',
    summary: 'the stage graph',
    flags: [PROFILE_FLAG, { name: 'mermaid', help: 'a Mermaid flowchart instead of text' }],
    examples: ['ser-pipeline dag --mermaid > dag.mmd'],
  },
  'params diff': {
    args: '[revA [revB]]',
    summary: 'params: the lock vs the workspace, revA vs the workspace, or revA vs revB',
    flags: [PROFILE_FLAG, JSON_FLAG],
    examples: ['ser-pipeline params diff', 'ser-pipeline params diff HEAD~1 --profile demo'],
  },
  'metrics show': {
    args: '',
    summary: 'the metrics files the stages declare, in the workspace',
    flags: [PROFILE_FLAG, JSON_FLAG, ...METRICS_FLAGS],
    examples: ['ser-pipeline metrics show --keys accuracy,macro_f1 --precision 4'],
  },
  'metrics diff': {
    args: '[revA [revB]]',
    summary: 'metrics: HEAD (or revA) vs the workspace, or revA vs revB',
    flags: [PROFILE_FLAG, JSON_FLAG, ...METRICS_FLAGS],
    examples: ['ser-pipeline metrics diff', 'ser-pipeline metrics diff main HEAD --keys accuracy'],
  },
  gc: {
    args: '--workspace | --all-profiles | --all-commits',
    summary: 'remove cache objects and run-cache entries no kept lock references (lists only, unless --force)',
    flags: [
      { name: 'workspace', help: "keep what the profile's lock in the workspace references (pipeline.lock or pipeline.P.lock)" },
      { name: 'all-profiles', help: 'keep what every pipeline*.lock in the workspace references' },
      { name: 'all-commits', help: 'also keep what every pipeline*.lock in every git commit (all refs) references' },
      { name: 'force', short: 'f', help: 'remove; without it gc only says what it would remove' },
      { name: 'dry', help: 'only say what would be removed (the default; cannot go with --force)' },
      PROFILE_FLAG,
    ],
    examples: ['ser-pipeline gc --all-commits', 'ser-pipeline gc --all-profiles --force'],
  },
  profile: {
    args: '[name]',
    summary: 'show the workspace profile, or set it (default: params.yaml alone)',
    flags: [],
    examples: ['ser-pipeline profile', 'ser-pipeline profile demo', 'ser-pipeline profile default'],
  },
  ...plotsCommands(PROFILE_FLAG),
  ...expCommands(PROFILE_FLAG, JSON_FLAG),
  ...remoteCommands(PROFILE_FLAG),
};

const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'help', short: 'h', help: 'this help (or a command\'s: ser-pipeline <command> --help)' },
  { name: 'version', short: 'V', help: 'print the version' },
];

function flagText(f: FlagSpec): string {
  return `${f.short ? `-${f.short}, ` : ''}--${f.name}${f.value ? ` ${f.value}` : ''}`;
}

function usageLine(name: string, c: CommandSpec): string {
  const opts = c.flags.filter((f) => !c.args.includes(`--${f.name}`)).map((f) => `[${flagText(f).replace(', ', '|')}]`);
  return ['usage: ser-pipeline', name, c.args, ...opts].filter(Boolean).join(' ');
}

/** `ser-pipeline <command> --help`: usage line, every flag, examples. */
export function commandHelp(name: string): string {
  const c = COMMANDS[name];
  if (!c) throw new PipelineError(`help: no command '${name}' (${Object.keys(COMMANDS).join(', ')})`);
  const w = Math.max(...[...c.flags, GLOBAL_FLAGS[0]!].map((f) => flagText(f).length));
  const flags = [...c.flags, GLOBAL_FLAGS[0]!].map((f) => `  ${flagText(f).padEnd(w)}  ${f.help}`);
  return [usageLine(name, c), '', c.summary, '', 'options:', ...flags, '', 'examples:', ...c.examples.map((e) => `  ${e}`)].join('\n');
}

const USAGE_WIDTH = Math.max(...Object.entries(COMMANDS).map(([n, c]) => `${n} ${c.args}`.length));
const USAGE = [
  'usage: ser-pipeline <command> [options]     (ser-pipeline <command> --help for its options)',
  '',
  ...Object.entries(COMMANDS).map(([n, c]) => `  ${`${n} ${c.args}`.padEnd(USAGE_WIDTH)}  ${c.summary}`),
  '',
  ...GLOBAL_FLAGS.map((f) => `  ${flagText(f).padEnd(USAGE_WIDTH)}  ${f.help}`),
].join('\n');

type Args = ParsedArgs;

const ALL_FLAGS = [...GLOBAL_FLAGS, ...Object.values(COMMANDS).flatMap((c) => c.flags)];
const VALUE_FLAGS = new Set(ALL_FLAGS.filter((f) => f.value).map((f) => f.name));
/** A flag name may take a value in one command and none in another (`push -r NAME`, `status --remote`). */
function valueFlagsFor(cmd: string | undefined): Set<string> {
  const spec = cmd ? COMMANDS[cmd] : undefined;
  return spec ? new Set([...GLOBAL_FLAGS, ...spec.flags].filter((f) => f.value).map((f) => f.name)) : VALUE_FLAGS;
}
const ALIASES: Record<string, string> = Object.fromEntries(GLOBAL_FLAGS.filter((f) => f.short).map((f) => [f.short!, f.name]));
/** Short flags are per command (`-f` is --force for both repro and gc). */
function aliasesFor(cmd: string | undefined): Record<string, string> {
  const own = cmd && COMMANDS[cmd] ? COMMANDS[cmd].flags.filter((f) => f.short).map((f) => [f.short!, f.name]) : [];
  return { ...ALIASES, ...Object.fromEntries(own) };
}

/** Which command the words name: `params diff` and `metrics show|diff` take their subcommand. */
const TWO_WORD = new Set(['params', 'metrics', 'remote', 'exp', 'plots']);

export function parseArgs(argv: string[], aliases: Record<string, string> = ALIASES, valueFlags: Set<string> = VALUE_FLAGS): Args {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
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
      name = aliases[m[1]!] ?? m[1];
      value = m[2] || undefined;
    }
    if (!name) {
      positional.push(a);
      continue;
    }
    if (valueFlags.has(name)) {
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

/** The command key (`repro`, `metrics show`, ...) and the remaining words. */
function commandOf(words: string[]): { name: string; rest: string[] } {
  const [cmd = '', ...rest] = words;
  if (!TWO_WORD.has(cmd)) {
    if (!COMMANDS[cmd]) throw new PipelineError(`unknown command '${cmd}' (${Object.keys(COMMANDS).join(', ')}; ser-pipeline --help)`);
    return { name: cmd, rest };
  }
  const sub = rest.find((w) => !w.startsWith('-'));
  const name = `${cmd} ${sub ?? ''}`;
  if (!COMMANDS[name]) {
    const subs = Object.keys(COMMANDS).filter((n) => n.startsWith(`${cmd} `)).map((n) => n.split(' ')[1]!);
    if (rest.some((w) => w === '--help' || w === '-h') && sub === undefined) return { name: cmd, rest };
    throw new PipelineError(`${cmd}: unknown subcommand '${sub ?? ''}' (expected: ${subs.map((x) => `${cmd} ${x}`).join(' | ')})`);
  }
  return { name, rest: rest.filter((w, i) => i !== rest.indexOf(sub!)) };
}

function parsePrecision(raw: string | true | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 15) throw new PipelineError(`--precision must be a whole number of decimal places from 0 to 15, got '${raw}'`);
  return n;
}

function parseKeys(raw: string | true | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const keys = String(raw).split(',').map((k) => k.trim()).filter(Boolean);
  if (!keys.length) throw new PipelineError(`--keys needs at least one key, got '${raw}'`);
  return keys;
}

/** `status (profile demo): ...`: every command's first line says which profile it looked at. */
function heading(command: string, r: ResolvedProfile): string {
  return `${command} (${profileLabel(r)})`;
}

export async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === '--version' || first === '-V') {
    console.log(`ser-pipeline ${VERSION}`);
    return 0;
  }
  if (!first || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? argv.slice(1).join(' ') : '';
    if (topic && COMMANDS[topic]) console.log(commandHelp(topic));
    else if (topic) throw new PipelineError(`help: no command '${topic}' (${Object.keys(COMMANDS).join(', ')})`);
    else console.log(USAGE);
    return first ? 0 : 2;
  }
  const { name: cmd, rest } = commandOf(argv);
  const args = parseArgs(rest, aliasesFor(cmd), valueFlagsFor(cmd));
  if (args.flags.has('help')) {
    console.log(COMMANDS[cmd] ? commandHelp(cmd) : Object.keys(COMMANDS).filter((n) => n.startsWith(`${cmd} `)).map(commandHelp).join('\n\n'));
    return 0;
  }
  const spec = COMMANDS[cmd]!; // commandOf only returns a name that is not a command for --help, handled above
  for (const f of args.flags.keys()) {
    if (!spec.flags.some((x) => x.name === f)) throw new PipelineError(`${cmd}: unknown option --${f}`);
  }
  const root = findRoot(process.env.PIPELINE_ROOT ?? process.cwd());
  const json = args.flags.has('json');
  /** The first line: on stdout, or on stderr when stdout is JSON. */
  const head = (line: string) => (json ? console.error(line) : console.log(line));

  if (cmd === 'profile') {
    if (args.positional.length > 1) throw new PipelineError('profile takes at most one profile name');
    const [want] = args.positional;
    const available = listProfiles(root);
    if (want !== undefined) {
      for (const o of want === DEFAULT_PROFILE ? [] : profileOverlays(want)) {
        if (!available.includes(o)) throw new PipelineError(`profile '${want}': no params.${o}.yaml in ${root} (profiles: ${available.join(', ')})`);
      }
      rememberProfile(root, want);
    }
    const r = resolveProfile(root, undefined);
    console.log(`${heading('profile', r)}: ${paramsFileNames(r.name).join(' + ')}, lock ${lockFileName(PIPELINE_FILE, r.name)}, outputs ${artifactsRoot(r.name)}/`);
    console.log(`profiles: ${available.join(', ')}`);
    return 0;
  }

  const resolved = resolveProfile(root, args.flags.get('profile') as string | undefined);
  const profile = resolved.name;
  const load = (lenient = false): Pipeline => loadPipeline({ root, profile, lenientParams: lenient });
  const precision = parsePrecision(args.flags.get('precision'));
  const keys = parseKeys(args.flags.get('keys'));

  if (cmd.startsWith('exp ')) return runExpCommand(cmd, root, resolved, args, rest);
  if (cmd === 'worker') return runWorkerCommand(root, args);
  if (cmd.startsWith('plots ')) return runPlotsCommand(cmd, root, resolved, args);
  switch (cmd) {
    case 'repro': {
      const p = load();
      const jobsRaw = args.flags.get('jobs');
      const jobs = jobsRaw === undefined ? 1 : Number(jobsRaw);
      if (!Number.isInteger(jobs) || jobs < 1) throw new PipelineError(`--jobs must be a positive integer, got '${jobsRaw}'`);
      const dry = args.flags.has('dry');
      // The profile this workspace's outputs now follow; a dry run changes nothing.
      if (!dry) rememberProfile(root, profile);
      const res = await repro(p, {
        targets: args.positional,
        force: args.flags.has('force'),
        dry,
        downstream: args.flags.has('downstream'),
        singleItem: args.flags.has('single-item'),
        jobs,
        wait: args.flags.has('wait'),
        check: args.flags.has('check') || args.flags.has('check-except'),
        checkExcept: ((args.flags.get('check-except') as string | undefined) ?? '').split(',').filter(Boolean),
        profileLabel: profileLabel(resolved),
      });
      return res.ok ? 0 : 1;
    }
    case 'status': {
      if (args.flags.has('remote')) return runRemoteCommand('status', root, resolved, args);
      const p = load();
      const g = buildGraph(p);
      const hasher = new Hasher(root, workDirs(root).state);
      const st = computeStatus(p, g, readLock(root, p.lockFile), hasher);
      hasher.save();
      const only = args.positional.length ? new Set(resolveTargets(p, args.positional)) : undefined;
      const entries = [...st].filter(([n]) => !only || only.has(n));
      const stale = entries.filter(([, e]) => e.stale);
      const summary = stale.length ? `${stale.length} of ${entries.length} stage(s) stale (${p.lockFile})` : `all ${entries.length} stage(s) up to date (${p.lockFile})`;
      head(`${heading('status', resolved)}: ${summary}`);
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
      const title = `${heading('dag', resolved)}: ${g.order.length} stage(s)`;
      // Mermaid output stays a valid diagram: the first line is a Mermaid comment.
      console.log(args.flags.has('mermaid') ? `%% ${title}\n${dagMermaid(p, g)}` : `${title}\n${dagText(p, g)}`);
      return 0;
    }
    case 'params diff': {
      const revs = args.positional;
      if (revs.length > 2) throw new PipelineError('params diff takes at most two revisions');
      const p = load(true);
      const ch = paramsDiff(p, revs);
      const sides = revs.length === 0 ? `${p.lockFile} vs workspace` : `${revs[0]} vs ${revs[1] ?? 'workspace'}`;
      head(`${heading('params diff', resolved)}: ${sides}`);
      console.log(json ? JSON.stringify(ch, null, 2) : formatParamsDiff(ch));
      return 0;
    }
    case 'metrics show': {
      if (args.positional.length) throw new PipelineError(`metrics show takes no revision (got '${args.positional[0]}'; for a revision: metrics diff)`);
      const p = load(true);
      const [raw] = keys ? filterMetrics([readMetrics(p)], keys) : [readMetrics(p)];
      const m = roundMetrics(raw!, precision);
      head(`${heading('metrics show', resolved)}: ${m.size} metrics file(s)`);
      console.log(json ? JSON.stringify(Object.fromEntries(m), null, 2) : formatMetricsShow(m));
      return 0;
    }
    case 'metrics diff': {
      const revs = args.positional;
      if (revs.length > 2) throw new PipelineError('metrics diff takes at most two revisions');
      const p = load(true);
      const labels: [string, string] = [revs[0] ?? 'HEAD', revs[1] ?? 'workspace'];
      let sides = [readMetrics(p, labels[0]), revs[1] ? readMetrics(p, revs[1]) : readMetrics(p)];
      if (keys) sides = filterMetrics(sides, keys);
      const ch = roundChanges(metricsDiff(sides[0]!, sides[1]!), precision);
      head(`${heading('metrics diff', resolved)}: ${labels[0]} vs ${labels[1]}`);
      if (json) console.log(JSON.stringify(ch, null, 2));
      else if (!sides[0]!.size && !sides[1]!.size) console.log(`no metrics ${where(labels[0])} or ${where(labels[1])} (${p.lockFile}); nothing to compare`);
      else console.log(formatMetricsDiff(ch));
      return 0;
    }
    case 'gc':
      return gcCommand(root, resolved, args);
    default:
      if (cmd.startsWith('remote ') || ['push', 'fetch', 'pull'].includes(cmd)) return runRemoteCommand(cmd, root, resolved, args);
  }
  return 2;
}

const where = (label: string) => (label === 'workspace' ? 'in the workspace' : `at ${label}`);

async function gcCommand(root: string, resolved: ResolvedProfile, args: Args): Promise<number> {
  const scopes = (['workspace', 'all-profiles', 'all-commits'] as const).filter((s) => args.flags.has(s));
  if (scopes.length !== 1) throw new PipelineError(`gc: say what to keep with exactly one of --workspace, --all-profiles, --all-commits${scopes.length ? ` (got ${scopes.map((s) => `--${s}`).join(' ')})` : ''}`);
  const force = args.flags.has('force');
  if (force && args.flags.has('dry')) throw new PipelineError('gc: --dry and --force contradict each other');
  if (args.positional.length) throw new PipelineError(`gc takes no arguments (got '${args.positional[0]}')`);
  const scope: GcScope = scopes[0]!;
  const title = scope === 'workspace' ? heading('gc --workspace', resolved) : `gc --${scope}`;
  const dirs = workDirs(root);
  const plan = () => {
    const sources = lockSources(root, scope, lockFileName(PIPELINE_FILE, resolved.name));
    return planGc(dirs.cache, dirs.runs, sources);
  };
  const report = (g: GcPlan, verb: string) => {
    const locks = `${g.locks.slice(0, 6).join(', ')}${g.locks.length > 6 ? ', ...' : ''}`;
    console.log(`${title}: ${g.locks.length ? `keeping what ${g.locks.length} lock(s) reference: ${locks}` : 'no lock found, so nothing is kept'}`);
    console.log(`${verb} ${g.objects.remove.length} of ${g.objects.total} cache object(s), ${formatBytes(g.objects.removeBytes)}, and ${g.runs.remove.length} of ${g.runs.total} run-cache entr${g.runs.total === 1 ? 'y' : 'ies'}`);
  };
  if (!force) {
    report(plan(), 'would remove');
    console.log('dry run: nothing removed; pass --force to remove');
    return 0;
  }
  // Hold the run lock: a running repro stores objects before its lock names them.
  const release = await acquireRunLock(root, false);
  try {
    refuseWhileExperimentsRun(root);
    const g = plan();
    applyGc(g);
    report(g, 'removed');
  } finally {
    release();
  }
  return 0;
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
