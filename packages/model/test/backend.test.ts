// selectBackend: auto order and reasons, explicit failures are errors, unknown names rejected.
import { describe, expect, it } from 'vitest';
import { tf, selectBackend, BackendError, wasmPaths } from '../src/index.ts';
import { existsSync } from 'node:fs';

describe('selectBackend', () => {
  it('rejects an unknown name', async () => {
    await expect(selectBackend('cuda' as 'cpu')).rejects.toThrow(/unknown backend 'cuda'/);
  });
  it('an explicit backend that cannot load is an error naming it, not a fallback', async () => {
    await selectBackend('cpu');
    // tfjs-node is an optional dependency that is not installed here.
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
