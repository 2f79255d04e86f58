// Settings that benchmarks and tools take from environment variables, where every value is a string.
import { resolveWorkers, workersParam } from './pool.ts';

/**
 * Worker threads from environment variable `name`: `auto` (also when unset or empty) =
 * os.availableParallelism(), or an integer >= 1. Anything else throws a ParamError naming `name`.
 */
export function workersFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name]?.trim() || 'auto';
  return resolveWorkers(workersParam(/^\d+$/.test(raw) ? Number(raw) : raw, name));
}
