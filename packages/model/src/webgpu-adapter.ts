// The WebGPU adapter Dawn (the `webgpu` npm package) offers, and whether it is hardware: `auto`
// uses webgpu only on a hardware adapter; a software one (SwiftShader, lavapipe/llvmpipe, any
// adapter flagged `isFallbackAdapter`) is a correctness path, used only when asked for by name.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What an adapter says of itself (GPUAdapterInfo), as recorded in logs and metrics. */
export interface AdapterFacts {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** GPUAdapterInfo.isFallbackAdapter: the implementation may be a software one. */
  fallback: boolean;
}

interface GpuAdapterLike {
  info?: Partial<Record<'vendor' | 'architecture' | 'device' | 'description', string>> & { isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}
export interface GpuLike {
  requestAdapter(options?: object): Promise<GpuAdapterLike | null>;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|warp|microsoft basic render/i;

export function adapterFacts(adapter: GpuAdapterLike): AdapterFacts {
  const info = adapter.info ?? {};
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    fallback: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter),
  };
}

/** True for an adapter that runs on the CPU: flagged as fallback, or named as a software rasteriser. */
export function isSoftwareAdapter(f: AdapterFacts): boolean {
  return f.fallback || SOFTWARE.test(`${f.vendor} ${f.architecture} ${f.device} ${f.description}`);
}

/** One line for logs: `google swiftshader "SwiftShader driver 5.0.0" (software)`. */
export function describeAdapter(f: AdapterFacts): string {
  const name = [f.vendor, f.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  return `${name}${f.description ? ` "${f.description}"` : ''}${isSoftwareAdapter(f) ? ' (software)' : ''}`;
}

/**
 * Installs Dawn as `navigator.gpu` (and its GPU* globals) unless a WebGPU implementation is
 * already there (a browser, or an earlier call), and returns it.
 */
export async function installDawn(): Promise<GpuLike> {
  const g = globalThis as unknown as { navigator?: { gpu?: GpuLike } };
  if (!g.navigator?.gpu) {
    const name = 'webgpu'; // a variable: optional dependency, not resolved at build time
    const dawn = (await import(name)) as { create: (options: string[]) => GpuLike; globals: object };
    Object.assign(globalThis, dawn.globals);
    const gpu = dawn.create([]);
    if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    else Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  }
  return g.navigator!.gpu!;
}

/** The adapter of this process's Dawn, or null with Dawn's own words on stderr. */
export async function requestAdapterFacts(): Promise<AdapterFacts | null> {
  const adapter = await (await installDawn()).requestAdapter();
  return adapter ? adapterFacts(adapter) : null;
}

export interface AdapterProbe {
  adapter: AdapterFacts | null;
  /** Why there is none: the first of Dawn's warnings, or the probe's failure. */
  reason?: string;
}

/**
 * Asks Dawn for an adapter in a child process, so that a machine without a GPU gets a reason
 * instead of Dawn's native warnings in this process's log (and this process loads no Vulkan).
 */
export function probeAdapter(timeoutMs = 30_000): Promise<AdapterProbe> {
  const script = fileURLToPath(new URL('./webgpu-probe.mjs', import.meta.url));
  return new Promise((resolve) => {
    execFile(process.execPath, [script], { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const firstWarning = stderr
        .split('\n')
        .map((l) => l.trim())
        .find((l) => l && !l.startsWith('at ') && !l.startsWith('-') && !l.includes('XDG_RUNTIME_DIR'));
      const parsed = (() => {
        try {
          return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as { adapter: GpuAdapterLike | null; error?: string };
        } catch {
          return undefined;
        }
      })();
      if (!parsed) {
        resolve({ adapter: null, reason: `adapter probe failed: ${err ? (err.killed ? `no answer in ${timeoutMs} ms` : err.message.split('\n')[0]) : 'no output'}` });
      } else if (parsed.error) {
        resolve({ adapter: null, reason: parsed.error });
      } else {
        resolve(parsed.adapter ? { adapter: adapterFacts(parsed.adapter) } : { adapter: null, reason: `no WebGPU adapter${firstWarning ? ` (Dawn: ${firstWarning.replace(/^Warning:\s*/, '')})` : ''}` });
      }
    });
  });
}
