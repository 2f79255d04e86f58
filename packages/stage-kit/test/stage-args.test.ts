// The stage contract helpers: engine facts (scratch, profile) and params read only through here.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EMOTIONS, loadStageParams, stageLog, stageProfile, stageScratch } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'stage-args-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('stage contract helpers', () => {
  it('stageScratch: PIPELINE_SCRATCH when set and non-empty, else undefined', () => {
    expect(stageScratch({ PIPELINE_SCRATCH: '/tmp/s' })).toBe('/tmp/s');
    expect(stageScratch({ PIPELINE_SCRATCH: '' })).toBeUndefined();
    expect(stageScratch({})).toBeUndefined();
  });

  it('stageProfile: --profile in argv wins over PIPELINE_PROFILE; none is the default profile', () => {
    expect(stageProfile(['--profile', 'demo'], { PIPELINE_PROFILE: 'x' })).toBe('demo');
    expect(stageProfile([], { PIPELINE_PROFILE: 'ravdess-cpu' })).toBe('ravdess-cpu');
    expect(stageProfile([], {})).toBe('');
  });

  it('stageLog: the given log, else a function', () => {
    const lines: string[] = [];
    stageLog({ log: (m) => lines.push(m) })('hello');
    expect(lines).toEqual(['hello']);
    expect(stageLog({})).toBeTypeOf('function');
  });

  it('loadStageParams({ fromEngine: false }) reads params.yaml even when PIPELINE_PARAMS is set', () => {
    writeFileSync(join(dir, 'params.yaml'), 'features:\n  n_mels: 64\n');
    const env = { PIPELINE_PARAMS: JSON.stringify({ features: { n_mels: 8 } }) };
    expect(loadStageParams({ cwd: dir, env, argv: [] })).toEqual({ features: { n_mels: 8 } });
    expect(loadStageParams({ cwd: dir, env, argv: [], fromEngine: false })).toEqual({ features: { n_mels: 64 } });
  });

  it('EMOTIONS: the 8 RAVDESS emotions in code order (label = code - 1)', () => {
    expect(EMOTIONS).toEqual(['neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised']);
  });
});
