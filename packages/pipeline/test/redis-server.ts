/**
 * A real Redis for the distributed queue tests: Debian's `redis-server`, on a free localhost port,
 * in memory only (no RDB, no AOF), stopped after the tests.
 */
import net from 'node:net';
import { spawn } from 'node:child_process';
import { freePort } from './helpers.ts';

export interface RedisTestServer {
  url: string;
  stop(): Promise<void>;
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    s.once('error', () => resolve(false));
  });
}

/** Start a server, or say why it cannot start (the caller skips, or fails under SER_REQUIRE_REDIS=1). */
export async function startRedis(timeoutMs = 10_000): Promise<RedisTestServer | { unavailable: string }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const failed = new Promise<string>((r) => child.once('error', (e) => r(e.message)));
  const t = Date.now();
  for (;;) {
    const why = await Promise.race([failed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 50))]);
    if (why) return { unavailable: `redis-server did not start (${why}; Debian: apt-get install redis-server)` };
    if (await answers(port)) break;
    if (Date.now() - t > timeoutMs) {
      child.kill('SIGKILL');
      return { unavailable: `redis-server did not answer on port ${port} within ${timeoutMs} ms` };
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Skip (with the reason printed) where Redis cannot start; fail instead when SER_REQUIRE_REDIS=1 (CI). */
export function redisUnavailable(reason: string): string {
  if (process.env.SER_REQUIRE_REDIS === '1') throw new Error(`SER_REQUIRE_REDIS=1 but ${reason}`);
  console.warn(`skipping the distributed queue tests: ${reason}`);
  return reason;
}
