// Every stage CLI's --help, run through its real bin: the program's own name, every flag it
// accepts with a description, its other commands, and an example command line.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { usage } from '../src/index.ts';

const ROOT = resolve(import.meta.dirname, '../../..');

interface Cli {
  /** bin path relative to the repository root, then the arguments before --help */
  argv: string[];
  /** the program name the usage line must start with */
  prog: string;
  flags: string[];
  /** other commands of the same program that the help must list */
  commands?: string[];
}

const CLIS: Cli[] = [
  { argv: ['packages/generate/bin/ser-generate.mjs'], prog: 'ser-generate', flags: ['out'] },
  { argv: ['packages/ingest/bin/ser-ingest.mjs'], prog: 'ser-ingest', flags: ['data-dir', 'out', 'report'], commands: ['ser-ingest download'] },
  {
    argv: ['packages/ingest/bin/ser-ingest.mjs', 'download'],
    prog: 'ser-ingest download',
    flags: ['data-dir', 'url', 'md5', 'keep-zip', 'attempts'],
    commands: ['ser-ingest'],
  },
  { argv: ['packages/segment/bin/ser-segment.mjs'], prog: 'ser-segment', flags: ['in', 'out'] },
  { argv: ['packages/split/bin/ser-split.mjs'], prog: 'ser-split', flags: ['in', 'out'] },
  { argv: ['packages/augment/bin/ser-augment.mjs'], prog: 'ser-augment', flags: ['in', 'split', 'out-dir'] },
  { argv: ['packages/features/bin/ser-features.mjs', 'stage'], prog: 'ser-features stage', flags: ['in-dir', 'out-dir'], commands: ['ser-features <wav>'] },
  {
    argv: ['packages/features/bin/ser-features.mjs'],
    prog: 'ser-features',
    flags: ['out', 'offset', 'duration', 'sample-rate', 'n-fft', 'win-length', 'hop-length', 'n-mels', 'fmin', 'fmax', 'ref', 'amin', 'top-db'],
    commands: ['ser-features stage'],
  },
  { argv: ['packages/model/bin/ser-model.mjs'], prog: 'ser-model', flags: ['out-dir'], commands: ['ser-model backends'] },
  { argv: ['packages/model/bin/ser-model.mjs', 'backends'], prog: 'ser-model backends', flags: ['json', 'size'], commands: ['ser-model'] },
  { argv: ['packages/train/bin/ser-train.mjs'], prog: 'ser-train', flags: ['features', 'init', 'out-dir', 'scratch'] },
  { argv: ['packages/evaluate/bin/ser-evaluate.mjs'], prog: 'ser-evaluate', flags: ['features', 'model', 'out-dir'] },
  { argv: ['packages/predict/bin/ser-predict.mjs'], prog: 'ser-predict', flags: ['model', 'json', 'windows', 'hop', 'strict', 'backend'] },
];

function run(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, argv, { cwd: ROOT, env: { ...process.env, PIPELINE_PARAMS: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The text after `--flag` (and its `<arg>`) on the flag's own help line, or undefined. */
function flagDescription(help: string, flag: string): string | undefined {
  const line = help.split('\n').find((l) => new RegExp(`^\\s+--${flag}(\\s|$)`).test(l));
  return line?.replace(new RegExp(`^\\s+--${flag}(\\s+<[^>]*>)?`), '').trim();
}

describe('usage()', () => {
  const help = usage(
    { in: { type: 'string', required: true, arg: 'file', desc: 'input' }, n: { type: 'string', default: '3', desc: 'count' }, quiet: { type: 'boolean', desc: 'no output' } },
    { prog: 'ser-x run', positionals: ['wav'], summary: 'Does x.', commands: { 'ser-x run': 'run x', 'ser-x other': 'other x' }, examples: ['ser-x run a.wav --in b'] },
  );

  it('starts with the program, its positionals and required flags', () => {
    expect(help.split('\n')[0]).toBe('usage: ser-x run [wav] --in <file> [flags]');
  });

  it('lists every flag with its description, required mark and default, plus --profile and --help', () => {
    expect(flagDescription(help, 'in')).toBe('input (required)');
    expect(flagDescription(help, 'n')).toBe('count (default "3")');
    expect(flagDescription(help, 'quiet')).toBe('no output');
    expect(flagDescription(help, 'profile')).toMatch(/params\.<name>\.yaml/);
    expect(flagDescription(help, 'help')).toMatch(/help/);
  });

  it('lists the commands, the summary and the examples', () => {
    expect(help).toContain('\nDoes x.\n');
    expect(help).toMatch(/\n {2}ser-x other +other x\n/);
    expect(help).toMatch(/\nexamples:\n {2}ser-x run a\.wav --in b$/);
  });
});

describe('every stage CLI prints a full --help', () => {
  for (const cli of CLIS) {
    it(`${cli.prog} --help`, async () => {
      const r = await run([...cli.argv, '--help']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const help = r.stdout;
      expect(help.startsWith(`usage: ${cli.prog} `)).toBe(true);
      for (const flag of cli.flags) {
        const desc = flagDescription(help, flag);
        expect(desc, `--${flag} is listed`).toBeDefined();
        expect(desc!.length, `--${flag} has a description`).toBeGreaterThan(3);
      }
      for (const command of cli.commands ?? []) expect(help).toMatch(new RegExp(`\\n\\s+${command.replace(/[<>]/g, '.')}\\s`));
      // An example: a line under `examples:` that runs this very program.
      const examples = help.split(/\nexamples?:\n/)[1] ?? '';
      expect(examples.split('\n').some((l) => l.trim().startsWith(`${cli.prog.split(' ')[0]} `))).toBe(true);
    });
  }
});
