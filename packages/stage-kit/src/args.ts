// Command-line flags: `--flag value`, `--flag=value`, boolean `--flag`; unknown or missing flags
// are a UserError naming the flag.
import { UserError } from './errors.ts';

export interface FlagSpec {
  type: 'string' | 'boolean';
  required?: boolean;
  default?: string | boolean;
  desc?: string;
}
export type ArgSpec = Record<string, FlagSpec>;

export interface ParseOptions {
  /** Names for positional arguments, in order (e.g. `['command', 'wav']`); missing ones are absent. */
  positionals?: string[];
  /** Program name for error messages and `--help`. */
  prog?: string;
}

/** Usage text built from the spec. */
export function usage(spec: ArgSpec, opts: ParseOptions = {}): string {
  const lines = [`usage: ${opts.prog ?? 'stage'} ${(opts.positionals ?? []).map((p) => `[${p}]`).join(' ')}`.trimEnd()];
  for (const [name, f] of Object.entries(spec)) {
    const arg = f.type === 'string' ? ` <value>` : '';
    const extra = [f.required ? 'required' : '', f.default !== undefined ? `default ${JSON.stringify(f.default)}` : '']
      .filter(Boolean)
      .join(', ');
    lines.push(`  --${name}${arg}${f.desc ? `  ${f.desc}` : ''}${extra ? ` (${extra})` : ''}`);
  }
  lines.push('  --profile <name>  params overlay params.<name>.yaml when run without the engine');
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
  const all: ArgSpec = { profile: { type: 'string' }, ...spec };
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
