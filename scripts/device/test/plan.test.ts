// The device calls the plan builds: what each carries, under the limits, and the documented commands.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { planCalls, paperArgs, CALL_LIMIT_BYTES, MAX_CARRY, MAX_COMMAND } from '../src/plan.ts';
import { MIB, type PartsManifest } from '../src/parts.ts';

const manifest = (name: string, prefix: string, sizes: number[]): PartsManifest => ({
  name,
  bytes: sizes.reduce((s, b) => s + b, 0),
  sha256: 'x',
  parts: sizes.map((b, i) => ({ file: `${prefix}.part${String(i).padStart(2, '0')}`, bytes: b, sha256: 'y' })),
});
// The sizes measured on 2026-11-25 (docs/GPU.md): runtime 31 MiB, corpus 56 + 56 + 21.8 MiB.
const rt = manifest('runtime.tar', 'runtime', [31.05 * MIB]);
const data = manifest('ravdess.serc.xz', 'ravdess', [56 * MIB, 56 * MIB, 21.76 * MIB]);
const opts = { repoBytes: 2.1 * MIB, maxEpochs: 3, seedTimeoutS: 100 };

describe('device plan', () => {
  const calls = planCalls(rt, data, opts);

  it('three calls: runtime + the small part first, then one 56 MiB part each', () => {
    expect(calls.map((c) => c.carry)).toEqual([
      ['.device/rt', '.device/data/ravdess.manifest.json', '.device/data/ravdess.SHA256SUMS', '.device/data/ravdess.part02'],
      ['.device/data/ravdess.manifest.json', '.device/data/ravdess.SHA256SUMS', '.device/data/ravdess.part00'],
      ['.device/data/ravdess.manifest.json', '.device/data/ravdess.SHA256SUMS', '.device/data/ravdess.part01'],
    ]);
  });

  it('the documented commands, in docs/GPU.md too', () => {
    expect(calls.map((c) => c.command)).toEqual([
      'bash scripts/device/remote.sh setup probe bench loss-curve',
      'bash scripts/device/remote.sh setup',
      'bash scripts/device/remote.sh setup paper --seeds 1,2,3,4,5 --max-epochs 3 --seed-timeout-s 100',
    ]);
    const doc = readFileSync(new URL('../../../docs/GPU.md', import.meta.url), 'utf8');
    for (const c of calls) expect(doc).toContain(c.command);
  });

  it('every call is under the limits and every part travels exactly once', () => {
    for (const c of calls) {
      expect(c.bytes).toBeLessThan(CALL_LIMIT_BYTES);
      expect(c.carry.length).toBeLessThanOrEqual(MAX_CARRY);
      expect(c.command.length).toBeLessThanOrEqual(MAX_COMMAND);
      expect(c.timeout_s).toBeLessThanOrEqual(600);
    }
    const carried = calls.flatMap((c) => c.carry).filter((p) => p.includes('.part'));
    expect(carried.sort()).toEqual(data.parts.map((p) => `.device/data/${p.file}`));
  });

  it('without a data pack: one transfer; paper args; too-large parts are refused', () => {
    expect(planCalls(rt, undefined, opts).map((c) => c.command)).toEqual(['bash scripts/device/remote.sh setup probe bench loss-curve']);
    expect(paperArgs({ repoBytes: 0 })).toBe('paper --seeds 1,2,3,4,5');
    expect(() => planCalls(manifest('r', 'runtime', [63 * MIB]), undefined, opts)).toThrow(/runtime parts .* do not fit/);
    expect(() => planCalls(rt, manifest('d', 'ravdess', [62 * MIB]), opts)).toThrow(/ravdess\.part00 .* larger than one transfer/);
  });

  it('many small parts respect the 8-path carry limit', () => {
    const many = planCalls(rt, manifest('d', 'ravdess', Array(12).fill(2 * MIB)), opts);
    for (const c of many) expect(c.carry.length).toBeLessThanOrEqual(MAX_CARRY);
    expect(many.flatMap((c) => c.carry).filter((p) => p.includes('.part')).length).toBe(12);
    expect(many[many.length - 1]!.command).toContain('paper --seeds');
  });
});
