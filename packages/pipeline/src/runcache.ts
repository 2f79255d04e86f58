/**
 * Run-cache: `.pipeline/runs/<key[0:2]>/<key[2:]>.json` holds the outs (path, md5, size) a run
 * with that run key (cmd, dep md5s, params, outs: `runKey`) produced, so going back to inputs
 * that ran before restores their outs from the cache without running the stage. Out paths are
 * stored with the artifacts root as `${artifacts}` and read back under the reader's root, so an
 * experiment (its own artifacts root) restores what the workspace ran, and the other way round.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeAtomic } from './cache.ts';
import type { LockedPath } from './lock.ts';
import { localPaths, portablePaths } from './status.ts';

export class RunCache {
  /** `artifacts`: what `${artifacts}` stands for in this repro (the profile's or an experiment's root). */
  constructor(readonly dir: string, readonly artifacts: string) {}

  entryPath(runKey: string): string {
    return path.join(this.dir, runKey.slice(0, 2), `${runKey.slice(2)}.json`);
  }

  /** The outs recorded for `runKey`; undefined when none (or the entry is unreadable). */
  lookup(runKey: string): LockedPath[] | undefined {
    const file = this.entryPath(runKey);
    if (!fs.existsSync(file)) return undefined;
    try {
      const outs = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
      return Array.isArray(outs) ? (outs as LockedPath[]).map((o) => ({ ...o, path: localPaths(o.path, this.artifacts) })) : undefined;
    } catch {
      return undefined;
    }
  }

  record(runKey: string, outs: LockedPath[]): void {
    writeAtomic(this.entryPath(runKey), JSON.stringify(outs.map((o) => ({ ...o, path: portablePaths(o.path, this.artifacts) }))));
  }
}
