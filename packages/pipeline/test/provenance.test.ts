// The params digest of a run: every param that reached any stage, from the lock.
import { describe, expect, it } from 'vitest';
import { lockParamsDigest, readLock } from '../src/index.ts';
import { workspace, THREE_STAGES } from './helpers.ts';

describe('lockParamsDigest', () => {
  it('differs between two profiles that differ only in one upstream param, and covers every stage', () => {
    const ws = workspace({
      'pipeline.yaml': THREE_STAGES,
      'params.yaml': 'p:\n  x: 1\n  y: 1\nunused: 5\n',
      'params.other.yaml': 'p:\n  y: 2\n',
      'data/in.txt': 'hello\n',
    });
    expect(ws.cli('repro').code).toBe(0);
    expect(ws.cli('repro', '--profile', 'other').code).toBe(0);
    const base = lockParamsDigest(readLock(ws.dir, 'pipeline.lock'));
    const other = lockParamsDigest(readLock(ws.dir, 'pipeline.other.lock'));
    // Only what stages declared, as dotted keys: p.x from stage a, p.y from stage b, not `unused`.
    expect(base.params).toEqual({ 'p.x': 1, 'p.y': 1 });
    expect(other.params).toEqual({ 'p.x': 1, 'p.y': 2 });
    expect(other.sha256).not.toBe(base.sha256);
    // The downstream stage alone declares nothing: its own params would hash the same in both runs.
    expect(lockParamsDigest(readLock(ws.dir, 'pipeline.lock'), ['c']).sha256).toBe(lockParamsDigest(readLock(ws.dir, 'pipeline.other.lock'), ['c']).sha256);
    expect(() => lockParamsDigest(readLock(ws.dir, 'pipeline.lock'), ['nope'])).toThrow(/stage 'nope' is not in the lock/);
  });

  it('flattens nested params so the same values give the same digest however a stage declared them', () => {
    const entry = (params: Record<string, unknown>) => ({ cmd: '', deps: [], outs: [], params: params as never });
    const a = lockParamsDigest({ s: entry({ train: { lr: 0.1, betas: [0.9, 0.99] } }) });
    const b = lockParamsDigest({ s: entry({ 'train.betas': [0.9, 0.99], 'train.lr': 0.1 }) });
    expect(a).toEqual(b);
    expect(a.params).toEqual({ 'train.betas': [0.9, 0.99], 'train.lr': 0.1 });
  });
});
