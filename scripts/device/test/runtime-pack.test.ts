// Runtime pack pieces that run without a GPU: part splitting + SHA256SUMS, the node_modules
// selection, and remote.sh's argument checks and data stash (which needs no Node on the host).
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { splitFile, joinParts } from '../src/parts.ts';
import { dropFile, selectFiles } from '../src/select-modules.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const remote = join(root, 'scripts/device/remote.sh');
const work = mkdtempSync(join(tmpdir(), 'device-rt-'));

describe('parts', () => {
  it('splits into parts of at most maxBytes, sha256sum -c accepts them, join restores the file', () => {
    const src = join(work, 'blob');
    const blob = Buffer.alloc(10_000);
    for (let i = 0; i < blob.length; i++) blob[i] = (i * 7919) & 0xff;
    writeFileSync(src, blob);
    const m = splitFile(src, work, 'blob', 3000);
    expect(m.parts.map((p) => p.bytes)).toEqual([3000, 3000, 3000, 1000]);
    expect(spawnSync('sha256sum', ['-c', '--quiet', 'blob.SHA256SUMS'], { cwd: work }).status).toBe(0);
    expect(joinParts(work, m).equals(blob)).toBe(true);
    writeFileSync(join(work, 'blob.part03'), Buffer.alloc(1000));
    expect(() => joinParts(work, m)).toThrow(/blob\.part03 is corrupt/);
  });
});

describe('node_modules selection', () => {
  it('drops maps, browser bundles and other platforms', () => {
    expect(dropFile('node_modules/@tensorflow/tfjs-core', 'dist/tf-core.node.js')).toBe(false);
    expect(dropFile('node_modules/@tensorflow/tfjs-core', 'dist/tf-core.min.js')).toBe(true);
    expect(dropFile('node_modules/@tensorflow/tfjs-backend-wasm', 'dist/tfjs-backend-wasm-simd.wasm')).toBe(false);
    expect(dropFile('node_modules/webgpu', 'dist/darwin-universal/dawn.node')).toBe(true);
    expect(dropFile('node_modules/webgpu', 'dist/linux-x64/dawn.node')).toBe(false);
    expect(dropFile('node_modules/yaml', 'dist/index.js.map')).toBe(true);
  });

  it.skipIf(!existsSync(join(root, 'node_modules/webgpu')))('keeps what the webgpu path and the pipeline load', () => {
    const files = new Set(selectFiles(root));
    for (const f of [
      'node_modules/webgpu/dist/linux-x64/dawn.node',
      'node_modules/@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.node.js',
      'node_modules/@tensorflow/tfjs/dist/tf.node.js',
      'node_modules/@ser/pipeline',
      'node_modules/.bin/ser-pipeline',
      'node_modules/tsx/dist/cli.mjs',
      'node_modules/apache-arrow/package.json',
    ]) expect(files.has(f), f).toBe(true);
    expect([...files].some((f) => f.includes('darwin') || f.endsWith('.map'))).toBe(false);
  });
});

describe('remote.sh', () => {
  const run = (args: string[], cwd: string) =>
    spawnSync('bash', [remote, ...args], { cwd, encoding: 'utf8', env: { ...process.env, OUT: join(cwd, 'out'), SER_TMP: join(cwd, 'tmp'), SER_NO_DEBS: '1' } });

  it('refuses an unknown mode and no mode', () => {
    const cwd = mkdtempSync(join(work, 'r'));
    expect(run(['frobnicate'], cwd)).toMatchObject({ status: 2, stderr: expect.stringContaining("unknown argument 'frobnicate'") });
    expect(run([], cwd).status).toBe(2);
  });

  it('stash checks each carried data part and names a corrupt one', () => {
    const cwd = mkdtempSync(join(work, 'r'));
    mkdirSync(join(cwd, '.device/data'), { recursive: true });
    writeFileSync(join(cwd, 'src'), Buffer.from('abcdefghij'.repeat(100)));
    splitFile(join(cwd, 'src'), join(cwd, '.device/data'), 'ravdess', 400);
    const ok = run(['stash'], cwd);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('ravdess.part00 ravdess.part01 ravdess.part02');
    expect(readFileSync(join(cwd, 'tmp/ser-parts/ravdess.part01'))).toEqual(readFileSync(join(cwd, '.device/data/ravdess.part01')));
    writeFileSync(join(cwd, '.device/data/ravdess.part01'), 'x'.repeat(400));
    const bad = run(['stash'], cwd);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/data part \.device\/data\/ravdess\.part01 is corrupt/);
    expect(readFileSync(join(cwd, 'out/remote.log'), 'utf8')).toContain('is corrupt');
  });

  it('setup without a runtime says to copy .device/rt', () => {
    const cwd = mkdtempSync(join(work, 'r'));
    const r = run(['setup'], cwd);
    expect(r.status).not.toBe(0);
    expect(r.stdout).toContain('copy .device/rt with this transfer');
  });
});
