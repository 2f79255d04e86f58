import fs from 'node:fs';
import path from 'node:path';
import { PipelineError } from './errors.ts';
import type { Json } from './params.ts';
import { nearest } from './params-schema.ts';
import { runLockHolder } from './runlock.ts';

/**
 * Experiments on disk: one folder per experiment under EXPS_DIR holding exp.json (its ExpRecord),
 * its lock, its artifacts root and its staging/scratch dirs. This module only reads and writes
 * records; running them is exp.ts's job, so readers (exp show, plots) depend on nothing else.
 */

/** One folder per experiment: .pipeline/exps/<name>/. */
export const EXPS_DIR = '.pipeline/exps';
/** The record inside an experiment's folder. */
export const EXP_RECORD_FILE = 'exp.json';

export type ExpStatus = 'queued' | 'running' | 'done' | 'failed';

export interface ExpRecord {
  /** Unique, matches EXP_NAME_PATTERN. */
  name: string;
  status: ExpStatus;
  /** 'default', 'demo', 'a+b'. */
  profile: string;
  /** git HEAD when it ran (null outside a git repo). */
  baseCommit: string | null;
  /** Dotted key -> value from -S (and `seed` from --seeds). */
  overrides: Record<string, Json>;
  /** The full effective params, flattened to dotted keys. */
  params: Record<string, Json>;
  /**
   * Each metrics file of the run: its path as pipeline.yaml writes it, with ${artifacts} left
   * unexpanded (e.g. '${artifacts}/evaluate/metrics.json') -> parsed JSON.
   */
  metrics: Record<string, Json>;
  /** The experiment's folder, relative to the repo root. */
  workspace: string;
  /** What ${artifacts} resolved to for this experiment, relative to the root. */
  artifacts: string;
  /** Its lock file, relative to the root. */
  lockFile: string;
  /** ISO time (experiment records may hold times; locks never do). */
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  durationS?: number;
  /** Stage -> 'ran' | 'cached' | 'restored' | 'run-cache' | 'failed' | 'skipped'. */
  outcomes?: Record<string, string>;
  error?: string;
  /** Who ran it (host:pid). */
  worker?: string;
  /** Cores the queue reserves for it (max(1, train.workers), `auto` = all cores). */
  cores?: number;
}

export const EXP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** The folder of experiment `name`, relative to the root. */
export function expWorkspace(name: string): string {
  return `${EXPS_DIR}/${name}`;
}

/** Absolute path of an experiment's exp.json. */
export function expRecordPath(root: string, name: string): string {
  return path.join(root, expWorkspace(name), EXP_RECORD_FILE);
}

/** Names of the experiment folders that hold a record (no order). */
export function experimentNames(root: string): string[] {
  const dir = path.join(root, EXPS_DIR);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(dir, e.name, EXP_RECORD_FILE)))
    .map((e) => e.name);
}

/** Every experiment (optionally of one profile), sorted by createdAt, then name. */
export function listExperiments(root: string, opts: { profile?: string } = {}): ExpRecord[] {
  return experimentNames(root)
    .map((name) => readExperiment(root, name))
    .filter((r) => opts.profile === undefined || r.profile === opts.profile)
    .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The record of experiment `name`; a PipelineError naming it (and the nearest name) when missing or unreadable. */
export function readExperiment(root: string, name: string): ExpRecord {
  const file = expRecordPath(root, name);
  if (!fs.existsSync(file)) {
    const near = EXP_NAME_PATTERN.test(name) ? nearest(name, experimentNames(root)) : undefined;
    throw new PipelineError(`experiment '${name}' not found${near ? ` (did you mean ${near}?)` : ''}`);
  }
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ExpRecord;
  } catch (e) {
    throw new PipelineError(`${path.relative(root, file)}: unreadable experiment record: ${(e as Error).message}`);
  }
}

/** Writes a record atomically (temp file + rename), creating its folder. */
export function writeExperiment(root: string, record: ExpRecord): void {
  const file = expRecordPath(root, record.name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(record, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

/** The lock files of every experiment that has one, relative to the root (gc keeps what they reference). */
export function experimentLockFiles(root: string): string[] {
  return experimentNames(root)
    .sort()
    .map((name) => readExperiment(root, name).lockFile)
    .filter((f) => fs.existsSync(path.join(root, f)));
}

/** Experiments whose repro holds its run lock now (a live pid), by name. */
export function runningExperiments(root: string): { name: string; pid: number }[] {
  return experimentNames(root).flatMap((name) => {
    const pid = runLockHolder(path.join(root, expWorkspace(name)));
    return pid === undefined ? [] : [{ name, pid }];
  });
}
