// Where the webgpu tests get an adapter: the Vulkan driver named by VK_ICD_FILENAMES /
// VK_DRIVER_FILES when set, else SwiftShader's (Debian's chromium package ships it; it runs
// WebGPU on the CPU, slowly but correctly), else whatever Dawn finds. Without any adapter the
// tests are skipped with the reason, unless SER_REQUIRE_WEBGPU=1 (CI) makes that a failure.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeAdapter, type AdapterFacts } from '../src/webgpu-adapter.ts';

/** SwiftShader's Vulkan ICD as Debian's chromium installs it (override: SER_SWIFTSHADER_ICD). */
export const SWIFTSHADER_ICD = process.env['SER_SWIFTSHADER_ICD'] ?? '/usr/lib/chromium/vk_swiftshader_icd.json';

export interface WebgpuTestEnv {
  adapter: AdapterFacts | null;
  /** Why the tests are skipped (no adapter). */
  reason?: string;
  /** SER_REQUIRE_WEBGPU=1: a missing adapter fails instead of skipping. */
  required: boolean;
}

/** Points Vulkan at SwiftShader when nothing else is chosen, then asks Dawn for an adapter. */
export async function webgpuTestEnv(): Promise<WebgpuTestEnv> {
  const required = process.env['SER_REQUIRE_WEBGPU'] === '1';
  if (!process.env['VK_ICD_FILENAMES'] && !process.env['VK_DRIVER_FILES'] && existsSync(SWIFTSHADER_ICD)) {
    process.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
  }
  // Dawn warns on every call without it.
  process.env['XDG_RUNTIME_DIR'] ??= mkdtempSync(join(tmpdir(), 'ser-xdg-'));
  const probe = await probeAdapter(60_000);
  if (probe.adapter) return { adapter: probe.adapter, required };
  const hint = existsSync(SWIFTSHADER_ICD) ? '' : ` (for SwiftShader on Debian: apt-get install chromium libvulkan1; not found at ${SWIFTSHADER_ICD})`;
  return { adapter: null, reason: `${probe.reason ?? 'no WebGPU adapter'}${hint}`, required };
}
