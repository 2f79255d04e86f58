/**
 * push / fetch / pull / remote status: what moves between the local cache and a remote.
 *
 * The objects are those of the lock's outs (a directory: its manifest and every file in it) for
 * the selected stages (all by default); run-cache entries (`.pipeline/runs/`) travel as opaque
 * files, by relative path. Each side is listed once; only what the other side lacks moves, so an
 * interrupted push or pull resumes where it stopped. Order matters where a reader could see a
 * partial state: a push uploads a directory's files before its manifest, and objects before
 * run-cache entries; a download is verified, then renamed into place.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PipelineError } from './errors.ts';
import { Cache } from './cache.ts';
import { Hasher, md5File, type FileEntry } from './hash.ts';
import type { Lock, LockedPath } from './lock.ts';
import { nearest } from './params-schema.ts';
import { workDirs } from './runner.ts';
import {
  filesUnder,
  isPlainMd5,
  objectKey,
  OBJECTS_AREA,
  remoteCopyIsWhole,
  runPool,
  RUNS_AREA,
  tempNameFor,
  TransferProgress,
  verifyObject,
  type ProgressOptions,
  type RemoteBackend,
} from './remote.ts';

export interface SyncOptions {
  root: string;
  lock: Lock;
  lockFile: string;
  /** Stage names (a foreach base name selects its items); empty: every stage in the lock. */
  stages: string[];
  /** Transfers at once. */
  jobs: number;
  progress?: ProgressOptions;
}

/** What one push or fetch moved, and what it could not. */
export interface TransferReport {
  objects: { moved: number; bytes: number; alreadyThere: number };
  runs: { moved: number; bytes: number; alreadyThere: number };
  /** Objects the lock names that the source side does not have (out paths, for the message). */
  unavailable: string[];
  seconds: number;
}

/** The lock's outs of the selected stages. */
export function selectedOuts(lock: Lock, lockFile: string, stages: string[]): LockedPath[] {
  const names = Object.keys(lock);
  if (!names.length) throw new PipelineError(`${lockFile} records no stage yet: nothing to transfer (run repro first, or pass the --profile whose lock you mean)`);
  const chosen: string[] = [];
  for (const s of stages) {
    const hits = names.filter((n) => n === s || n.startsWith(`${s}@`));
    if (!hits.length) {
      const near = nearest(s, names);
      throw new PipelineError(`${lockFile}: no stage '${s}'${near ? ` (did you mean '${near}'?)` : ` (stages: ${names.join(', ')})`}`);
    }
    chosen.push(...hits);
  }
  return (stages.length ? [...new Set(chosen)] : names).flatMap((n) => lock[n]!.outs);
}

/** An object the lock needs, and the out it belongs to (for messages). */
interface ObjectRef {
  md5: string;
  out: string;
}

/**
 * Every cache object behind `outs`: files, and for a directory its manifest plus its files.
 * `manifest` reads a directory's entries; a manifest it cannot read is returned in `unexpanded`.
 */
export function objectsOf(outs: LockedPath[], manifest: (md5: string) => FileEntry[] | undefined): { files: ObjectRef[]; manifests: ObjectRef[]; unexpanded: ObjectRef[] } {
  const files = new Map<string, ObjectRef>();
  const manifests = new Map<string, ObjectRef>();
  const unexpanded: ObjectRef[] = [];
  for (const out of outs) {
    if (!out.md5.endsWith('.dir')) {
      files.set(out.md5, { md5: out.md5, out: out.path });
      continue;
    }
    manifests.set(out.md5, { md5: out.md5, out: out.path });
    const entries = manifest(out.md5);
    if (!entries) unexpanded.push({ md5: out.md5, out: out.path });
    for (const e of entries ?? []) if (!files.has(e.md5)) files.set(e.md5, { md5: e.md5, out: `${out.path}/${e.relpath}` });
  }
  return { files: [...files.values()], manifests: [...manifests.values()], unexpanded };
}

/** Run-cache entry files under `runsDir`, by posix relative path (temp files left out). */
export function localRunEntries(runsDir: string): Map<string, number> {
  return filesUnder(runsDir, (name) => /\.tmp(-\d+-[0-9a-f]{8})?$/.test(name));
}

interface Upload {
  key: string;
  fileAbs: string;
  size: number;
  bytesMd5: string;
}

// ------------------------------------------------------------------------------- push

export async function push(remote: RemoteBackend, opts: SyncOptions): Promise<TransferReport> {
  const started = Date.now();
  const dirs = workDirs(opts.root);
  const cache = new Cache(dirs.cache);
  const outs = selectedOuts(opts.lock, opts.lockFile, opts.stages);
  const { files, manifests, unexpanded } = objectsOf(outs, (md5) => cache.readManifest(md5));
  const [remoteObjects, remoteRuns] = await Promise.all([remote.list(OBJECTS_AREA), remote.list(RUNS_AREA)]);

  const unavailable = new Set(unexpanded.map((r) => r.out));
  let alreadyThere = 0;
  const wanted = (refs: ObjectRef[], isManifest: boolean): Upload[] => {
    const res: Upload[] = [];
    for (const ref of refs) {
      const abs = cache.objectPath(ref.md5);
      let size: number;
      try {
        size = fs.statSync(abs).size;
      } catch {
        unavailable.add(ref.out);
        continue;
      }
      const key = objectKey(ref.md5);
      const bytesMd5 = isManifest ? md5File(abs) : ref.md5;
      if (remoteCopyIsWhole(remoteObjects.get(key), size, bytesMd5)) alreadyThere++;
      else res.push({ key: `${OBJECTS_AREA}/${key}`, fileAbs: abs, size, bytesMd5 });
    }
    return res;
  };
  // A directory's files go up before its manifest: whoever sees the manifest can fetch them all.
  const fileUploads = wanted(files, false);
  const manifestUploads = wanted(manifests, true);

  const runUploads: Upload[] = [];
  let runsThere = 0;
  for (const [rel, size] of localRunEntries(dirs.runs)) {
    const abs = path.join(dirs.runs, rel);
    const bytesMd5 = md5File(abs);
    if (remoteCopyIsWhole(remoteRuns.get(rel), size, bytesMd5)) runsThere++;
    else runUploads.push({ key: `${RUNS_AREA}/${rel}`, fileAbs: abs, size, bytesMd5 });
  }

  const phases = [fileUploads, manifestUploads, runUploads];
  const all = phases.flat();
  const progress = new TransferProgress('push', all.length, all.reduce((s, u) => s + u.size, 0), opts.progress);
  for (const phase of phases) {
    const failures = await runPool(phase, opts.jobs, async (u) => {
      await remote.put(u.key, u.fileAbs, u.size, u.bytesMd5);
      progress.done(u.size);
    });
    if (failures.length) {
      progress.clear();
      throw failuresError(failures.map((f) => f.error), 'push');
    }
  }
  progress.clear();
  const objUp = [...fileUploads, ...manifestUploads];
  return {
    objects: { moved: objUp.length, bytes: objUp.reduce((s, u) => s + u.size, 0), alreadyThere },
    runs: { moved: runUploads.length, bytes: runUploads.reduce((s, u) => s + u.size, 0), alreadyThere: runsThere },
    unavailable: [...unavailable],
    seconds: (Date.now() - started) / 1000,
  };
}

function failuresError(errors: Error[], verb: string): PipelineError {
  const first = errors[0]!.message;
  return new PipelineError(errors.length === 1 ? first : `${first} (and ${errors.length - 1} more ${verb} error(s); what transferred stays, run ${verb} again to resume)`);
}

// ------------------------------------------------------------------------------- fetch

interface Download {
  key: string;
  finalAbs: string;
  size: number;
  /** Returns the problem with the downloaded bytes, or undefined when they are right. */
  verify: (tmpAbs: string, etag: string | undefined) => string | undefined;
}

/** Download into a temp name beside the final one, verify, then rename; bad bytes are deleted. */
async function download(remote: RemoteBackend, d: Download, readOnly: boolean): Promise<void> {
  fs.mkdirSync(path.dirname(d.finalAbs), { recursive: true });
  const tmp = tempNameFor(d.finalAbs);
  try {
    const { etag } = await remote.get(d.key, tmp);
    const size = fs.statSync(tmp).size;
    const problem = size !== d.size ? `it has ${size} bytes, the listing said ${d.size}` : d.verify(tmp, etag);
    if (problem) throw new PipelineError(`${remote.label}: ${d.key} is corrupt (${problem}); discarded, nothing stored (push it again from a workspace that has it)`);
    if (readOnly) fs.chmodSync(tmp, 0o444);
    fs.renameSync(tmp, d.finalAbs);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

const verifyAgainst = (md5: string) => (tmp: string) => verifyObject(md5, tmp);
/** A run-cache entry has no name-given hash; an ETag that is a plain md5 is one. */
const verifyByEtag = (tmp: string, etag: string | undefined) => {
  if (!isPlainMd5(etag)) return undefined;
  const got = md5File(tmp);
  return got === etag ? undefined : `its md5 is ${got}, the store's ETag ${etag}`;
};

/** fetch: the objects of the lock's outs and the run-cache entries the local cache lacks; no checkout. */
export async function fetchObjects(remote: RemoteBackend, opts: SyncOptions): Promise<TransferReport> {
  const started = Date.now();
  const dirs = workDirs(opts.root);
  const cache = new Cache(dirs.cache);
  const outs = selectedOuts(opts.lock, opts.lockFile, opts.stages);
  const [remoteObjects, remoteRuns] = await Promise.all([remote.list(OBJECTS_AREA), remote.list(RUNS_AREA)]);
  const unavailable = new Set<string>();
  let alreadyThere = 0;
  const plan = (refs: ObjectRef[]): Download[] => {
    const res: Download[] = [];
    for (const ref of refs) {
      const finalAbs = cache.objectPath(ref.md5);
      if (fs.existsSync(finalAbs)) {
        alreadyThere++;
        continue;
      }
      const entry = remoteObjects.get(objectKey(ref.md5));
      if (!entry) unavailable.add(ref.out);
      else res.push({ key: `${OBJECTS_AREA}/${objectKey(ref.md5)}`, finalAbs, size: entry.size, verify: verifyAgainst(ref.md5) });
    }
    return res;
  };
  const localRuns = localRunEntries(dirs.runs);
  const runDownloads: Download[] = [...remoteRuns].filter(([rel]) => !localRuns.has(rel)).map(([rel, e]) => ({ key: `${RUNS_AREA}/${rel}`, finalAbs: path.join(dirs.runs, rel), size: e.size, verify: verifyByEtag }));

  // Manifests first (they say which files a directory needs), then the files, then run-cache entries.
  const manifestDownloads = plan(objectsOf(outs, () => []).manifests);
  let moved = 0;
  let bytes = 0;
  const progress = new TransferProgress('fetch', 0, 0, opts.progress);
  const runPhase = async (items: Download[], readOnly: boolean) => {
    progress.expect(items.length, items.reduce((s, d) => s + d.size, 0));
    const failures = await runPool(items, opts.jobs, async (d) => {
      await download(remote, d, readOnly);
      progress.done(d.size);
    });
    if (failures.length) {
      progress.clear();
      throw failuresError(failures.map((f) => f.error), 'pull');
    }
    moved += items.length;
    bytes += items.reduce((s, d) => s + d.size, 0);
  };
  await runPhase(manifestDownloads, true);
  const { files } = objectsOf(outs, (md5) => cache.readManifest(md5));
  const fileDownloads = plan(files);
  await runPhase(fileDownloads, true);
  const objectsMoved = moved;
  const objectBytes = bytes;
  await runPhase(runDownloads, false);
  progress.clear();
  return {
    objects: { moved: objectsMoved, bytes: objectBytes, alreadyThere },
    runs: { moved: runDownloads.length, bytes: bytes - objectBytes, alreadyThere: remoteRuns.size - runDownloads.length },
    unavailable: [...unavailable],
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * pull's second half: check each selected out out of the cache where the workspace does not
 * already hold it, as repro restores outs (`Cache.checkout`). The lock is not touched.
 */
export function checkoutOuts(root: string, outs: LockedPath[]): { restored: string[]; upToDate: number; notCached: string[] } {
  const dirs = workDirs(root);
  const cache = new Cache(dirs.cache);
  const hasher = new Hasher(root, dirs.state);
  const restored: string[] = [];
  const notCached: string[] = [];
  let upToDate = 0;
  try {
    for (const out of outs) {
      if (hasher.hashPath(out.path)?.md5 === out.md5) {
        upToDate++;
        continue;
      }
      if (!cache.has(out)) {
        notCached.push(out.path);
        continue;
      }
      cache.checkout(out, path.resolve(root, out.path), hasher);
      hasher.invalidate(out.path);
      restored.push(out.path);
    }
  } finally {
    hasher.save();
  }
  return { restored, upToDate, notCached };
}

// ------------------------------------------------------------------------------- status

export interface RemoteStatus {
  /** Per stage: objects only here (push moves them), only there (pull), on neither side. */
  stages: { stage: string; localOnly: number; remoteOnly: number; neither: string[] }[];
  runs: { localOnly: number; remoteOnly: number };
}

export async function remoteStatus(remote: RemoteBackend, opts: SyncOptions): Promise<RemoteStatus> {
  const cache = new Cache(workDirs(opts.root).cache);
  const [remoteObjects, remoteRuns] = await Promise.all([remote.list(OBJECTS_AREA), remote.list(RUNS_AREA)]);
  const stageNames = opts.stages.length ? [...new Set(opts.stages.flatMap((s) => Object.keys(opts.lock).filter((n) => n === s || n.startsWith(`${s}@`))))] : Object.keys(opts.lock);
  selectedOuts(opts.lock, opts.lockFile, opts.stages); // the same errors as push/pull for unknown stages
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ser-pipeline-manifest-'));
  try {
    // A manifest only the remote has is read (verified, into a temp folder) to count its files.
    const manifest = async (md5: string): Promise<FileEntry[] | undefined> => {
      const local = cache.readManifest(md5);
      if (local || !remoteObjects.has(objectKey(md5))) return local;
      const tmp = path.join(scratch, md5);
      await remote.get(`${OBJECTS_AREA}/${objectKey(md5)}`, tmp);
      return verifyObject(md5, tmp) ? undefined : (JSON.parse(fs.readFileSync(tmp, 'utf8')) as FileEntry[]);
    };
    const stages: RemoteStatus['stages'] = [];
    for (const stage of stageNames) {
      const outs = opts.lock[stage]!.outs;
      const entries = new Map<string, FileEntry[] | undefined>();
      for (const o of outs) if (o.md5.endsWith('.dir')) entries.set(o.md5, await manifest(o.md5));
      const { files, manifests, unexpanded } = objectsOf(outs, (md5) => entries.get(md5));
      let localOnly = 0;
      let remoteOnly = 0;
      const neither = unexpanded.map((r) => r.out);
      for (const ref of [...files, ...manifests]) {
        const here = fs.existsSync(cache.objectPath(ref.md5));
        const there = remoteObjects.has(objectKey(ref.md5));
        if (here && !there) localOnly++;
        else if (there && !here) remoteOnly++;
        else if (!here && !there) neither.push(ref.out);
      }
      stages.push({ stage, localOnly, remoteOnly, neither: [...new Set(neither)] });
    }
    const localRuns = localRunEntries(workDirs(opts.root).runs);
    return {
      stages,
      runs: { localOnly: [...localRuns.keys()].filter((k) => !remoteRuns.has(k)).length, remoteOnly: [...remoteRuns.keys()].filter((k) => !localRuns.has(k)).length },
    };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
