/**
 * A real S3-API server for the remote tests: @20minutes/s3rver (the maintained fork of s3rver), in
 * its own process (s3rver-main.mjs), on a free localhost port, storing into a temp folder. It checks SigV4 signatures
 * (access key and secret `S3RVER`) and Content-MD5, and speaks ListObjectsV2, PutObject and
 * GetObject as S3 does. Offline: nothing but localhost.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 's3rver-main.mjs');

export interface S3TestServer {
  endpoint: string;
  bucket: string;
  /** Where the server keeps the bucket's objects (a test may damage one there). */
  dir: string;
  /** Environment for a CLI that talks to it (the server's fixed credentials; no instance-metadata lookups). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Environment without any AWS credentials or config files: the SDK's credential chain finds nothing. */
export function noAwsEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('AWS_')) delete env[k];
  const none = path.join(os.tmpdir(), 'ser-pipeline-no-aws-config');
  return { ...env, AWS_EC2_METADATA_DISABLED: 'true', AWS_SHARED_CREDENTIALS_FILE: none, AWS_CONFIG_FILE: none, AWS_REGION: 'us-east-1' };
}

/** Start the server, or say why it cannot start (the caller skips, or fails under SER_REQUIRE_S3=1). */
export async function startS3Server(bucket = 'ser-test', timeoutMs = 30_000): Promise<S3TestServer | { unavailable: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ser-s3rver-'));
  // s3rver encrypts ListObjectsV2 continuation tokens (more than 1000 keys) with DES, which
  // OpenSSL 3 keeps in its legacy provider.
  const child = spawn(process.execPath, ['--openssl-legacy-provider', MAIN, dir, bucket], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const port = await new Promise<number | undefined>((resolve) => {
    let out = '';
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^(\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
  if (port === undefined) {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    return { unavailable: `the S3 test server did not start: ${err.trim() || `no port within ${timeoutMs} ms`}` };
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    dir,
    env: { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' },
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Skip (with the reason printed) where the server cannot start; fail instead when SER_REQUIRE_S3=1 (CI). */
export function s3Unavailable(reason: string): string {
  if (process.env.SER_REQUIRE_S3 === '1') throw new Error(`SER_REQUIRE_S3=1 but ${reason}`);
  console.warn(`skipping the S3 remote tests: ${reason}`);
  return reason;
}

/**
 * A test file's server: started, with its credentials put in this process's environment (where the
 * CLIs it spawns find them, as any user's: the AWS environment); or the reason to skip.
 */
export async function startS3ForTests(): Promise<{ server?: S3TestServer; skipReason?: string }> {
  const s = await startS3Server();
  if ('unavailable' in s) return { skipReason: s3Unavailable(s.unavailable) };
  Object.assign(process.env, s.env);
  return { server: s };
}
