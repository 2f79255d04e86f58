import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { cleanup, threeStageWorkspace, type Ws } from './helpers.ts';

let ws: Ws;
afterEach(() => cleanup(ws));

function setup() {
  ws = threeStageWorkspace(expect);
  return ws;
}

describe('caching and invalidation', () => {
  it('second repro runs nothing; lock records cmd, deps, params, outs', () => {
    setup();
    const r = ws.cli('repro');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/0 ran, 3 cached/);
    expect([ws.runs('a'), ws.runs('b'), ws.runs('c')]).toEqual([1, 1, 1]);
    const lock = YAML.parse(ws.read('pipeline.lock'));
    expect(Object.keys(lock.stages)).toEqual(['a', 'b', 'c']);
    expect(lock.stages.b.params).toEqual({ 'p.y': 1 });
    expect(lock.stages.b.deps[0]).toMatchObject({ path: 'data/in.txt', size: 6 });
    expect(lock.stages.c.outs[0].md5).toMatch(/^[0-9a-f]{32}$/);
  });

  it('a params key change invalidates only the stage declaring it (and downstream), with the reason', () => {
    setup();
    ws.write('params.yaml', 'p:\n  x: 1\n  y: 2\n');
    const st = ws.cli('status', '--json');
    const j = JSON.parse(st.out);
    expect(j.a.stale).toBe(false);
    expect(j.b.stale).toBe(true);
    expect(j.b.reasons).toContainEqual(expect.objectContaining({ type: 'param', key: 'p.y', old: 1, new: 2 }));
    expect(j.c.reasons).toContainEqual(expect.objectContaining({ type: 'upstream', stage: 'b' }));
    const text = ws.cli('status').out;
    expect(text).toContain('param p.y: 1 -> 2');
    expect(text).toContain('a: up to date');
    const chk = ws.cli('status', '--check');
    expect(chk.code).toBe(1);
    expect(chk.err).toContain("stage 'b'");
    expect(chk.err).not.toContain("stage 'a'");
    const r = ws.cli('repro');
    expect(r.code).toBe(0);
    expect([ws.runs('a'), ws.runs('b'), ws.runs('c')]).toEqual([1, 2, 2]);
    expect(ws.cli('status', '--check').code).toBe(0);
    expect(ws.cli('params', 'diff').out).toContain('no params changed');
  });

  it('a dep change reruns the stage and downstream', () => {
    setup();
    ws.write('data/in.txt', 'changed\n');
    expect(ws.cli('status').out).toContain('dep data/in.txt modified');
    ws.cli('repro');
    expect([ws.runs('a'), ws.runs('b'), ws.runs('c')]).toEqual([1, 2, 2]);
    expect(ws.read('out/c.txt')).toContain('changed');
  });

  it('an out deleted by hand is restored from the cache without rerunning', async () => {
    setup();
    const before = ws.read('out/c.txt');
    (await import('node:fs')).rmSync(`${ws.dir}/out/c.txt`);
    expect(ws.cli('status').out).toContain('out out/c.txt missing');
    const r = ws.cli('repro');
    expect(r.out).toContain('c: restored outs from cache');
    expect(ws.runs('c')).toBe(1);
    expect(ws.read('out/c.txt')).toBe(before);
  });
});
