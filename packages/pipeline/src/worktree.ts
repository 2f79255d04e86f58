/**
 * Git worktrees for queue workers: each job runs in a worktree of the worker's checkout at the
 * experiment's commit, under `.pipeline/worker/`, sharing the checkout's installed packages and its
 * content cache and run-cache, so one checkout serves jobs of any commit and any number at once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { PipelineError } from './errors.ts';
import { pidAlive } from './runlock.ts';

/** Where a worker keeps its jobs' worktrees, relative to the root. */
export const WORKTREES_DIR = '.pipeline/worker';
/** Written in each worktree: the worker's pid, so a later worker can tell an abandoned one. */
const OWNER_FILE = '.pipeline/worker-pid';

function git(root: string, args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new PipelineError(`git ${args.join(' ')}: ${(err.stderr || err.message).trim().split('\n').pop()}`);
  }
}

function hasCommit(root: string, commit: string): boolean {
  try {
    execFileSync('git', ['cat-file', '-e', `${commit}^{commit}`], { cwd: root, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Make `commit` available in the checkout at `root`, fetching from its remotes when it is missing. */
export function ensureCommit(root: string, commit: string): void {
  if (hasCommit(root, commit)) return;
  const remotes = git(root, ['remote']).split('\n').filter(Boolean);
  for (const r of remotes) {
    try {
      git(root, ['fetch', '--quiet', r]);
    } catch {
      /* try the next remote */
    }
    if (hasCommit(root, commit)) return;
  }
  throw new PipelineError(
    `commit ${commit.slice(0, 10)} is not in this worker's repository${remotes.length ? ` nor in its git remotes (${remotes.join(', ')})` : ' (it has no git remote)'}: push the commit where the workers fetch from`,
  );
}

/**
 * `<wt>/node_modules` as a folder of links into `<root>/node_modules`: a package folder is linked
 * by absolute path, a link (an npm workspace package, a `.bin` entry) is copied as the same
 * relative text, so `@ser/x` and the CLIs resolve to the worktree's own packages at its commit.
 */
export function linkNodeModules(root: string, wt: string, rel = 'node_modules'): void {
  const from = path.join(root, rel);
  if (!fs.existsSync(from)) return;
  const to = path.join(wt, rel);
  fs.mkdirSync(to, { recursive: true });
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, e.name);
    const dst = path.join(to, e.name);
    if (e.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(src), dst);
    else if (e.isDirectory() && (e.name.startsWith('@') || e.name === '.bin')) linkNodeModules(root, wt, path.join(rel, e.name));
    else fs.symlinkSync(src, dst);
  }
}

/**
 * A new worktree of `root` at `commit` in `dir` (absolute), with the packages, the content cache
 * and the run-cache of `root` shared, and the worker's pid recorded.
 */
export function addWorktree(root: string, dir: string, commit: string): void {
  ensureCommit(root, commit);
  git(root, ['worktree', 'add', '--detach', '--force', dir, commit]);
  linkNodeModules(root, dir);
  const base = path.join(root, '.pipeline');
  fs.mkdirSync(path.join(dir, '.pipeline'), { recursive: true });
  for (const shared of ['cache', 'runs']) {
    fs.mkdirSync(path.join(base, shared), { recursive: true });
    fs.symlinkSync(path.join(base, shared), path.join(dir, '.pipeline', shared));
  }
  fs.writeFileSync(path.join(dir, OWNER_FILE), `${process.pid}\n`);
}

/** Remove a worktree (its links only: the shared cache and packages stay). */
export function removeWorktree(root: string, dir: string): void {
  try {
    git(root, ['worktree', 'remove', '--force', dir]);
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
    git(root, ['worktree', 'prune']);
  }
}

/** Remove the worktrees that a worker on this machine left behind when it died. Returns their names. */
export function removeAbandonedWorktrees(root: string): string[] {
  const dir = path.join(root, WORKTREES_DIR);
  if (!fs.existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of fs.readdirSync(dir)) {
    const wt = path.join(dir, name);
    const pid = Number.parseInt(fs.existsSync(path.join(wt, OWNER_FILE)) ? fs.readFileSync(path.join(wt, OWNER_FILE), 'utf8') : '', 10);
    if (Number.isInteger(pid) && pidAlive(pid)) continue;
    removeWorktree(root, wt);
    removed.push(name);
  }
  return removed;
}
