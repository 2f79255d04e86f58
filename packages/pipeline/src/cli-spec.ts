/**
 * The shapes of ser-pipeline's command table (cli.ts) and of its parsed arguments, shared by the
 * modules that contribute commands (exp-cli.ts, plots-cli.ts, remote-cli.ts). Types only: cli.ts
 * runs on import, so the command modules cannot import it.
 */
export interface FlagSpec {
  name: string;
  short?: string;
  /** Placeholder of the flag's value; absent for a switch. */
  value?: string;
  help: string;
}

export interface CommandSpec {
  /** Argument synopsis after the command name. */
  args: string;
  summary: string;
  flags: FlagSpec[];
  examples: string[];
}

export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}
