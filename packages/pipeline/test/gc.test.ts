// gc: what each scope keeps, dry run by default, never an object a kept lock references.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { cleanup, count, workspace, type Ws } from './helpers.ts';

let ws: Ws;
afterEach(() => cleanup(ws));

const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: dir, stdio: 'pipe' });

// A file out and a directory out, both depending on x; one file of the directory does not.
const PIPELINE = `stages:
  a:
    cmd: ${count('a')}; mkdir -p \${artifacts} && echo "x=\${x}" > \${artifacts}/a.txt
    params: [x]
    outs: ["\${artifacts}/a.txt"]
  d:
    cmd: ${count('d')}; mkdir -p \${artifacts}/dirout && echo same > \${artifacts}/dirout/f1 && echo "f2 x=\${x}" > \${artifacts}/dirout/f2
    params: [x]
    outs: ["\${artifacts}/dirout"]
`;

/** Cache files (objects), relative to .pipeline/cache. */
function cacheFiles(w: Ws): string[] {
  const dir = path.join(w.dir, '.pipeline/cache');
  return fs.readdirSync(dir).flatMap((a) => fs.readdirSync(path.join(dir, a)).map((b) => `${a}/${b}`)).sort();
}

const objectSize = (w: Ws, md5: string) => fs.statSync(path.join(w.dir, '.pipeline/cache', md5.slice(0, 2), md5.slice(2))).size;

/** x=1 committed, then x=2 in the workspace (uncommitted lock) and x=5 under the demo profile. */
function history(): { x1: { a: string; dir: string } } {
  ws = workspace({ 'pipeline.yaml': PIPELINE, 'params.yaml': 'x: 1\n', 'params.demo.yaml': 'x: 5\n', '.gitignore': '.pipeline/\nartifacts/\n' });
  git(ws.dir, 'init', '-q');
  expect(ws.cli('repro', '--profile', 'default').code).toBe(0);
  git(ws.dir, 'add', '-A');
  git(ws.dir, 'commit', '-qm', 'x=1');
  const lock1 = YAML.parse(ws.read('pipeline.lock')).stages;
  ws.write('params.yaml', 'x: 2\n');
  expect(ws.cli('repro', '--profile', 'default').code).toBe(0);
  expect(ws.cli('repro', '--profile', 'demo').code).toBe(0);
  return { x1: { a: lock1.a.outs[0].md5, dir: lock1.d.outs[0].md5 } };
}

describe('gc', () => {
  it('needs a scope; without --force it only says what it would remove', () => {
    const { x1 } = history();
    expect(ws.cli('gc').err.trim()).toBe('ser-pipeline: gc: say what to keep with exactly one of --workspace, --all-profiles, --all-commits');
    expect(ws.cli('gc', '--workspace', '--all-commits').code).toBe(1);
    expect(ws.cli('gc', '--all-profiles', '--dry', '--force').err).toContain('--dry and --force contradict each other');
    const before = cacheFiles(ws);
    // x=1 only: a.txt "x=1\n", dirout/f2 "f2 x=1\n" and the x=1 manifest (f1 is shared with x=2 and x=5).
    const bytes = 4 + 7 + objectSize(ws, x1.dir);
    const dry = ws.cli('gc', '--all-profiles');
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out.split('\n')).toEqual([
      'gc --all-profiles: keeping what 2 lock(s) reference: pipeline.demo.lock, pipeline.lock',
      `would remove 3 of ${before.length} cache object(s), ${bytes} bytes, and 2 of 6 run-cache entries`,
      'dry run: nothing removed; pass --force to remove',
      '',
    ]);
    expect(ws.cli('gc', '--all-profiles', '--dry').out).toContain('would remove 3 of');
    expect(cacheFiles(ws)).toEqual(before);
    // --all-commits also keeps the committed x=1 lock: nothing to remove.
    expect(ws.cli('gc', '--all-commits').out).toContain(`would remove 0 of ${before.length} cache object(s), 0 bytes, and 0 of 6 run-cache entries`);
  });

  it('--all-profiles --force removes only what no lock references; everything locked still restores', () => {
    const { x1 } = history();
    const before = cacheFiles(ws);
    const r = ws.cli('gc', '--all-profiles', '--force');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`removed 3 of ${before.length} cache object(s)`);
    expect(r.out).toContain('and 2 of 6 run-cache entries');
    const after = cacheFiles(ws);
    expect(after).toHaveLength(before.length - 3);
    for (const md5 of [x1.a, x1.dir]) expect(after).not.toContain(`${md5.slice(0, 2)}/${md5.slice(2)}`);
    // Every object both locks reference is still there: delete the outs and restore without running.
    for (const [profile, artifacts] of [['default', 'artifacts'], ['demo', 'artifacts/demo']] as const) {
      fs.rmSync(path.join(ws.dir, artifacts, 'a.txt'));
      fs.rmSync(path.join(ws.dir, artifacts, 'dirout'), { recursive: true });
      const re = ws.cli('repro', '--profile', profile);
      expect(re.out, re.err).toContain('0 ran, 0 cached, 2 restored from cache');
      expect(ws.cli('status', '--check', '--profile', profile).code).toBe(0);
    }
    expect(ws.read('artifacts/dirout/f2')).toBe('f2 x=2\n');
    // x=1's run-cache entries went with its objects: going back to x=1 runs the stages again.
    const runsBefore = [ws.runs('a'), ws.runs('d')];
    ws.write('params.yaml', 'x: 1\n');
    expect(ws.cli('repro', '--profile', 'default').out).toContain('2 ran');
    expect([ws.runs('a'), ws.runs('d')]).toEqual(runsBefore.map((n) => n + 1));
    // A second gc finds nothing left to collect.
    expect(ws.cli('gc', '--all-commits', '--force').code).toBe(0);
    expect(ws.cli('gc', '--all-commits', '--force').out).toContain('removed 0 of');
  });

  it('--workspace keeps only the workspace profile lock (or --profile); --all-commits keeps history', () => {
    const { x1 } = history();
    // The workspace profile is demo (the last repro): default's x=2 objects would go too.
    const demoOnly = ws.cli('gc', '--workspace');
    expect(demoOnly.out.split('\n')[0]).toBe('gc --workspace (profile demo, from .pipeline/profile): keeping what 1 lock(s) reference: pipeline.demo.lock');
    expect(demoOnly.out).toMatch(/would remove 6 of \d+ cache object/);
    const all = ws.cli('gc', '--all-commits', '--force');
    expect(all.code, all.err).toBe(0);
    expect(all.out).toMatch(/keeping what 3 lock\(s\) reference: pipeline\.demo\.lock, pipeline\.lock, pipeline\.lock \(blob [0-9a-f]{10}\)/);
    expect(all.out).toContain('removed 0 of');
    const r = ws.cli('gc', '--workspace', '--profile', 'default', '--force');
    expect(r.out.split('\n')[0]).toBe('gc --workspace (profile default): keeping what 1 lock(s) reference: pipeline.lock');
    const after = cacheFiles(ws);
    expect(after).not.toContain(`${x1.a.slice(0, 2)}/${x1.a.slice(2)}`);
    expect(ws.cli('status', '--check', '--profile', 'default').code).toBe(0);
  });

  it('refuses --force while a repro holds the workspace, and a bad lock in history stops it', () => {
    history();
    // This test process is alive: its pid in repro.lock reads as a running repro.
    ws.write('.pipeline/repro.lock', `${process.pid}\n`);
    const busy = ws.cli('gc', '--all-profiles', '--force');
    expect(busy.code).toBe(1);
    expect(busy.err).toContain(`another repro (pid ${process.pid}) is running on this workspace`);
    fs.rmSync(path.join(ws.dir, '.pipeline/repro.lock'));
    ws.write('pipeline.old.lock', 'stages: [oops\n');
    git(ws.dir, 'add', 'pipeline.old.lock');
    git(ws.dir, 'commit', '-qm', 'broken lock');
    fs.rmSync(path.join(ws.dir, 'pipeline.old.lock'));
    const before = cacheFiles(ws);
    const bad = ws.cli('gc', '--all-commits', '--force');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^ser-pipeline: pipeline\.old\.lock \(blob [0-9a-f]{10}\): invalid YAML/);
    expect(cacheFiles(ws)).toEqual(before);
  });
});

describe('gc and stacked profiles', () => {
  it("--all-profiles keeps what a stacked profile's lock (pipeline.a+b.lock) references", () => {
    ws = workspace({ 'pipeline.yaml': PIPELINE, 'params.yaml': 'x: 1\n', 'params.demo.yaml': 'x: 5\n', 'params.fast.yaml': 'x: 7\n' });
    expect(ws.cli('repro', '--profile', 'demo+fast').code).toBe(0);
    const md5 = YAML.parse(ws.read('pipeline.demo+fast.lock')).stages.a.outs[0].md5 as string;
    const r = ws.cli('gc', '--all-profiles', '--force');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('pipeline.demo+fast.lock');
    expect(cacheFiles(ws)).toContain(`${md5.slice(0, 2)}/${md5.slice(2)}`);
    expect(ws.cli('status', '--profile', 'demo+fast').out.split('\n')[0]).toContain('all 2 stage(s) up to date');
  });
});
