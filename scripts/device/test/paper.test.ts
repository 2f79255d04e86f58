// The paper mode's overlay (what changes per seed) and its mean/std.
import { describe, it, expect } from 'vitest';
import { parse } from 'yaml';
import { overlayYaml, meanStd } from '../src/paper.ts';
import { curveDiff } from '../src/loss-curve.ts';

describe('paper mode', () => {
  it('overlay sets only seed, data.dir, train.backend (+ max_epochs when given)', () => {
    expect(parse(overlayYaml({ dataDir: '/tmp/ser-data/ravdess', seed: 3, backend: 'webgpu' }))).toEqual({
      seed: 3,
      data: { dir: '/tmp/ser-data/ravdess' },
      train: { backend: 'webgpu' },
    });
    expect(parse(overlayYaml({ dataDir: '/d', seed: 1, backend: 'webgpu', maxEpochs: 4 })).train).toEqual({ backend: 'webgpu', max_epochs: 4 });
  });

  it('mean and sample std', () => {
    expect(meanStd([0.8, 0.7, 0.9])).toEqual({ mean: expect.closeTo(0.8, 12), std: expect.closeTo(0.1, 12), n: 3 });
    expect(meanStd([0.5])).toEqual({ mean: 0.5, std: 0, n: 1 });
  });

  it('loss curves: max abs and relative difference', () => {
    expect(curveDiff([2, 1, 0.5], [2, 1.1, 0.5])).toEqual({ maxAbs: expect.closeTo(0.1, 12), maxRel: expect.closeTo(0.1, 12) });
  });
});
