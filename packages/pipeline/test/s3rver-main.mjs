// Runs the S3 test server (see s3-server.ts) in its own process, so a test may run the CLI
// synchronously while the server answers it. Prints the port, then serves until SIGTERM.
import { createRequire } from 'node:module';

const [dir, bucket] = process.argv.slice(2);
let S3rver;
try {
  S3rver = createRequire(import.meta.url)('@20minutes/s3rver');
} catch (e) {
  console.error(`@20minutes/s3rver is not installed (${String(e.message).split('\n')[0]}); run npm ci`);
  process.exit(2);
}
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket }] });

// s3rver rebuilds the SigV4 canonical URI of a bucket-level path-style request (GET /bucket/?list-type=2)
// without the trailing slash, as AWS SDK v2 signed it; SDK v3 (and AWS S3 itself) sign `/bucket/`.
// Right after its vhost middleware, mark such a request so s3rver's canonical URI is `/bucket/`.
// Signatures are still checked; nothing else changes.
const at = server.middleware.findIndex((m) => m.name === 'vhost');
if (at < 0) throw new Error('s3rver internals changed: no vhost middleware to follow');
server.middleware.splice(at + 1, 0, (ctx, next) => {
  if (!ctx.state.vhost && /^\/[^/]+\/$/.test(ctx.path)) {
    ctx.state.vhost = true;
    ctx.mountPath = '/';
  }
  return next();
});
const addr = await server.run();
process.stdout.write(`${addr.port}\n`);
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
