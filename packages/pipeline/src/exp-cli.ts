/**
 * The experiment commands: `exp run | show | log | apply | remove | queue` and `worker`. Their
 * specs join cli.ts's COMMANDS table; cli.ts dispatches here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PipelineError } from './errors.ts';
import { profileLabel, type ResolvedProfile } from './profile.ts';
import { expWorkspace, listExperiments, readExperiment, experimentNames } from './exp-store.ts';
import { applyExperiment, enqueue, planExperiments, queueStatus, removeExperiments, runExperiment, runQueue } from './exp.ts';
import { formatShow, type ShowFormat } from './exp-show.ts';
import { MAX_GRID_WITHOUT_YES } from './exp-grid.ts';
import { DEFAULT_STALL_TIMEOUT_S, jobLog, mergeRecords, queuedRecords, redisUrl, removeJobs, runWorker, submitExperiments } from './exp-dist.ts';

import type { CommandSpec as Command, FlagSpec as Flag, ParsedArgs } from './cli-spec.ts';

const REDIS_FLAG: Flag = { name: 'redis', value: 'URL', help: "the Redis of a distributed queue (redis://host:6379); default: queue.redis in .pipeline/config.yaml" };
const SET_FLAG: Flag = { name: 'set-param', short: 'S', value: 'KEY=VALUE', help: 'set a params key (YAML value: 0.01, cosine, [8,16]); repeatable; a,b,c makes a grid axis' };

/** The experiment commands' specs; `profileFlag` and `jsonFlag` are cli.ts's, so their help has one home. */
export function expCommands(profileFlag: Flag, jsonFlag: Flag): Record<string, Command> {
  return {
    'exp run': {
      args: '',
      summary: "run the pipeline with params overrides in .pipeline/exps/<name>/ (the workspace's params, lock and artifacts untouched); a grid runs every point",
      flags: [
        profileFlag,
        SET_FLAG,
        { name: 'seeds', value: 'LIST', help: "repeat each point over the params key 'seed': 1,2,3 or 1-3" },
        { name: 'name', value: 'N', help: 'name the experiment (a grid: N-1, N-2, ...); default: read from the overrides, e.g. demo-lr0.02-s1' },
        { name: 'queue', help: "only enqueue; run them with 'exp queue start', or with workers when the queue is on Redis" },
        { ...REDIS_FLAG, help: "enqueue on this Redis for 'ser-pipeline worker' processes on any machine (implies --queue; default: queue.redis in .pipeline/config.yaml, with --queue)" },
        { name: 'yes', help: `run a grid of more than ${MAX_GRID_WITHOUT_YES} points` },
        { name: 'force', short: 'f', help: 'replace experiments of the same name' },
        { name: 'from-queue', value: 'NAME', help: "run the queued experiment NAME (what 'exp queue start' runs in each child process)" },
      ],
      examples: [
        'ser-pipeline exp run --profile demo -S train.lr=0.02',
        'ser-pipeline exp run --profile demo -S train.lr=0.02,0.05 --seeds 1,2',
        'ser-pipeline exp run -S train.lr=0.001,0.003,0.01 -S model.dropout=0.2,0.4 --queue',
        'ser-pipeline exp run --profile demo -S train.lr=0.01,0.02 --seeds 1-3 --redis redis://lab-redis:6379',
      ],
    },
    'exp show': {
      args: '',
      summary: 'experiments as a table: name, status, the params that differ, metrics, duration',
      flags: [
        { ...profileFlag, help: "only this profile's experiments (default: all)" },
        jsonFlag,
        { name: 'csv', help: 'CSV on stdout' },
        { name: 'md', help: 'a Markdown table on stdout' },
        { name: 'sort-by', value: 'METRIC', help: 'sort by a metric column, highest first' },
        { name: 'group', value: 'seeds', help: "one row per grid point: experiments differing only in 'seed', metrics as mean ± sample std" },
        { name: 'keys', value: 'K,L', help: "these metric leaves (macro.f1, evaluate:accuracy) instead of each file's top-level numbers" },
        { ...REDIS_FLAG, help: 'also the experiments on this Redis queue, from any machine (default: queue.redis in .pipeline/config.yaml)' },
      ],
      examples: ['ser-pipeline exp show --profile demo', 'ser-pipeline exp show --group seeds --sort-by accuracy', 'ser-pipeline exp show --md > exps.md'],
    },
    'exp log': {
      args: 'NAME',
      summary: "an experiment's output: its job log on the Redis queue (every attempt, from whichever worker), else its local queue log",
      flags: [REDIS_FLAG],
      examples: ['ser-pipeline exp log demo-lr0.02-s1'],
    },
    worker: {
      args: '',
      summary: "take experiments from the Redis queue and run them, each in a git worktree at its commit: fetch from the remote, run, push outs and record",
      flags: [
        REDIS_FLAG,
        { name: 'concurrency', short: 'c', value: 'N', help: 'experiments at once (default 1)' },
        { name: 'remote', short: 'r', value: 'NAME', help: "the remote to fetch from and push to (default: the commit's default remote; none: no transfers)" },
        { name: 'stall-timeout', value: 'S', help: `seconds without this worker's heartbeat before its jobs go to another worker (default ${DEFAULT_STALL_TIMEOUT_S})` },
        { name: 'exit-when-empty', help: 'stop once nothing waits or runs on the queue (CI, batch jobs)' },
      ],
      examples: ['ser-pipeline worker --redis redis://lab-redis:6379', 'ser-pipeline worker -c 2 --exit-when-empty'],
    },
    'exp apply': {
      args: 'NAME',
      summary: "write an experiment's overrides into its profile's params file (params.yaml, or params.P.yaml), comments kept",
      flags: [],
      examples: ['ser-pipeline exp apply demo-lr0.02-s1'],
    },
    'exp remove': {
      args: 'NAME... | --all',
      summary: "remove experiments' records and folders (their cache objects stay until 'ser-pipeline gc')",
      flags: [{ name: 'all', help: 'every experiment' }, { ...REDIS_FLAG, help: 'also jobs on this Redis queue (not running ones; default: queue.redis in .pipeline/config.yaml)' }],
      examples: ['ser-pipeline exp remove demo-lr0.02-s1', 'ser-pipeline exp remove --all'],
    },
    'exp queue': {
      args: 'start | status',
      summary: 'start: run the queued experiments, each in its own process, within N cores; status: what runs and what waits',
      flags: [{ name: 'jobs', short: 'j', value: 'N', help: 'cores the queue may use at once (default 1); an experiment counts as its params workers value' }],
      examples: ['ser-pipeline exp queue start -j 2', 'ser-pipeline exp queue status'],
    },
  };
}

/** Every value of a repeatable flag (`-S a=1 -S b=2`, `--set-param=c=3`), in order; parseArgs keeps only the last. */
export function repeatedValues(argv: string[], flag: Flag): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === `--${flag.name}` || a === `-${flag.short}`) out.push(argv[++i] ?? '');
    else if (a.startsWith(`--${flag.name}=`)) out.push(a.slice(flag.name.length + 3));
    else if (flag.short && a.startsWith(`-${flag.short}`)) out.push(a.slice(2));
  }
  return out;
}

function positiveInt(flag: string, raw: string | true | undefined, dflt: number): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new PipelineError(`--${flag} must be a positive integer, got '${raw}'`);
  return n;
}

const log = (line: string) => console.log(line);

/** Run one `exp ...` command; `argv` is the command's raw words (for the repeatable -S). */
export async function runExpCommand(cmd: string, root: string, resolved: ResolvedProfile, args: ParsedArgs, argv: string[]): Promise<number> {
  const flag = (name: string) => args.flags.get(name) as string | undefined;
  switch (cmd) {
    case 'exp run': {
      if (args.positional.length) throw new PipelineError(`exp run takes no arguments (got '${args.positional[0]}'; params go after -S)`);
      const fromQueue = flag('from-queue');
      if (fromQueue !== undefined) {
        const rec = readExperiment(root, fromQueue);
        if (rec.status !== 'queued') throw new PipelineError(`experiment '${fromQueue}' is ${rec.status}, not queued`);
        return (await runExperiment(root, fromQueue, log)).status === 'done' ? 0 : 1;
      }
      const url = redisUrl(root, args.flags.get('redis'));
      const viaRedis = args.flags.has('redis') || (args.flags.has('queue') && url !== undefined);
      const records = planExperiments(root, {
        profile: resolved.name,
        sets: repeatedValues(argv, SET_FLAG),
        seeds: flag('seeds'),
        name: flag('name'),
        yes: args.flags.has('yes'),
        force: args.flags.has('force'),
      });
      const names = records.map((r) => r.name);
      if (viaRedis) {
        await submitExperiments(root, url!, records, { force: args.flags.has('force') });
        log(`exp run (${profileLabel(resolved)}): ${records.length} experiment(s) on the Redis queue: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''}`);
        log(`commit ${records[0]!.baseCommit!.slice(0, 10)}; run them with 'ser-pipeline worker' on any machine with a checkout, see them with 'ser-pipeline exp show'`);
        return 0;
      }
      enqueue(root, records);
      log(`exp run (${profileLabel(resolved)}): ${records.length} experiment(s): ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''}`);
      if (args.flags.has('queue')) {
        log(`queued; run them with 'ser-pipeline exp queue start -j N', see them with 'ser-pipeline exp queue status'`);
        return 0;
      }
      let ok = 0;
      for (const name of names) if ((await runExperiment(root, name, log)).status === 'done') ok++;
      log(`exp run: ${ok} of ${names.length} experiment(s) done${ok < names.length ? `, ${names.length - ok} failed ('ser-pipeline exp show')` : ''}`);
      return ok === names.length ? 0 : 1;
    }
    case 'exp show': {
      if (args.positional.length) throw new PipelineError(`exp show takes no arguments (got '${args.positional[0]}')`);
      const formats = (['json', 'csv', 'md'] as const).filter((f) => args.flags.has(f));
      if (formats.length > 1) throw new PipelineError(`exp show: choose one of --json, --csv, --md (got ${formats.map((f) => `--${f}`).join(' ')})`);
      const format: ShowFormat = formats[0] ?? 'text';
      const group = flag('group');
      if (group !== undefined && group !== 'seeds') throw new PipelineError(`--group ${group}: only 'seeds' is supported (--group seeds)`);
      const keys = flag('keys')?.split(',').map((k) => k.trim()).filter(Boolean);
      const url = redisUrl(root, args.flags.get('redis'));
      const onQueue = url === undefined ? [] : (await queuedRecords(url)).filter((r) => !args.flags.has('profile') || r.profile === resolved.name);
      const records = mergeRecords(listExperiments(root, args.flags.has('profile') ? { profile: resolved.name } : {}), onQueue);
      const title = `exp show${args.flags.has('profile') ? ` (profile ${resolved.name})` : ''}: ${records.length} experiment(s)`;
      // Machine formats keep stdout to the table itself.
      if (format === 'text') log(title);
      else console.error(title);
      if (!records.length) {
        if (format === 'json') log('[]');
        else if (format === 'text') log("no experiments yet: 'ser-pipeline exp run -S key=value'");
        return 0;
      }
      log(formatShow(records, { format, sortBy: flag('sort-by'), groupSeeds: group === 'seeds', keys }));
      return 0;
    }
    case 'exp log': {
      if (args.positional.length !== 1) throw new PipelineError('exp log takes one experiment name');
      const name = args.positional[0]!;
      const url = redisUrl(root, args.flags.get('redis'));
      const local = path.join(root, expWorkspace(name), 'log.txt');
      if (url === undefined) {
        readExperiment(root, name); // names the nearest when missing
        if (!fs.existsSync(local)) throw new PipelineError(`experiment '${name}' has no log (only 'exp queue start' keeps one; 'exp run' prints its output)`);
        process.stdout.write(fs.readFileSync(local, 'utf8'));
        return 0;
      }
      const { state, lines } = await jobLog(url, name);
      log(`exp log ${name}: ${state} on the Redis queue, ${lines.length} line(s)`);
      for (const l of lines) log(l);
      return 0;
    }
    case 'exp apply': {
      if (args.positional.length !== 1) throw new PipelineError('exp apply takes one experiment name');
      const changes = applyExperiment(root, args.positional[0]!);
      log(`exp apply ${args.positional[0]}: ${changes.length ? `${changes.length} change(s)` : 'the params files already hold its overrides'}`);
      for (const c of changes) log(`  ${c}`);
      return 0;
    }
    case 'exp remove': {
      const all = args.flags.has('all');
      if (all === args.positional.length > 0) throw new PipelineError('exp remove: name the experiments, or pass --all (not both)');
      const url = redisUrl(root, args.flags.get('redis'));
      const localNames = new Set(experimentNames(root));
      // Names the workspace lacks are the queue's (when there is one); removeExperiments names the nearest otherwise.
      const onQueue = url === undefined ? [] : all ? ['*'] : args.positional.filter((n) => !localNames.has(n));
      const fromQueue = onQueue.length ? await removeJobs(url!, onQueue) : [];
      const removed = [...removeExperiments(root, all ? [...localNames].sort() : args.positional.filter((n) => url === undefined || localNames.has(n))), ...fromQueue];
      log(`exp remove: removed ${removed.length} experiment(s)${removed.length ? `: ${removed.join(', ')}` : ''}; their cache objects stay until 'ser-pipeline gc'`);
      return 0;
    }
    case 'exp queue': {
      const [sub, ...extra] = args.positional;
      if (extra.length || (sub !== 'start' && sub !== 'status')) throw new PipelineError(`exp queue: expected 'exp queue start [-j N]' or 'exp queue status'${sub ? ` (got '${args.positional.join(' ')}')` : ''}`);
      if (sub === 'status') {
        if (args.flags.has('jobs')) throw new PipelineError('exp queue status takes no --jobs');
        log(queueStatus(root));
        return 0;
      }
      const jobs = positiveInt('jobs', args.flags.get('jobs'), 1);
      const entry = process.argv[1];
      if (!entry) throw new PipelineError('exp queue start: cannot tell how this process was started');
      const ok = await runQueue(root, { jobs, log, childArgs: (name) => [...process.execArgv, entry, 'exp', 'run', '--from-queue', name] });
      return ok ? 0 : 1;
    }
  }
  throw new PipelineError(`unknown command '${cmd}'`);
}

/** `ser-pipeline worker`. */
export async function runWorkerCommand(root: string, args: ParsedArgs): Promise<number> {
  if (args.positional.length) throw new PipelineError(`worker takes no arguments (got '${args.positional[0]}')`);
  const url = redisUrl(root, args.flags.get('redis'));
  if (url === undefined) throw new PipelineError('worker: no Redis queue: pass --redis redis://host:6379, or set queue.redis in .pipeline/config.yaml');
  const remote = args.flags.get('remote');
  if (remote === true) throw new PipelineError('--remote needs a remote name');
  await runWorker(root, {
    url,
    concurrency: positiveInt('concurrency', args.flags.get('concurrency'), 1),
    stallTimeoutS: positiveInt('stall-timeout', args.flags.get('stall-timeout'), DEFAULT_STALL_TIMEOUT_S),
    remote,
    exitWhenEmpty: args.flags.has('exit-when-empty'),
    log,
  });
  return 0;
}
