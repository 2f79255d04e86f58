// `ser-model backends`: which tfjs backends load on this machine, the WebGPU adapter, and a square
// float32 matmul's GFLOP/s on each, so a user can check a machine before training on it.
import { tf } from './tf.ts';
import { BACKENDS, selectBackend, type BackendName } from './backend.ts';

export interface BackendReport {
  name: Exclude<BackendName, 'auto'>;
  loads: boolean;
  /** Why it does not load. */
  reason?: string;
  /** wasm SIMD/threads, the webgpu adapter. */
  details?: Record<string, unknown>;
  /** n x n float32 matmul throughput (2 n^3 flops per product). */
  matmul?: { n: number; gflops: number };
  /** What `auto` picks (the first that loads, a software webgpu adapter excluded). */
  auto?: boolean;
}

/** Mean GFLOP/s of n x n matmuls on the active backend over at least `minSeconds` (after a warm-up). */
export async function matmulGflops(n: number, minSeconds: number): Promise<number> {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  const product = async (): Promise<void> => {
    const c = tf.matMul(a, b);
    await c.data(); // waits for a GPU to finish
    c.dispose();
  };
  try {
    await product();
    let runs = 0;
    const t0 = performance.now();
    while (runs < 3 || performance.now() - t0 < minSeconds * 1000) {
      await product();
      runs++;
    }
    return (2 * n ** 3 * runs) / ((performance.now() - t0) / 1000) / 1e9;
  } finally {
    tf.dispose([a, b]);
  }
}

/**
 * Loads each backend by name in turn (an explicit name: a software webgpu adapter loads too, and
 * says so), measures the matmul, and marks the one `auto` would pick.
 */
export async function reportBackends(opts: { n?: number; minSeconds?: number } = {}): Promise<BackendReport[]> {
  const n = opts.n ?? 512;
  const rows: BackendReport[] = [];
  for (const name of BACKENDS) {
    try {
      const c = await selectBackend(name);
      rows.push({ name, loads: true, details: c.details, matmul: { n, gflops: await matmulGflops(n, opts.minSeconds ?? 0.5) } });
    } catch (e) {
      rows.push({ name, loads: false, reason: (e as Error).message.replace(/^backend '[^']+' cannot load: /, '') });
    }
  }
  const auto = await selectBackend('auto');
  for (const r of rows) if (r.name === auto.name) r.auto = true;
  return rows;
}

/** The report as a table, one backend a line. */
export function formatBackends(rows: BackendReport[]): string {
  const w = Math.max(...rows.map((r) => r.name.length));
  return rows
    .map((r) => {
      const head = `${r.name.padEnd(w)}  ${r.loads ? 'loads' : 'no   '}`;
      if (!r.loads) return `${head}  ${r.reason}`;
      const facts = Object.entries(r.details ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(', ');
      const speed = r.matmul ? `matmul ${r.matmul.n}x${r.matmul.n}: ${r.matmul.gflops.toFixed(2)} GFLOP/s` : '';
      return `${head}  ${[speed, facts].filter(Boolean).join('; ')}${r.auto ? '  <- auto' : ''}`;
    })
    .join('\n');
}
