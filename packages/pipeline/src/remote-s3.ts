/**
 * An S3 remote through `@aws-sdk/client-s3` (AWS S3, or any S3-compatible server: Ceph RGW, ...).
 * Imported lazily by `openRemote`, so commands that touch no S3 remote never load the SDK.
 * Credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
 * AWS_PROFILE and ~/.aws, SSO, instance roles), never from `.pipeline/config.yaml`.
 */
import fs from 'node:fs';
import { pipeline as streamPipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PipelineError } from './errors.ts';
import type { RemoteBackend, RemoteEntry } from './remote.ts';

export interface S3RemoteOptions {
  bucket: string;
  /** Key prefix inside the bucket, without a trailing slash ('' for the bucket's root). */
  prefix: string;
  endpoint?: string;
  region?: string;
  forcePathStyle: boolean;
  label: string;
}

/** Seconds to wait for a TCP connection: an unreachable endpoint fails fast instead of hanging. */
const CONNECT_TIMEOUT_MS = 5000;

export function openS3Remote(opts: S3RemoteOptions): RemoteBackend {
  // The SDK warns on every command that its releases from 2027 need node 22; package-lock.json
  // pins one that runs on this project's node (>= 20.19), so the warning is noise for users.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? (opts.endpoint ? 'us-east-1' : undefined);
  const client = new S3Client({
    ...(region ? { region } : {}),
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    forcePathStyle: opts.forcePathStyle,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS },
    // Content-MD5 (the object's own md5) is the integrity check; the SDK's default CRC trailers
    // (aws-chunked uploads) are not understood by every S3-compatible server.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return new S3Remote(client, opts);
}

class S3Remote implements RemoteBackend {
  readonly label: string;

  constructor(
    private readonly client: S3Client,
    private readonly opts: S3RemoteOptions,
  ) {
    this.label = opts.label;
  }

  private fullKey(key: string): string {
    return this.opts.prefix ? `${this.opts.prefix}/${key}` : key;
  }

  async list(area: string): Promise<Map<string, RemoteEntry>> {
    const out = new Map<string, RemoteEntry>();
    const prefix = this.fullKey(`${area}/`);
    let token: string | undefined;
    do {
      const res = await this.call(`list ${prefix}`, () => this.client.send(new ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix: prefix, ContinuationToken: token })));
      for (const o of res.Contents ?? []) {
        if (!o.Key) continue;
        out.set(o.Key.slice(prefix.length), { size: o.Size ?? 0, etag: o.ETag?.replace(/"/g, '') });
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async put(key: string, fileAbs: string, size: number, bytesMd5: string): Promise<void> {
    await this.call(`upload ${key}`, () =>
      this.client.send(
        new PutObjectCommand({
        Bucket: this.opts.bucket,
        Key: this.fullKey(key),
        Body: fs.createReadStream(fileAbs),
        ContentLength: size,
        ContentMD5: Buffer.from(bytesMd5, 'hex').toString('base64'),
        Metadata: { md5: bytesMd5 },
        }),
      ),
    );
  }

  async get(key: string, destAbs: string): Promise<{ etag?: string }> {
    const res = await this.call(`download ${key}`, () => this.client.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: this.fullKey(key) })));
    if (!res.Body) throw new PipelineError(`${this.label}: ${key}: empty response`);
    await streamPipeline(res.Body as Readable, fs.createWriteStream(destAbs));
    return { etag: res.ETag?.replace(/"/g, '') };
  }

  /** One SDK call, its failure turned into one clear line naming the remote. */
  private async call<T>(what: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (e) {
      throw s3Error(e as Error & { Code?: string; $metadata?: { httpStatusCode?: number } }, this.opts, what);
    }
  }
}

/** One clear line for what goes wrong talking to S3 (no SDK stack). */
export function s3Error(e: Error & { Code?: string; code?: string; $metadata?: { httpStatusCode?: number } }, opts: S3RemoteOptions, what: string): PipelineError {
  const name = e.name || e.Code || '';
  const code = e.code ?? (e as { cause?: { code?: string } }).cause?.code ?? '';
  const label = opts.label;
  if (name === 'CredentialsProviderError' || /Could not load credentials|credential/i.test(e.message) && !e.$metadata?.httpStatusCode) {
    return new PipelineError(`${label}: no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (credentials never go in .pipeline/config.yaml)`);
  }
  if (/Region is missing/i.test(e.message)) return new PipelineError(`${label}: no AWS region: set AWS_REGION, or pass --region to 'ser-pipeline remote add'`);
  if (name === 'NoSuchBucket') return new PipelineError(`${label}: bucket '${opts.bucket}' does not exist`);
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'Forbidden'].includes(name) || e.$metadata?.httpStatusCode === 403) {
    return new PipelineError(`${label}: access denied (${name || 'HTTP 403'}) to ${what}: check the AWS credentials and the bucket's permissions`);
  }
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code) || name === 'TimeoutError' || /ECONNREFUSED|ENOTFOUND|getaddrinfo|socket hang up/.test(e.message)) {
    return new PipelineError(`${label}: cannot reach ${opts.endpoint ?? 'the S3 endpoint'} (${code || name || e.message})`);
  }
  return new PipelineError(`${label}: ${what} failed: ${name ? `${name}: ` : ''}${e.message.split('\n')[0]}`);
}
