// GPU host probe: node, GPU, Vulkan loader, WebGPU adapter (via the `webgpu` package's Dawn), and the
// tfjs webgpu backend: init + a 512x512 matmul checked against tfjs cpu + a timed matmul (2048 x 2048 on
// a hardware adapter; 256 x 256 on a software one such as SwiftShader, which runs on the CPU).
// Prints one JSON object on stdout (remote.sh writes it to $OUT/probe.json); exit 1 if no backend.
import { spawnSync } from 'node:child_process';

const sh = (cmd: string, args: string[]): string => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : `failed: ${(r.stderr || r.error?.message || '').trim().slice(0, 300)}`;
};
const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));
const out: Record<string, unknown> = { node: process.version, arch: process.arch, platform: process.platform };
out['nvidiaSmi'] = sh('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader']);
out['libvulkan'] = sh('sh', ['-c', 'ldconfig -p | grep libvulkan || true']);
out['env'] = { VK_DRIVER_FILES: process.env['VK_DRIVER_FILES'] ?? null, __EGL_VENDOR_LIBRARY_FILENAMES: process.env['__EGL_VENDOR_LIBRARY_FILENAMES'] ?? null };
let ok = false;
try {
  const dawn = (await import('webgpu')) as unknown as { create: (o: string[]) => { requestAdapter: (o?: object) => Promise<any> }; globals: object };
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) out['adapter'] = null;
  else {
    const info = adapter.info ?? {};
    const limits: Record<string, number> = {};
    for (const k of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup']) limits[k] = adapter.limits?.[k];
    out['adapter'] = { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description, features: [...(adapter.features ?? [])], limits };
  }
} catch (e) {
  out['webgpuError'] = msg(e);
}
try {
  const { tf, selectBackend, matmulGflops } = await import('@ser/model');
  const choice = await selectBackend('webgpu');
  out['tfjsBackend'] = { name: choice.name, tfBackend: tf.getBackend() };
  const a = tf.randomNormal([512, 512], 0, 1, 'float32', 1);
  const b = tf.randomNormal([512, 512], 0, 1, 'float32', 2);
  const gpuProd = await tf.matMul(a, b).data();
  const av = await a.data();
  const bv = await b.data();
  await tf.setBackend('cpu');
  const cpuProd = await tf.matMul(tf.tensor2d(av, [512, 512]), tf.tensor2d(bv, [512, 512])).data();
  let maxAbs = 0;
  for (let i = 0; i < cpuProd.length; i++) maxAbs = Math.max(maxAbs, Math.abs(cpuProd[i]! - gpuProd[i]!));
  await tf.setBackend('webgpu');
  const software = String(choice.details['adapter'] ?? '').endsWith('(software)');
  const n = software ? 256 : 2048;
  out['matmulCheck'] = { n: 512, maxAbsDiffVsCpu: maxAbs };
  out[`matmul${n}`] = { software, gflops: +(await matmulGflops(n, software ? 1 : 2)).toFixed(2) };
  ok = true;
} catch (e) {
  out['tfjsError'] = msg(e);
}
console.log(JSON.stringify(out, null, 2));
process.exit(ok ? 0 : 1);
