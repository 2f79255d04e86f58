/**
 * The workspace profile: which profile a command uses when no `--profile` is given.
 *
 * `repro --profile P` (and `ser-pipeline profile P`) records P in `.pipeline/profile` (ignored by
 * git, one per clone), like a checked-out branch: afterwards `status`, `metrics`, `params diff`,
 * `dag`, `gc --workspace` and a plain `repro` look at P. An explicit `--profile` always wins;
 * `--profile default` (or `ser-pipeline profile default`) goes back to params.yaml alone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PipelineError } from './errors.ts';
import { writeAtomic } from './cache.ts';
import { DEFAULT_PROFILE } from './parse.ts';
import { paramsFileNames } from './params.ts';

/** Relative to the workspace root. */
export const PROFILE_FILE = '.pipeline/profile';

export type ProfileSource = 'flag' | 'workspace' | 'default';

export interface ResolvedProfile {
  name: string;
  source: ProfileSource;
}

/** One overlay name, or several joined by '+' (stacked left to right): the `P` of pipeline.P.lock. */
export const PROFILE_NAME_PATTERN = '[A-Za-z0-9_-]+(?:\\+[A-Za-z0-9_-]+)*';
const PROFILE_NAME = new RegExp(`^${PROFILE_NAME_PATTERN}$`);
const OVERLAY = /^params\.([A-Za-z0-9_-]+)\.yaml$/;

/** `default` plus every profile with a params.<name>.yaml overlay in the workspace root. */
export function listProfiles(root: string): string[] {
  const named = fs.readdirSync(root).flatMap((f) => OVERLAY.exec(f)?.[1] ?? []).sort();
  return [DEFAULT_PROFILE, ...named];
}

function checkName(name: string, where: string): void {
  if (!PROFILE_NAME.test(name)) throw new PipelineError(`${where}: '${name}' is not a profile name (letters, digits, '-' and '_'; '+' stacks overlays)`);
}

/** The recorded workspace profile, or undefined when none is recorded. */
export function readWorkspaceProfile(root: string): string | undefined {
  const file = path.join(root, PROFILE_FILE);
  if (!fs.existsSync(file)) return undefined;
  const name = fs.readFileSync(file, 'utf8').trim();
  if (!name) return undefined;
  checkName(name, PROFILE_FILE);
  return name;
}

/** Record `name` as the workspace profile (`default` removes the record). */
export function rememberProfile(root: string, name: string): void {
  checkName(name, 'profile');
  const file = path.join(root, PROFILE_FILE);
  if (name === DEFAULT_PROFILE) fs.rmSync(file, { force: true });
  else if (readWorkspaceProfile(root) !== name) writeAtomic(file, `${name}\n`);
}

/** `--profile` if given, else the workspace profile, else `default`; a named profile needs its overlay. */
export function resolveProfile(root: string, flag: string | undefined): ResolvedProfile {
  if (flag !== undefined) {
    checkName(flag, '--profile');
    return { name: flag, source: 'flag' };
  }
  const recorded = readWorkspaceProfile(root);
  if (recorded === undefined) return { name: DEFAULT_PROFILE, source: 'default' };
  const missing = paramsFileNames(recorded).find((f) => !fs.existsSync(path.join(root, f)) && f !== 'params.yaml');
  if (missing) {
    throw new PipelineError(`${PROFILE_FILE} names profile '${recorded}', but ${missing} does not exist; pass --profile, or run 'ser-pipeline profile default'`);
  }
  return { name: recorded, source: 'workspace' };
}

/** `profile demo`, and where it came from when it was not given on the command line. */
export function profileLabel(r: ResolvedProfile): string {
  return r.source === 'workspace' ? `profile ${r.name}, from ${PROFILE_FILE}` : `profile ${r.name}`;
}
