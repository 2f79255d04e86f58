import { describe, expect, it } from 'vitest';
import { describePlan, planStage, type CacheLookup } from '../src/plan.ts';
import { runKey, type Reason, type StageState } from '../src/status.ts';
import type { LockEntry, LockedPath } from '../src/lock.ts';
import type { Stage } from '../src/parse.ts';

/** The artifacts root the planned repro runs under. */
const ART = 'artifacts';

const STAGE: Stage = {
  name: 'feat',
  cmd: 'feat --in data/in.txt --out out/feat.bin --report out/report.json',
  deps: ['data/in.txt'],
  depTemplates: {},
  params: ['feat.n'],
  outs: ['out/feat.bin'],
  metrics: ['out/report.json'],
  plots: [],
  line: 2,
};

const OUT_FEAT: LockedPath = { path: 'out/feat.bin', md5: 'f'.repeat(32), size: 10 };
const OUT_REPORT: LockedPath = { path: 'out/report.json', md5: 'e'.repeat(32), size: 2 };
const ENTRY: LockEntry = { cmd: STAGE.cmd, deps: [{ path: 'data/in.txt', md5: 'a'.repeat(32), size: 3 }], params: { 'feat.n': 4 }, outs: [OUT_FEAT, OUT_REPORT] };

const outModified: Reason = { type: 'out', path: 'out/feat.bin', change: 'modified', message: 'out out/feat.bin modified' };
const outMissing: Reason = { type: 'out', path: 'out/report.json', change: 'missing', message: 'out out/report.json missing' };
const paramChanged: Reason = { type: 'param', key: 'feat.n', old: 4, new: 8, message: 'param feat.n: 4 -> 8' };

function state(reasons: Reason[], stage: Stage = STAGE): StageState {
  return {
    stage,
    reasons,
    deps: new Map([['data/in.txt', { md5: 'a'.repeat(32), size: 3 }]]),
    params: { 'feat.n': 8 },
    outs: new Map([
      ['out/feat.bin', { md5: '0'.repeat(32), size: 10 }],
      ['out/report.json', undefined],
    ]),
  };
}

/** Cache and run-cache contents as plain data; records what the planner asked. */
function caches(objects: LockedPath[], runs: Record<string, LockedPath[]> = {}) {
  const asked = { objects: [] as string[], runKeys: [] as string[] };
  const lookup: CacheLookup = {
    hasObject: (out) => {
      asked.objects.push(out.path);
      return objects.some((o) => o.md5 === out.md5);
    },
    runCacheOuts: (key) => {
      asked.runKeys.push(key);
      return runs[key];
    },
  };
  return { lookup, asked };
}

describe('planStage', () => {
  it('cached: no reasons, and neither cache is asked', () => {
    const c = caches([OUT_FEAT, OUT_REPORT]);
    const plan = planStage({ state: state([]), entry: ENTRY, force: false, caches: c.lookup, artifacts: ART });
    expect(plan).toEqual({ action: 'cached', reasons: [] });
    expect(c.asked).toEqual({ objects: [], runKeys: [] });
  });

  it('restore-from-cache: only outs missing or modified, every locked out in the cache', () => {
    const c = caches([OUT_FEAT, OUT_REPORT]);
    const plan = planStage({ state: state([outModified, outMissing]), entry: ENTRY, force: false, caches: c.lookup, artifacts: ART });
    expect(plan).toEqual({ action: 'restore-from-cache', reasons: [outModified, outMissing], outs: ENTRY.outs });
    expect(describePlan(plan)).toBe('out out/feat.bin modified; out out/report.json missing');
    expect(c.asked.runKeys).toEqual([]);
  });

  it('restore-from-run-cache: inputs changed to ones an earlier run recorded, all its outs cached', () => {
    const st = state([paramChanged]);
    const recorded = [{ ...OUT_FEAT, md5: '1'.repeat(32) }, { ...OUT_REPORT, md5: '2'.repeat(32) }];
    const c = caches(recorded, { [runKey(st, ART)]: recorded });
    const plan = planStage({ state: st, entry: ENTRY, force: false, caches: c.lookup, artifacts: ART });
    expect(plan).toEqual({ action: 'restore-from-run-cache', reasons: [paramChanged], outs: recorded });
    expect(describePlan(plan)).toBe('param feat.n: 4 -> 8');
    expect(c.asked.runKeys).toEqual([runKey(st, ART)]);
  });

  it('run: changed inputs that no run recorded, with the run key for scratch and the run-cache', () => {
    const st = state([paramChanged]);
    const plan = planStage({ state: st, entry: ENTRY, force: false, caches: caches([OUT_FEAT, OUT_REPORT]).lookup, artifacts: ART });
    expect(plan).toEqual({ action: 'run', reasons: [paramChanged], forced: false, runKey: runKey(st, ART) });
  });

  it('run: a stage never run (no lock entry)', () => {
    const neverRun: Reason = { type: 'new', message: 'not in pipeline.lock (never run)' };
    const plan = planStage({ state: state([neverRun]), entry: undefined, force: false, caches: caches([]).lookup, artifacts: ART });
    expect(plan.action).toBe('run');
    expect(describePlan(plan)).toBe('not in pipeline.lock (never run)');
  });

  it('run, not restore-from-cache, when a locked out is gone from the cache or an out was added', () => {
    const partial = planStage({ state: state([outModified]), entry: ENTRY, force: false, caches: caches([OUT_FEAT]).lookup, artifacts: ART });
    expect(partial).toMatchObject({ action: 'run', reasons: [outModified] });
    const added: Reason = { type: 'out', path: 'out/extra.txt', change: 'added', message: 'out out/extra.txt added' };
    const withAdded = planStage({ state: state([added]), entry: ENTRY, force: false, caches: caches([OUT_FEAT, OUT_REPORT]).lookup, artifacts: ART });
    expect(withAdded).toMatchObject({ action: 'run', reasons: [added] });
  });

  it('run, not restore-from-run-cache, when the recorded outs are not the declared ones or not all cached', () => {
    const st = state([paramChanged]);
    const onlyFeat = [OUT_FEAT];
    const otherPaths = planStage({ state: st, entry: ENTRY, force: false, caches: caches([OUT_FEAT], { [runKey(st, ART)]: onlyFeat }).lookup, artifacts: ART });
    expect(otherPaths.action).toBe('run');
    const swapped = [OUT_REPORT, OUT_FEAT];
    const otherOrder = planStage({ state: st, entry: ENTRY, force: false, caches: caches(swapped, { [runKey(st, ART)]: swapped }).lookup, artifacts: ART });
    expect(otherOrder.action).toBe('run');
    const gone = planStage({ state: st, entry: ENTRY, force: false, caches: caches([OUT_FEAT], { [runKey(st, ART)]: [OUT_FEAT, OUT_REPORT] }).lookup, artifacts: ART });
    expect(gone.action).toBe('run');
  });

  it('force runs without asking either cache; "forced" only when nothing else changed', () => {
    const c = caches([OUT_FEAT, OUT_REPORT]);
    const upToDate = planStage({ state: state([]), entry: ENTRY, force: true, caches: c.lookup, artifacts: ART });
    expect(upToDate).toMatchObject({ action: 'run', reasons: [], forced: true });
    expect(describePlan(upToDate)).toBe('forced');
    const restorable = planStage({ state: state([outModified]), entry: ENTRY, force: true, caches: c.lookup, artifacts: ART });
    expect(restorable).toMatchObject({ action: 'run', reasons: [outModified], forced: false });
    expect(describePlan(restorable)).toBe('out out/feat.bin modified');
    expect(c.asked).toEqual({ objects: [], runKeys: [] });
  });
});
