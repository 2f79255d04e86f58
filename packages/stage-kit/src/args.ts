// Command-line flags: `--flag value`, `--flag=value`, boolean `--flag`; unknown or missing flags
// are a UserError naming the flag. `--help` prints the usage built from the same spec.
import { UserError } from './errors.ts';

export interface FlagSpec {
  type: 'string' | 'boolean';
  required?: boolean;
  default?: string | boolean;
  /** One line for `--help`. */
  desc?: string;
  /** What the value is, shown as `--flag <arg>` (default `value`). */
  arg?: string;
}
export type ArgSpec = Record<string, FlagSpec>;

export interface ParseOptions {
  /** Names for positional arguments, in order (e.g. `['command', 'wav']`); missing ones are absent. */
  positionals?: string[];
  /** Program name, with its subcommand if any (`ser-ingest download`), for errors and `--help`. */
  prog?: string;
  /** One line under the usage: what the command does. */
  summary?: string;
  /**
   * Every command of the program, full name -> one line (e.g. `{ 'ser-ingest': 'the stage',
   * 'ser-ingest download': 'fetch the corpus' }`), listed by each one's `--help`.
   */
  commands?: Record<string, string>;
  /** Complete example command lines for `--help`. */
  examples?: string[];
}

/** The flag every stage CLI accepts besides its spec (see loadStageParams). */
const PROFILE_FLAG: FlagSpec = { type: 'string', arg: 'name', desc: 'params overlay params.<name>.yaml when run without the engine' };
const HELP_FLAG: FlagSpec = { type: 'boolean', desc: 'print this help and exit' };

function flagSynopsis(name: string, f: FlagSpec): string {
  return f.type === 'string' ? `--${name} <${f.arg ?? 'value'}>` : `--${name}`;
}

/** `name<pad>text` lines with the texts aligned in one column. */
function twoColumns(rows: [string, string][], indent = '  '): string[] {
  const width = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => (b ? `${indent}${a.padEnd(width)}  ${b}` : `${indent}${a}`));
}

/**
 * Usage text built from the spec: a synopsis (`usage: <prog> <positionals> <required flags>
 * [flags]`), the summary, the program's commands, every flag with its description, required
 * mark and default, and the examples.
 */
export function usage(spec: ArgSpec, opts: ParseOptions = {}): string {
  const prog = opts.prog ?? 'stage';
  const synopsis = [
    prog,
    ...(opts.positionals ?? []).map((p) => `[${p}]`),
    ...Object.entries(spec)
      .filter(([, f]) => f.required)
      .map(([n, f]) => flagSynopsis(n, f)),
    '[flags]',
  ];
  const lines = [`usage: ${synopsis.join(' ')}`];
  if (opts.summary) lines.push('', opts.summary);
  const commands = Object.entries(opts.commands ?? {});
  if (commands.length > 0) {
    lines.push('', 'commands (each has its own --help):');
    lines.push(...twoColumns(commands));
  }
  const flags: [string, string][] = Object.entries({ ...spec, profile: PROFILE_FLAG, help: HELP_FLAG }).map(([name, f]) => {
    const extra = [f.required ? 'required' : '', f.default !== undefined ? `default ${JSON.stringify(f.default)}` : ''].filter(Boolean).join(', ');
    return [flagSynopsis(name, f), [f.desc ?? '', extra ? `(${extra})` : ''].filter(Boolean).join(' ')];
  });
  lines.push('', 'flags:', ...twoColumns(flags));
  if (opts.examples?.length) lines.push('', 'examples:', ...opts.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

/**
 * Parses `argv` (without node and script) against `spec`. Result keys are the flag names as in
 * the spec (`out-dir`), plus named positionals. `--profile <name>` is always accepted (it selects
 * the params overlay, see loadStageParams) and returned as `profile` when given. `--help` prints
 * the usage and exits 0.
 */
export function parseArgs(argv: string[], spec: ArgSpec, opts: ParseOptions = {}): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  const all: ArgSpec = { profile: PROFILE_FLAG, ...spec };
  const positionals: string[] = [];
  const prog = opts.prog ? `${opts.prog}: ` : '';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      process.stdout.write(usage(spec, opts) + '\n');
      process.exit(0);
    }
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const f = all[name];
    if (!f) throw new UserError(`${prog}unknown flag --${name} (known: ${Object.keys(spec).map((k) => `--${k}`).join(', ')})`);
    if (name in out) throw new UserError(`${prog}flag --${name} given twice`);
    if (f.type === 'boolean') {
      if (eq >= 0) {
        const v = a.slice(eq + 1);
        if (v !== 'true' && v !== 'false') throw new UserError(`${prog}flag --${name} takes true or false, got ${JSON.stringify(v)}`);
        out[name] = v === 'true';
      } else out[name] = true;
    } else if (eq >= 0) {
      out[name] = a.slice(eq + 1);
    } else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new UserError(`${prog}flag --${name} needs a value`);
      out[name] = v;
      i++;
    }
  }
  const names = opts.positionals ?? [];
  if (positionals.length > names.length) {
    throw new UserError(`${prog}unexpected argument ${JSON.stringify(positionals[names.length])}`);
  }
  positionals.forEach((v, i) => (out[names[i]!] = v));
  for (const [name, f] of Object.entries(spec)) {
    if (!(name in out)) {
      if (f.default !== undefined) out[name] = f.default;
      else if (f.required) throw new UserError(`${prog}missing required flag --${name}`);
    }
  }
  return out;
}
