// What a recorded run saw: the machine (read from the OS at record time) and the backend facts
// its metrics files carry. Used by record-results.ts for run.json.
import os from 'node:os';

export interface MachineFacts {
  cpu: string;
  cores: number;
  memory_gib: number;
  os: string;
  node: string;
}

/** The machine this process runs on: CPU model and logical core count, total memory, OS, Node. */
export function machineFacts(
  host: Pick<typeof os, 'cpus' | 'totalmem' | 'platform' | 'release'> = os,
  node: string = process.version,
): MachineFacts {
  const cpus = host.cpus();
  return {
    cpu: cpus[0]?.model.trim() || 'unknown',
    cores: cpus.length,
    memory_gib: Math.round(host.totalmem() / 2 ** 30),
    os: `${host.platform()} ${host.release()}`,
    node,
  };
}

export interface BackendFacts {
  /** The backend that evaluated (and trained: they must agree). */
  backend: string;
  /** What train.backend asked for (e.g. `auto`), when recorded. */
  backend_requested?: string;
  /** The GPU adapter, or the backend's other details (wasm threads/SIMD), when the metrics carry them. */
  backend_details?: Record<string, unknown>;
}

/**
 * The backend facts from evaluate's and train's metrics.json: `backend` (an error when the two
 * disagree: the run would not be one run), `backend_requested` and `backend_details` (or a lone
 * `adapter`) when train recorded them.
 */
export function backendFacts(evaluate: Record<string, unknown>, train: Record<string, unknown>): BackendFacts {
  const backend = String(evaluate['backend'] ?? train['backend'] ?? 'unknown');
  if (train['backend'] !== undefined && evaluate['backend'] !== undefined && train['backend'] !== evaluate['backend']) {
    throw new Error(`train ran on '${String(train['backend'])}' but evaluate on '${String(evaluate['backend'])}'`);
  }
  const details = (train['backend_details'] ?? (train['adapter'] !== undefined ? { adapter: train['adapter'] } : undefined)) as Record<string, unknown> | undefined;
  return {
    backend,
    ...(typeof train['backend_requested'] === 'string' ? { backend_requested: train['backend_requested'] } : {}),
    ...(details && typeof details === 'object' ? { backend_details: details } : {}),
  };
}
