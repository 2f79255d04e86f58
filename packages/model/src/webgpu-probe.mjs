// Run by webgpu-adapter.ts's probeAdapter in a child process: prints {"adapter": {info} | null}
// (or {"error"}) as the last stdout line; Dawn's warnings go to stderr.
try {
  const dawn = await import('webgpu');
  const adapter = await dawn.create([]).requestAdapter();
  // GPUAdapterInfo's fields are getters: copied by name (webgpu-adapter.ts's adapterFacts reads them).
  const info = adapter?.info;
  const raw = adapter
    ? { info: Object.fromEntries(['vendor', 'architecture', 'device', 'description', 'isFallbackAdapter'].map((k) => [k, info?.[k]])), isFallbackAdapter: adapter.isFallbackAdapter }
    : null;
  console.log(JSON.stringify({ adapter: raw }));
} catch (e) {
  const code = e?.code;
  const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
  console.log(JSON.stringify({ adapter: null, error: missing ? 'not installed (optional dependency `webgpu`)' : String(e?.message ?? e).split('\n')[0] }));
}
