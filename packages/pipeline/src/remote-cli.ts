/**
 * The remote commands: `remote add|list|remove|default|status`, `push`, `fetch`, `pull`, and
 * `status --remote`. Their specs join cli.ts's COMMANDS table; cli.ts dispatches here.
 */
import { PipelineError } from './errors.ts';
import { lockFileName, PIPELINE_FILE } from './parse.ts';
import { readLock } from './lock.ts';
import { profileLabel, rememberProfile, type ResolvedProfile } from './profile.ts';
import { acquireRunLock } from './runlock.ts';
import { formatBytes } from './bytes.ts';
import { addRemote, CONFIG_FILE, readConfig, removeRemote, resolveRemote, setDefaultRemote, type RemoteConfig } from './config.ts';
import { openRemote, remoteLabel } from './remote.ts';
import { checkoutOuts, fetchObjects, push, remoteStatus, selectedOuts, type SyncOptions, type TransferReport } from './remote-sync.ts';

import type { CommandSpec as Command, FlagSpec as Flag, ParsedArgs } from './cli-spec.ts';

/** Parallel transfers unless -j says otherwise. */
export const DEFAULT_TRANSFER_JOBS = 8;

const REMOTE_FLAG: Flag = { name: 'remote', short: 'r', value: 'NAME', help: `the remote (default: the default remote in ${CONFIG_FILE})` };
const JOBS_FLAG: Flag = { name: 'jobs', short: 'j', value: 'N', help: `transfers at once (default ${DEFAULT_TRANSFER_JOBS})` };

/** The remote commands' specs; `profileFlag` is cli.ts's --profile, so its help has one home. */
export function remoteCommands(profileFlag: Flag): Record<string, Command> {
  const transfer = [profileFlag, REMOTE_FLAG, JOBS_FLAG];
  return {
    'remote add': {
      args: 'NAME URL',
      summary: `add a remote (s3://bucket/prefix, or a folder) to ${CONFIG_FILE}; the first one becomes the default`,
      flags: [
        { name: 'default', help: 'make it the default remote' },
        { name: 'endpoint', value: 'URL', help: 'S3-compatible server (Ceph RGW, ...): http(s)://host:port' },
        { name: 'region', value: 'R', help: 'S3 region (default: AWS_REGION, else the AWS config)' },
        { name: 'force-path-style', help: 'address buckets as http://host/bucket (most S3-compatible servers)' },
      ],
      examples: ['ser-pipeline remote add origin s3://lab-bucket/ser --default', 'ser-pipeline remote add rgw s3://ser/cache --endpoint http://rgw.lab:7480 --force-path-style', 'ser-pipeline remote add nfs /mnt/shared/ser-cache'],
    },
    'remote list': { args: '', summary: 'the configured remotes', flags: [], examples: ['ser-pipeline remote list'] },
    'remote remove': { args: 'NAME', summary: `remove a remote from ${CONFIG_FILE} (its data stays where it is)`, flags: [], examples: ['ser-pipeline remote remove nfs'] },
    'remote default': { args: 'NAME', summary: 'make a remote the default one', flags: [], examples: ['ser-pipeline remote default origin'] },
    'remote status': {
      args: '[stage...]',
      summary: "what push and pull would move: the lock's objects missing on either side, and run-cache entries",
      flags: [profileFlag, REMOTE_FLAG],
      examples: ['ser-pipeline remote status', 'ser-pipeline remote status -r nfs --profile demo'],
    },
    push: {
      args: '[stage...]',
      summary: "upload the lock's outs (objects the remote lacks) and the run-cache entries",
      flags: transfer,
      examples: ['ser-pipeline push --profile demo', 'ser-pipeline push train -r nfs -j 16'],
    },
    fetch: {
      args: '[stage...]',
      summary: "download the lock's outs and run-cache entries into the cache (no checkout)",
      flags: transfer,
      examples: ['ser-pipeline fetch --profile demo'],
    },
    pull: {
      args: '[stage...]',
      summary: "fetch, then check the lock's outs out into the workspace (as repro restores them); records the profile as the workspace profile",
      flags: transfer,
      examples: ['ser-pipeline pull --profile demo', 'ser-pipeline pull features -r nfs'],
    },
  };
}

function parseJobs(raw: string | true | undefined): number {
  if (raw === undefined) return DEFAULT_TRANSFER_JOBS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new PipelineError(`--jobs must be a whole number from 1 to 256, got '${raw}'`);
  return n;
}

function takeOnly(args: ParsedArgs, cmd: string, names: string[]): string[] {
  if (args.positional.length !== names.length) throw new PipelineError(`${cmd} takes ${names.join(' ') || 'no arguments'}${args.positional.length > names.length ? ` (got also '${args.positional[names.length]}')` : ` (missing ${names[args.positional.length]})`}`);
  return args.positional;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function describeRemote(name: string, r: RemoteConfig, isDefault: boolean): string {
  const extra = [r.endpoint && `endpoint ${r.endpoint}`, r.region && `region ${r.region}`, r.force_path_style && 'path-style'].filter(Boolean).join(', ');
  return `${name}  ${r.url}${extra ? `  (${extra})` : ''}${isDefault ? '  [default]' : ''}`;
}

/** Run one remote command; `cmd` is a key of `remoteCommands`, or `status` (with --remote). */
export async function runRemoteCommand(cmd: string, root: string, resolved: ResolvedProfile, args: ParsedArgs, log: (line: string) => void = console.log): Promise<number> {
  switch (cmd) {
    case 'remote add': {
      const [name, url] = takeOnly(args, cmd, ['NAME', 'URL']) as [string, string];
      const remote: RemoteConfig = {
        url,
        endpoint: args.flags.get('endpoint') as string | undefined,
        region: args.flags.get('region') as string | undefined,
        force_path_style: args.flags.has('force-path-style') || undefined,
      };
      const cfg = addRemote(root, name, remote, args.flags.has('default'));
      log(`remote add: ${describeRemote(name, cfg.remotes[name]!, cfg.default === name)} (${CONFIG_FILE}: commit it so every clone has it)`);
      return 0;
    }
    case 'remote list': {
      takeOnly(args, cmd, []);
      const cfg = readConfig(root);
      const names = Object.keys(cfg.remotes);
      log(`remote list: ${plural(names.length, 'remote', 'remotes')} in ${CONFIG_FILE}`);
      for (const n of names) log(describeRemote(n, cfg.remotes[n]!, cfg.default === n));
      return 0;
    }
    case 'remote remove': {
      const [name] = takeOnly(args, cmd, ['NAME']) as [string];
      const cfg = removeRemote(root, name);
      log(`remote remove: '${name}' removed from ${CONFIG_FILE}${cfg.default ? '' : Object.keys(cfg.remotes).length ? ' (no default remote now: ser-pipeline remote default NAME)' : ''}`);
      return 0;
    }
    case 'remote default': {
      const [name] = takeOnly(args, cmd, ['NAME']) as [string];
      setDefaultRemote(root, name);
      log(`remote default: '${name}' (${CONFIG_FILE})`);
      return 0;
    }
  }

  // Commands that talk to a remote: check every flag before anything is read or written.
  if (cmd === 'status') {
    const other = ['json', 'check'].find((f) => args.flags.has(f));
    if (other) throw new PipelineError(`status --remote: --${other} does not apply (it compares the cache with a remote)`);
  }
  const jobs = parseJobs(args.flags.get('jobs'));
  // `-r NAME` for push/pull/fetch/remote status; `status --remote` is a switch (the default remote).
  const remoteFlag = args.flags.get('remote');
  const { name, remote: config } = resolveRemote(readConfig(root), typeof remoteFlag === 'string' ? remoteFlag : undefined);
  const lockFile = lockFileName(PIPELINE_FILE, resolved.name);
  const lock = readLock(root, lockFile);
  const opts: SyncOptions = { root, lock, lockFile, stages: args.positional, jobs };
  const outs = selectedOuts(lock, lockFile, args.positional);
  const title = `${cmd} (${profileLabel(resolved)})`;
  const where = remoteLabel(name, config);
  const remote = await openRemote(root, name, config);

  if (cmd === 'status' || cmd === 'remote status') {
    log(`${title}: ${lockFile} vs ${where}`);
    const st = await remoteStatus(remote, opts);
    for (const s of st.stages) {
      const parts = [s.localOnly && `${plural(s.localOnly, 'object', 'objects')} to push`, s.remoteOnly && `${plural(s.remoteOnly, 'object', 'objects')} to pull`, s.neither.length && `missing on both sides: ${s.neither.join(', ')}`].filter(Boolean);
      log(`${s.stage}: ${parts.length ? parts.join('; ') : 'in sync'}`);
    }
    log(`run-cache: ${plural(st.runs.localOnly, 'entry', 'entries')} to push, ${plural(st.runs.remoteOnly, 'entry', 'entries')} to pull`);
    return 0;
  }

  if (cmd === 'push') {
    log(`${title}: ${plural(outs.length, 'out', 'outs')} of ${lockFile} to ${where}`);
    const r = await push(remote, opts);
    log(summary('push', 'uploaded', 'already on the remote', r));
    if (r.unavailable.length) log(`push: not in the local cache, so not pushed: ${listSome(r.unavailable)} (run repro, or pull them from where they are)`);
    return 0;
  }

  // fetch and pull
  log(`${title}: ${plural(outs.length, 'out', 'outs')} of ${lockFile} from ${where}`);
  const r = await fetchObjects(remote, opts);
  log(summary(cmd, 'downloaded', 'already in the cache', r));
  let code = 0;
  if (cmd === 'pull') {
    // pull changes the workspace like repro: one at a time, and the workspace follows this profile.
    const release = await acquireRunLock(root, false);
    try {
      const c = checkoutOuts(root, outs);
      rememberProfile(root, resolved.name);
      log(`pull: checked out ${plural(c.restored.length, 'out', 'outs')}${c.restored.length ? ` (${listSome(c.restored)})` : ''}, ${c.upToDate} already in place; ${lockFile} unchanged`);
      if (c.notCached.length) {
        console.error(`ser-pipeline: pull: neither the cache nor ${where} has ${listSome(c.notCached)}: run repro to compute, or push from a workspace that has them`);
        code = 1;
      }
    } finally {
      release();
    }
  } else if (r.unavailable.length) {
    console.error(`ser-pipeline: fetch: ${where} does not have ${listSome(r.unavailable)}`);
    code = 1;
  }
  return code;
}

function listSome(items: string[], max = 6): string {
  return items.slice(0, max).join(', ') + (items.length > max ? `, ... (${items.length} in all)` : '');
}

/** `push: 7 objects, 1.2 KiB (1234 bytes), and 3 run-cache entries uploaded in 0.41 s; 2 objects already on the remote` */
export function summary(verb: string, moved: string, there: string, r: TransferReport): string {
  const bytes = r.objects.bytes + r.runs.bytes;
  return `${verb}: ${plural(r.objects.moved, 'object', 'objects')} and ${plural(r.runs.moved, 'run-cache entry', 'run-cache entries')}, ${formatBytes(bytes)}, ${moved} in ${r.seconds.toFixed(2)} s; ${plural(r.objects.alreadyThere, 'object', 'objects')} ${there}`;
}
