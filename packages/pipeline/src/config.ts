/**
 * `.pipeline/config.yaml`: the committed project configuration (the rest of `.pipeline/` is
 * per-clone and ignored by git). Today it names the remotes:
 *
 *   default: origin
 *   remotes:
 *     origin:
 *       url: s3://lab-bucket/ser          # or a folder: /mnt/nfs/ser-cache, ../shared-cache
 *       endpoint: http://rgw.lab:7480     # S3-compatible servers (Ceph RGW, ...); optional
 *       region: eu-west-1                 # optional
 *       force_path_style: true            # http://host/bucket/key instead of http://bucket.host/key
 *
 * Credentials never go here: S3 remotes use the standard AWS environment and credential chain.
 * Keys this module does not know are kept as they are (other features keep their settings here).
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { PipelineError } from './errors.ts';
import { writeAtomic } from './cache.ts';
import { nearest } from './params-schema.ts';

/** Relative to the workspace root. */
export const CONFIG_FILE = '.pipeline/config.yaml';

export interface RemoteConfig {
  url: string;
  endpoint?: string;
  region?: string;
  force_path_style?: boolean;
}

export interface PipelineConfig {
  default?: string;
  remotes: Record<string, RemoteConfig>;
  /** Top-level keys owned by other features, written back unchanged. */
  other: Record<string, unknown>;
}

/** Where a remote's URL points: an S3 bucket (and key prefix) or a folder. */
export type RemoteLocation = { kind: 's3'; bucket: string; prefix: string } | { kind: 'folder'; dir: string };

const REMOTE_NAME = /^[A-Za-z0-9_-]+$/;
const REMOTE_KEYS = ['url', 'endpoint', 'region', 'force_path_style'];
// S3 bucket naming rules: 3-63 characters, lower-case letters, digits, dots and hyphens.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function checkRemoteName(name: string): void {
  if (!REMOTE_NAME.test(name)) throw new PipelineError(`'${name}' is not a remote name (letters, digits, '-' and '_')`);
}

/** Parse a remote URL: `s3://bucket[/prefix]`, or a path (absolute, or relative to `root`). */
export function parseRemoteUrl(url: string, root: string): RemoteLocation {
  const s3 = /^s3:\/\/([^/]*)\/?(.*)$/.exec(url);
  if (s3) {
    const bucket = s3[1]!;
    if (!BUCKET.test(bucket)) throw new PipelineError(`remote URL '${url}': '${bucket}' is not an S3 bucket name (3-63 lower-case letters, digits, '.' and '-')`);
    return { kind: 's3', bucket, prefix: s3[2]!.replace(/\/+$/, '') };
  }
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(url);
  if (scheme) throw new PipelineError(`remote URL '${url}': unsupported scheme '${scheme[1]}://' (s3://bucket/prefix, or a folder path)`);
  if (!url.trim()) throw new PipelineError('remote URL is empty');
  return { kind: 'folder', dir: path.resolve(root, url) };
}

export function readConfig(root: string): PipelineConfig {
  const file = path.join(root, CONFIG_FILE);
  if (!fs.existsSync(file)) return { remotes: {}, other: {} };
  let doc: unknown;
  try {
    doc = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new PipelineError(`${CONFIG_FILE}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc == null) return { remotes: {}, other: {} };
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new PipelineError(`${CONFIG_FILE}: expected a mapping at the top level`);
  const { default: def, remotes = {}, ...other } = doc as Record<string, unknown>;
  if (def !== undefined && typeof def !== 'string') throw new PipelineError(`${CONFIG_FILE}: default: expected a remote name, got ${JSON.stringify(def)}`);
  if (typeof remotes !== 'object' || remotes === null || Array.isArray(remotes)) throw new PipelineError(`${CONFIG_FILE}: remotes: expected a mapping of remote names`);
  const out: Record<string, RemoteConfig> = {};
  for (const [name, raw] of Object.entries(remotes as Record<string, unknown>)) {
    const r = (raw ?? {}) as Record<string, unknown>;
    const unknown = Object.keys(r).find((k) => !REMOTE_KEYS.includes(k));
    if (unknown) throw new PipelineError(`${CONFIG_FILE}: remotes.${name}.${unknown}: unknown key (${REMOTE_KEYS.join(', ')})`);
    if (typeof r.url !== 'string') throw new PipelineError(`${CONFIG_FILE}: remotes.${name}.url: expected a URL (s3://bucket/prefix or a folder path)`);
    for (const k of ['endpoint', 'region'] as const) {
      if (r[k] !== undefined && typeof r[k] !== 'string') throw new PipelineError(`${CONFIG_FILE}: remotes.${name}.${k}: expected a string`);
    }
    if (r.force_path_style !== undefined && typeof r.force_path_style !== 'boolean') throw new PipelineError(`${CONFIG_FILE}: remotes.${name}.force_path_style: expected true or false`);
    out[name] = r as unknown as RemoteConfig;
  }
  if (def !== undefined && !out[def]) throw new PipelineError(`${CONFIG_FILE}: default: no remote '${def}' under remotes`);
  return { default: def, remotes: out, other };
}

export function writeConfig(root: string, cfg: PipelineConfig): void {
  const doc: Record<string, unknown> = { ...cfg.other };
  if (cfg.default) doc.default = cfg.default;
  doc.remotes = cfg.remotes;
  const header = '# ser-pipeline configuration (committed). Credentials never go here: S3 remotes use the AWS environment / credential chain.\n';
  writeAtomic(path.join(root, CONFIG_FILE), header + YAML.stringify(doc, { lineWidth: 0 }));
}

/** The remote `name` (or the default one), with a clear error naming what is configured. */
export function resolveRemote(cfg: PipelineConfig, name: string | undefined): { name: string; remote: RemoteConfig } {
  const names = Object.keys(cfg.remotes);
  if (name === undefined) {
    if (cfg.default) return { name: cfg.default, remote: cfg.remotes[cfg.default]! };
    if (names.length === 1) return { name: names[0]!, remote: cfg.remotes[names[0]!]! };
    if (!names.length) throw new PipelineError(`no remote configured in ${CONFIG_FILE}; add one: ser-pipeline remote add NAME URL --default`);
    throw new PipelineError(`no default remote in ${CONFIG_FILE} (remotes: ${names.join(', ')}); pass -r NAME or run: ser-pipeline remote default NAME`);
  }
  const remote = cfg.remotes[name];
  if (!remote) throw unknownRemote(cfg, name);
  return { name, remote };
}

export function unknownRemote(cfg: PipelineConfig, name: string): PipelineError {
  const names = Object.keys(cfg.remotes);
  const near = nearest(name, names);
  const hint = near ? ` (did you mean '${near}'?)` : names.length ? ` (remotes: ${names.join(', ')})` : ' (no remote configured)';
  return new PipelineError(`no remote '${name}' in ${CONFIG_FILE}${hint}`);
}

/** `remote add`: validate everything before the file is written. */
export function addRemote(root: string, name: string, remote: RemoteConfig, makeDefault: boolean): PipelineConfig {
  checkRemoteName(name);
  const loc = parseRemoteUrl(remote.url, root);
  if (loc.kind === 'folder' && (remote.endpoint || remote.region || remote.force_path_style)) {
    throw new PipelineError(`remote '${name}': --endpoint, --region and --force-path-style apply to s3:// URLs only (got the folder '${remote.url}')`);
  }
  if (remote.endpoint && !/^https?:\/\/[^/]+/.test(remote.endpoint)) throw new PipelineError(`remote '${name}': --endpoint must be an http:// or https:// URL, got '${remote.endpoint}'`);
  const cfg = readConfig(root);
  const existing = cfg.remotes[name];
  if (existing) throw new PipelineError(`remote '${name}' already exists (${existing.url}); remove it first: ser-pipeline remote remove ${name}`);
  cfg.remotes[name] = Object.fromEntries(Object.entries(remote).filter(([, v]) => v !== undefined && v !== false)) as unknown as RemoteConfig;
  if (makeDefault || Object.keys(cfg.remotes).length === 1) cfg.default = name;
  writeConfig(root, cfg);
  return cfg;
}

export function removeRemote(root: string, name: string): PipelineConfig {
  const cfg = readConfig(root);
  if (!cfg.remotes[name]) throw unknownRemote(cfg, name);
  delete cfg.remotes[name];
  if (cfg.default === name) delete cfg.default;
  writeConfig(root, cfg);
  return cfg;
}

export function setDefaultRemote(root: string, name: string): PipelineConfig {
  const cfg = readConfig(root);
  if (!cfg.remotes[name]) throw unknownRemote(cfg, name);
  cfg.default = name;
  writeConfig(root, cfg);
  return cfg;
}
