// Copies a finished profile run's small result files into results/<profile>/ for committing:
// evaluate and train metrics, the training history, and run.json (command, commit, backend,
// params hash, wall time). Never audio or features.
//
//   npx tsx scripts/record-results.ts <profile> --command "<what was run>" --wall-s <seconds> [--commit <rev>]
// --commit: the revision the run started from (default HEAD).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function fail(msg: string): never {
  process.stderr.write(`record-results: ${msg}\n`);
  process.exit(1);
}

const [profile, ...rest] = process.argv.slice(2);
if (!profile || profile.startsWith('--')) fail('usage: record-results <profile> --command "<cmd>" --wall-s <seconds>');
const optional = (name: string): string | undefined => {
  const i = rest.indexOf(`--${name}`);
  return i < 0 ? undefined : rest[i + 1];
};
const flag = (name: string): string => {
  const i = rest.indexOf(`--${name}`);
  if (i < 0 || rest[i + 1] === undefined) fail(`--${name} is required`);
  return rest[i + 1]!;
};
const command = flag('command');
const wallS = Number(flag('wall-s'));
if (!Number.isFinite(wallS) || wallS <= 0) fail(`--wall-s must be a positive number of seconds`);

const root = profile === 'default' ? 'artifacts' : join('artifacts', profile);
const files: [string, string][] = [
  [join(root, 'evaluate', 'metrics.json'), 'evaluate-metrics.json'],
  [join(root, 'train', 'metrics.json'), 'train-metrics.json'],
  [join(root, 'train', 'history.json'), 'history.json'],
];
for (const [from] of files) if (!existsSync(from)) fail(`${from} is missing: run the profile to the end first`);

const out = join('results', profile);
mkdirSync(out, { recursive: true });
for (const [from, to] of files) copyFileSync(from, join(out, to));

const evaluate = JSON.parse(readFileSync(files[0]![0], 'utf8')) as Record<string, unknown>;
const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
const run = {
  profile,
  command,
  commit: git('rev-parse', optional('commit') ?? 'HEAD'),
  backend: evaluate.backend,
  seed: evaluate.seed,
  params_hash: evaluate.params_hash,
  accuracy: evaluate.accuracy,
  wall_time_s: wallS,
  machine: '2 CPU cores, no GPU',
};
writeFileSync(join(out, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
process.stdout.write(`results/${profile}: ${files.map(([, to]) => to).join(', ')}, run.json (accuracy ${String(evaluate.accuracy)})\n`);
