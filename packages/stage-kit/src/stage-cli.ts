// The CLI edge of a stage in one call: each input and output role of its StageArgs is a required
// path flag, parsed, then the stage runs with the params the engine passed (loadStageParams).
import { parseArgs, type ArgSpec, type ParseOptions } from './args.ts';
import { runCli } from './cli.ts';
import { loadStageParams } from './params.ts';
import type { StageArgs } from './stage.ts';

/** A path role's flag: `--<flag>` (default: the role's name), a file or a folder, one help line. */
export interface PathFlag {
  flag?: string;
  arg: 'file' | 'dir';
  desc: string;
}

export interface StageCliSpec<I extends string, O extends string> extends ParseOptions {
  inputs: Record<I, PathFlag>;
  outputs: Record<O, PathFlag>;
  /** Flags besides the paths (optional ones, e.g. train's --scratch), after them in --help. */
  extra?: ArgSpec;
}

/**
 * `ser-<stage> --<input> <path> ... --<output> <path> ...`: parses argv (`--help` included), then
 * `run(stageArgs, flags)` with every flag's value (the extras too); errors as runCli reports them.
 */
export function runStageCli<I extends string, O extends string>(
  spec: StageCliSpec<I, O>,
  run: (args: StageArgs<I, O>, flags: Record<string, string | boolean>) => Promise<unknown>,
  argv: string[] = process.argv.slice(2),
): Promise<void> {
  const { inputs, outputs, extra, ...opts } = spec;
  const flagOf = (role: string, f: PathFlag): string => f.flag ?? role;
  const pathFlags = (roles: Record<string, PathFlag>): ArgSpec =>
    Object.fromEntries(Object.entries(roles).map(([role, f]) => [flagOf(role, f), { type: 'string', required: true, arg: f.arg, desc: f.desc }]));
  const paths = <R extends string>(roles: Record<R, PathFlag>, flags: Record<string, string | boolean>): Record<R, string> =>
    Object.fromEntries(Object.entries<PathFlag>(roles).map(([role, f]) => [role, String(flags[flagOf(role, f)])])) as Record<R, string>;
  return runCli(async (args) => {
    const flags = parseArgs(args, { ...pathFlags(inputs), ...pathFlags(outputs), ...extra }, opts);
    await run({ inputs: paths(inputs, flags), outputs: paths(outputs, flags), params: loadStageParams() }, flags);
  }, argv);
}
