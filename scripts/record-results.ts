// Copies a finished profile run's small result files into results/<profile>/seed-<seed>/ for
// committing: evaluate and train metrics, the training history, and run.json (command, commit,
// backend as the metrics record it, the sha256 of every param that reached any stage, the params
// themselves, wall time, and the machine it is recorded on: run it where the run ran). Never audio
// or features.
//
//   npx tsx scripts/record-results.ts <profile> --command "<what was run>" --wall-s <seconds>
//       [--commit <rev>] [--root <workspace>] [--train-s <seconds>]
// --commit: the revision the run started from (default: HEAD of --root).
// --root: the workspace that ran it (default: this one), e.g. a worktree made by scripts/seeds.sh.
// --train-s: seconds the train stage took, when known.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lockFileName, lockParamsDigest, readLock } from '@ser/pipeline';
import { backendFacts, machineFacts } from './run-facts.ts';

function fail(msg: string): never {
  process.stderr.write(`record-results: ${msg}\n`);
  process.exit(1);
}

const [profile, ...rest] = process.argv.slice(2);
if (!profile || profile.startsWith('--')) fail('usage: record-results <profile> --command "<cmd>" --wall-s <seconds> [--root <dir>] [--commit <rev>]');
const optional = (name: string): string | undefined => {
  const i = rest.indexOf(`--${name}`);
  return i < 0 ? undefined : rest[i + 1];
};
const seconds = (name: string, required: boolean): number | undefined => {
  const v = optional(name);
  if (v === undefined) return required ? fail(`--${name} is required`) : undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) fail(`--${name} must be a positive number of seconds, got '${v}'`);
  return n;
};
const command = optional('command') ?? fail('--command is required');
const wallS = seconds('wall-s', true);
const trainS = seconds('train-s', false);
const root = resolve(optional('root') ?? '.');

const artifacts = join(root, profile === 'default' ? 'artifacts' : join('artifacts', profile));
const files: [string, string][] = [
  [join(artifacts, 'evaluate', 'metrics.json'), 'evaluate-metrics.json'],
  [join(artifacts, 'train', 'metrics.json'), 'train-metrics.json'],
  [join(artifacts, 'train', 'history.json'), 'history.json'],
];
for (const [from] of files) if (!existsSync(from)) fail(`${from} is missing: run the profile to the end first`);

const lockFile = lockFileName('pipeline.yaml', profile);
if (!existsSync(join(root, lockFile))) fail(`${join(root, lockFile)} is missing`);
const lock = readLock(root, lockFile);
if (!lock['evaluate']) fail(`${lockFile} has no evaluate stage: run the profile to the end first`);
const digest = lockParamsDigest(lock);

const evaluate = JSON.parse(readFileSync(files[0]![0], 'utf8')) as Record<string, unknown>;
const trainMetrics = JSON.parse(readFileSync(files[1]![0], 'utf8')) as Record<string, unknown>;
let backend;
try {
  backend = backendFacts(evaluate, trainMetrics);
} catch (e) {
  fail(`${artifacts}: ${(e as Error).message}`);
}
const seed = evaluate['seed'];
const out = join('results', profile, `seed-${String(seed)}`);
mkdirSync(out, { recursive: true });
for (const [from, to] of files) copyFileSync(from, join(out, to));

const git = (...args: string[]) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' }).trim();
const run = {
  profile,
  command,
  commit: git('rev-parse', optional('commit') ?? 'HEAD'),
  seed,
  ...backend,
  accuracy: evaluate['accuracy'],
  macro_f1: (evaluate['macro'] as { f1?: number } | undefined)?.f1,
  wall_time_s: wallS,
  ...(trainS !== undefined ? { train_time_s: trainS } : {}),
  machine: machineFacts(),
  params_sha256: digest.sha256,
  params: digest.params,
};
writeFileSync(join(out, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
process.stdout.write(`${out}: ${files.map(([, to]) => to).join(', ')}, run.json (accuracy ${String(evaluate['accuracy'])})\n`);
