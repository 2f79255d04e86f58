// Backend selection: `auto` takes the first of tfjs-node-gpu (CUDA), tfjs-node, webgpu (Dawn via
// the `webgpu` npm package, on a hardware adapter only), wasm, cpu that loads, and says why the
// others did not. An explicit name that cannot load is an error, never a silent fallback.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UserError } from '@ser/stage-kit';
import { tf } from './tf.ts';
import { installWasmKernels } from './wasm-kernels.ts';
import { describeAdapter, isSoftwareAdapter, probeAdapter, requestAdapterFacts } from './webgpu-adapter.ts';

export const BACKENDS = ['tfjs-node-gpu', 'tfjs-node', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = 'auto' | (typeof BACKENDS)[number];

export class BackendError extends Error {
  override name = 'BackendError';
}

export interface BackendChoice {
  /** What was asked for. */
  requested: BackendName;
  /** The one that runs (never 'auto'). */
  name: Exclude<BackendName, 'auto'>;
  /** tfjs's name of the active backend (`tensorflow`, `webgpu`, `wasm`, `cpu`). */
  tfBackend: string;
  tried: { name: string; ok: boolean; reason?: string }[];
  /** Extra facts (wasm threads/SIMD, the webgpu adapter). */
  details: Record<string, unknown>;
}

const require = createRequire(import.meta.url);
const message = (e: unknown): string => {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return 'not installed (optional dependency)';
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
};

/** Imports an optional module by name; a variable so bundlers/tsc do not require it to exist. */
async function importOptional(name: string): Promise<unknown> {
  return import(name);
}

async function activate(tfName: string): Promise<void> {
  const ok = await tf.setBackend(tfName);
  if (!ok) throw new Error(`tf.setBackend('${tfName}') returned false`);
  await tf.ready();
}

/** Paths of the installed wasm binaries, so nothing is fetched. */
export function wasmPaths(): Record<string, string> {
  const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  const files = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
  return Object.fromEntries(files.map((f) => [f, join(dir, f)]));
}

const loaders: Record<Exclude<BackendName, 'auto'>, (details: Record<string, unknown>, auto: boolean) => Promise<string>> = {
  'tfjs-node-gpu': async () => {
    await importOptional('@tensorflow/tfjs-node-gpu');
    await activate('tensorflow');
    return 'tensorflow';
  },
  'tfjs-node': async () => {
    await importOptional('@tensorflow/tfjs-node');
    await activate('tensorflow');
    return 'tensorflow';
  },
  webgpu: async (details, auto) => {
    // Asked first in a child process: without a GPU, Dawn's native warnings stay there and the
    // reason names what is missing.
    const probe = await probeAdapter();
    if (!probe.adapter) throw new Error(probe.reason ?? 'no WebGPU adapter');
    if (auto && isSoftwareAdapter(probe.adapter)) {
      throw new Error(`software adapter ${describeAdapter(probe.adapter)}: used only when the backend is asked for by name ('webgpu')`);
    }
    const facts = await requestAdapterFacts();
    if (!facts) throw new Error('no WebGPU adapter in this process (the probe found one)');
    details['adapter'] = describeAdapter(facts);
    await importOptional('@tensorflow/tfjs-backend-webgpu');
    await activate('webgpu');
    return 'webgpu';
  },
  wasm: async (details) => {
    const wasm = (await importOptional('@tensorflow/tfjs-backend-wasm')) as { setWasmPaths: (p: Record<string, string>) => void };
    wasm.setWasmPaths(wasmPaths());
    installWasmKernels();
    await activate('wasm');
    details['wasmSimd'] = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    details['wasmThreads'] = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    return 'wasm';
  },
  cpu: async () => {
    await activate('cpu');
    return 'cpu';
  },
};

/**
 * Activates a tfjs backend. `auto` tries BACKENDS in order and logs each outcome; an explicit
 * name that fails throws BackendError with the reason.
 */
export async function selectBackend(name: BackendName, log: (msg: string) => void = () => {}): Promise<BackendChoice> {
  if (name !== 'auto' && !(BACKENDS as readonly string[]).includes(name)) {
    throw new BackendError(`unknown backend '${String(name)}' (expected auto, ${BACKENDS.join(', ')})`);
  }
  const order = name === 'auto' ? [...BACKENDS] : [name];
  const tried: BackendChoice['tried'] = [];
  for (const n of order) {
    const details: Record<string, unknown> = {};
    try {
      const tfBackend = await loaders[n](details, name === 'auto');
      tried.push({ name: n, ok: true });
      const extra = Object.keys(details).length ? ` (${Object.entries(details).map(([k, v]) => `${k}=${String(v)}`).join(', ')})` : '';
      log(`backend: ${n}${extra}${name === 'auto' ? ` [auto; ${tried.filter((t) => !t.ok).map((t) => `${t.name}: ${t.reason}`).join('; ') || 'first choice'}]` : ''}`);
      return { requested: name, name: n, tfBackend, tried, details };
    } catch (e) {
      tried.push({ name: n, ok: false, reason: message(e) });
      if (name !== 'auto') throw new BackendError(`backend '${n}' cannot load: ${message(e)}`);
    }
  }
  throw new BackendError(`no backend could load: ${tried.map((t) => `${t.name}: ${t.reason}`).join('; ')}`);
}

/**
 * selectBackend for a stage: the backend named by param `key` (e.g. `train.backend`); one that
 * cannot load is a UserError naming the key, so the stage fails with one line.
 */
export async function selectBackendParam(name: string, key: string, log: (msg: string) => void = () => {}): Promise<BackendChoice> {
  try {
    return await selectBackend(name as BackendName, log);
  } catch (e) {
    throw new UserError(`${key}: ${(e as Error).message}`);
  }
}
