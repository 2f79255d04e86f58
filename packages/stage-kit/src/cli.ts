// The process edge of every stage CLI: run main, report errors the way the engine expects.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isUserError } from './errors.ts';

/**
 * Runs `main(argv)`. A user error (UserError, ParamError, or any error with `userError: true`)
 * prints `error: <message>` as ONE line on stderr; anything else prints its stack. Both exit 1.
 */
export async function runCli(main: (argv: string[]) => unknown | Promise<unknown>, argv: string[] = process.argv.slice(2)): Promise<void> {
  try {
    await main(argv);
  } catch (e) {
    if (isUserError(e)) {
      process.stderr.write(`error: ${e.message.replace(/\s*\n\s*/g, ' ')}\n`);
    } else {
      process.stderr.write(`internal error (a bug, please report): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    }
    process.exit(1);
  }
}

/**
 * Writes a file atomically: mkdir -p, write `<path>.tmp-<pid>`, rename. A failure leaves no
 * file at `path`.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** JSON with 2-space indent and a final newline, written atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}
