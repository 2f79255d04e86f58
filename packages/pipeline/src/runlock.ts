/**
 * `.pipeline/repro.lock`: one repro per workspace; a lock left by a dead pid is taken over. An
 * experiment holds its own (`.pipeline/exps/<name>/repro.lock`), so experiments and the
 * workspace's repro run side by side.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PipelineError } from './errors.ts';

/** Whether process `pid` exists on this machine (EPERM: it does, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryAcquire(file: string): number | undefined {
  try {
    fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
    return undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
  if (Number.isFinite(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) return pid;
  // Stale (dead pid or garbage): replace it via rename so two takers cannot both win silently.
  const tmp = `${file}.${process.pid}`;
  fs.writeFileSync(tmp, `${process.pid}\n`);
  fs.renameSync(tmp, file);
  const now = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
  return now === process.pid ? undefined : now;
}

export const RUN_LOCK_FILE = 'repro.lock';

/** The pid holding the run lock in `dir` (absolute), when a live process holds it. */
export function runLockHolder(dir: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(path.join(dir, RUN_LOCK_FILE), 'utf8'), 10);
    return Number.isFinite(pid) && pid > 0 && pidAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Take the run lock in `dir` (default `<root>/.pipeline`) or throw (or poll every 200 ms with
 * `wait`). Returns the release function.
 */
export async function acquireRunLock(root: string, wait: boolean, onWait?: (pid: number) => void, dir = path.join(root, '.pipeline')): Promise<() => void> {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, RUN_LOCK_FILE);
  const shown = path.relative(root, file);
  let told = false;
  for (;;) {
    const holder = tryAcquire(file);
    if (holder === undefined) break;
    if (!wait) {
      throw new PipelineError(`another repro (pid ${holder}) is running on this workspace (${shown}); wait for it or pass --wait`);
    }
    if (!told) onWait?.(holder);
    told = true;
    await new Promise((r) => setTimeout(r, 200));
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    try {
      if (Number.parseInt(fs.readFileSync(file, 'utf8'), 10) === process.pid) fs.rmSync(file);
    } catch {
      /* already gone */
    }
  };
  process.once('exit', release);
  return release;
}
