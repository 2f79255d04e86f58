// selectBackend: auto order and reasons, explicit failures are errors, unknown names rejected;
// what makes a WebGPU adapter software; the `ser-model backends` report.
import { describe, expect, it } from 'vitest';
import { tf, selectBackend, BackendError, wasmPaths } from '../src/index.ts';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { adapterFacts, describeAdapter, isSoftwareAdapter } from '../src/webgpu-adapter.ts';

describe('selectBackend', () => {
  it('rejects an unknown name', async () => {
    await expect(selectBackend('cuda' as 'cpu')).rejects.toThrow(/unknown backend 'cuda'/);
  });
  it('an explicit backend that cannot load is an error naming it, not a fallback', async () => {
    await selectBackend('cpu');
    // tfjs-node is an optional dependency that this workspace does not install.
    await expect(selectBackend('tfjs-node')).rejects.toThrow(BackendError);
    await expect(selectBackend('tfjs-node-gpu')).rejects.toThrow(/backend 'tfjs-node-gpu' cannot load/);
    expect(tf.getBackend()).toBe('cpu');
  });
  it('uses the installed wasm binaries (no download)', () => {
    for (const p of Object.values(wasmPaths())) expect(existsSync(p), p).toBe(true);
  });
  it('auto picks the first that loads and records why the others did not', async () => {
    const logs: string[] = [];
    const c = await selectBackend('auto', (m) => logs.push(m));
    expect(['tfjs-node-gpu', 'tfjs-node', 'webgpu', 'wasm', 'cpu']).toContain(c.name);
    expect(c.tried.at(-1)).toEqual({ name: c.name, ok: true });
    for (const t of c.tried.slice(0, -1)) {
      expect(t.ok).toBe(false);
      expect(t.reason).toBeTruthy();
    }
    expect(tf.getBackend()).toBe(c.tfBackend);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain(`backend: ${c.name}`);
    if (c.name === 'wasm') expect(c.details).toHaveProperty('wasmSimd');
  });
});

describe('WebGPU adapters', () => {
  const swiftshader = { info: { vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0', isFallbackAdapter: true } };
  it('a fallback or software-rasteriser adapter is software; a GPU is not', () => {
    expect(isSoftwareAdapter(adapterFacts(swiftshader))).toBe(true);
    // Not flagged as fallback, but named as a CPU implementation.
    expect(isSoftwareAdapter(adapterFacts({ info: { vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' } }))).toBe(true);
    const nvidia = adapterFacts({ info: { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200' } });
    expect(isSoftwareAdapter(nvidia)).toBe(false);
    expect(describeAdapter(nvidia)).toBe('nvidia hopper "NVIDIA H200"');
    expect(describeAdapter(adapterFacts(swiftshader))).toBe('google swiftshader "SwiftShader driver 5.0.0" (software)');
    expect(adapterFacts({}).fallback).toBe(false);
  });
});

describe('ser-model backends', () => {
  const bin = fileURLToPath(new URL('../bin/ser-model.mjs', import.meta.url));
  it('lists every backend, why the missing ones do not load, a matmul figure for those that do, and marks auto', () => {
    const r = spawnSync(process.execPath, [bin, 'backends', '--json', '--size', '64'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { name: string; loads: boolean; reason?: string; matmul?: { n: number; gflops: number }; auto?: boolean }[];
    expect(rows.map((x) => x.name)).toEqual(['tfjs-node-gpu', 'tfjs-node', 'webgpu', 'wasm', 'cpu']);
    for (const x of rows) {
      if (x.loads) expect(x.matmul!.gflops).toBeGreaterThan(0);
      else expect(x.reason).toBeTruthy();
    }
    expect(rows.find((x) => x.name === 'cpu')!.loads).toBe(true);
    const auto = rows.filter((x) => x.auto);
    expect(auto).toHaveLength(1);
    expect(auto[0]!.loads).toBe(true);
    // auto is the first that loads, unless that is a software webgpu adapter.
    const first = rows.find((x) => x.loads && !(x.name === 'webgpu' && String((x as { details?: { adapter?: string } }).details?.adapter).includes('(software)')));
    expect(auto[0]!.name).toBe(first!.name);
  });
  it('a bad --size is refused', () => {
    const r = spawnSync(process.execPath, [bin, 'backends', '--size', 'x'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("--size: expected a positive integer, got 'x'");
  });
});
