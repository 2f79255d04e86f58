/** Runs a stage's command: `sh -c` at the repository root, output prefixed `[stage] ` line by line. */
import path from 'node:path';
import { spawn } from 'node:child_process';

/** Lines from a stream, each prefixed; `\r` progress updates become lines too. */
function pipeLines(stream: NodeJS.ReadableStream, prefix: string, write: (s: string) => void) {
  let buf = '';
  stream.setEncoding?.('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    const parts = buf.split(/\r\n|\n|\r/);
    buf = parts.pop()!;
    for (const line of parts) if (line.length) write(`${prefix}${line}\n`);
  });
  stream.on('end', () => {
    if (buf.length) write(`${prefix}${buf}\n`);
    buf = '';
  });
}

/** Process groups of the running stage commands: Ctrl-C / SIGTERM stops them with the engine. */
const children = new Set<number>();
let signalsHooked = false;
function hookSignals() {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      for (const pid of children) {
        try {
          process.kill(-pid, 'SIGTERM');
        } catch {
          /* gone */
        }
      }
      process.exit(130);
    });
  }
}

export interface ShellRun {
  root: string;
  stage: string;
  /** `PIPELINE_PROFILE`: the profile name, empty for the default profile. */
  profile: string;
  cmd: string;
  /** `PIPELINE_SCRATCH`: survives a failed run with the same inputs. */
  scratch: string;
  /** `PIPELINE_PARAMS`: the stage's declared params, nested. */
  params: object;
}

/** Exit code of the command (127 when `sh` cannot start, 128 when killed by a signal). */
export function runShell({ root, stage, profile, cmd, scratch, params }: ShellRun): Promise<number> {
  const bin = path.join(root, 'node_modules', '.bin');
  const env = {
    ...process.env,
    PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`,
    PIPELINE_PARAMS: JSON.stringify(params),
    PIPELINE_SCRATCH: scratch,
    PIPELINE_STAGE: stage,
    PIPELINE_PROFILE: profile,
  };
  hookSignals();
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', cmd], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (child.pid) children.add(child.pid);
    pipeLines(child.stdout!, `[${stage}] `, (l) => process.stdout.write(l));
    pipeLines(child.stderr!, `[${stage}] `, (l) => process.stderr.write(l));
    child.on('error', () => resolve(127));
    child.on('close', (code, signal) => {
      if (child.pid) children.delete(child.pid);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}
