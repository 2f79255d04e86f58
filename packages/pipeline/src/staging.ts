/**
 * Where a running stage writes: its out tokens in `cmd` point into
 * `.pipeline/staging/<stage>.<pid>/`, and its scratch folder (`PIPELINE_SCRATCH`) lives under
 * `.pipeline/scratch/<stage>/<run key prefix>/` until the stage succeeds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { allOuts, outToken, tokenRegex, type Stage } from './parse.ts';

/**
 * Staging folder of one stage in this process, relative to the repository root (posix), under
 * `stagingRel` (`.pipeline/staging`, or an experiment's own).
 */
export function stagingDirOf(stage: string, pid = process.pid, stagingRel = '.pipeline/staging'): string {
  return path.posix.join(stagingRel, `${stage}.${pid}`);
}

/**
 * Rewrite every out token in cmd (the out, or its `--out-dir` parent) to its staging path.
 * Longer tokens first, so `out/a/b` is rewritten before `out/a` could match its prefix.
 */
export function stageCmd(s: Stage, stagingRel: string): { cmd: string; tokens: string[] } {
  const tokens = [...new Set(allOuts(s).map((o) => outToken(s.cmd, o, s.deps)!))].sort((a, b) => b.length - a.length);
  let cmd = s.cmd;
  for (const t of tokens) cmd = cmd.replace(tokenRegex(t, 'g'), (_m, pre: string) => `${pre}${stagingRel}/${t}`);
  return { cmd, tokens };
}

/** True when `dir` holds at least one file (at any depth): something a rerun could resume from. */
export function hasFiles(dir: string): boolean {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  return entries.some((e) => !e.isDirectory() || hasFiles(path.join(dir, e.name)));
}

/**
 * A stage's scratch folder (`.pipeline/scratch/<stage>`): drop the fingerprint folders with
 * nothing to resume (left by a failed or killed run that wrote nothing there), then the stage
 * folder itself when it is empty. Folders holding files stay for a resume.
 */
export function removeEmptyScratch(stageDir: string): void {
  if (!fs.existsSync(stageDir)) return;
  for (const d of fs.readdirSync(stageDir)) {
    const abs = path.join(stageDir, d);
    if (!hasFiles(abs)) fs.rmSync(abs, { recursive: true, force: true });
  }
  try {
    fs.rmdirSync(stageDir);
  } catch {
    /* a fingerprint with something to resume is still there */
  }
}

/** Remove staging dirs left by dead repro processes (their orphans cannot touch live paths). */
export function cleanStaging(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const d of fs.readdirSync(dir)) {
    const pid = Number(d.split('.').pop());
    let live = false;
    try {
      process.kill(pid, 0);
      live = pid !== process.pid;
    } catch {
      live = false;
    }
    if (!live) fs.rmSync(path.join(dir, d), { recursive: true, force: true });
  }
}
