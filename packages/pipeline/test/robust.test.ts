import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { cleanup, collect, count, waitFor, workspace, type Ws } from './helpers.ts';

let ws: Ws;
afterEach(() => cleanup(ws));

describe('robustness', () => {
  it('kill -9 mid-stage leaves no half-written out and no lock entry; scratch survives and resumes', async () => {
    // First run: writes a checkpoint to scratch and half of the out, then hangs (while `slow` exists).
    // Second run: sees the checkpoint, finishes, and the scratch dir is deleted on success.
    ws = workspace({
      'pipeline.yaml': `stages:
  s:
    cmd: >-
      ${count('s')}; echo $$ > "$RUNLOG.pid";
      if [ -f "$PIPELINE_SCRATCH/ckpt" ]; then r=resumed; else r=fresh; echo 1 > "$PIPELINE_SCRATCH/ckpt"; fi;
      printf half > out.txt;
      if [ -f slow ]; then sleep 30; fi;
      echo " $r" >> out.txt
    outs: [out.txt]
`,
      'params.yaml': '',
      slow: '',
    });
    const child = ws.spawnCli('repro');
    await waitFor(() => ws.runs('s') === 1 && fs.existsSync(path.join(ws.dir, '.pipeline/staging')) && fs.readdirSync(path.join(ws.dir, '.pipeline/staging')).some((d) => fs.existsSync(path.join(ws.dir, '.pipeline/staging', d, 'out.txt'))));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    // The orphaned stage keeps running (into its own staging dir); stop it so it cannot linger.
    process.kill(-Number(fs.readFileSync(`${ws.log}.pid`, 'utf8')), 'SIGKILL');
    fs.rmSync(`${ws.log}.pid`);
    expect(ws.exists('out.txt')).toBe(false);
    expect(ws.exists('pipeline.lock')).toBe(false);
    // The dead pid's run lock is detected and taken over.
    expect(ws.read('.pipeline/repro.lock').trim()).toBe(String(child.pid));
    fs.rmSync(path.join(ws.dir, 'slow'));
    const r = ws.cli('repro');
    expect(r.code, r.err + r.out).toBe(0);
    expect(ws.read('out.txt')).toBe('half resumed\n');
    expect(YAML.parse(ws.read('pipeline.lock')).stages.s.outs[0].path).toBe('out.txt');
    expect(ws.exists('.pipeline/scratch/s')).toBe(false);
  });

  it('a failing stage records nothing and keeps the old out', () => {
    ws = workspace({
      'pipeline.yaml': 'stages:\n  s:\n    cmd: echo v${p} > o.txt; test ${p} != 2\n    params: [p]\n    outs: [o.txt]\n',
      'params.yaml': 'p: 1\n',
    });
    expect(ws.cli('repro').code).toBe(0);
    const lock = ws.read('pipeline.lock');
    ws.write('params.yaml', 'p: 2\n');
    const r = ws.cli('repro');
    expect(r.code).toBe(1);
    expect(r.out).toContain('s: FAILED with exit code 1');
    expect(ws.read('o.txt')).toBe('v1\n');
    expect(ws.read('pipeline.lock')).toBe(lock);
  });

  it('a failed stage keeps its scratch folder only when it wrote something to resume from', () => {
    ws = workspace({
      'pipeline.yaml': `stages:
  s:
    cmd: if [ \${ckpt} = 1 ]; then echo 1 > "$PIPELINE_SCRATCH/ckpt"; fi; exit 3; echo > o.txt
    params: [ckpt]
    outs: [o.txt]
`,
      'params.yaml': 'ckpt: 0\n',
    });
    // An empty fingerprint folder left by an earlier killed run goes too.
    fs.mkdirSync(path.join(ws.dir, '.pipeline/scratch/s/0123456789abcdef'), { recursive: true });
    const empty = ws.cli('repro');
    expect(empty.code).toBe(1);
    expect(empty.out).toContain('s: FAILED with exit code 3');
    expect(empty.out).not.toContain('scratch');
    expect(ws.exists('.pipeline/scratch/s')).toBe(false);
    ws.write('params.yaml', 'ckpt: 1\n');
    const kept = ws.cli('repro');
    expect(kept.code).toBe(1);
    expect(kept.out).toMatch(/s: FAILED with exit code 3 after .*; nothing recorded; scratch \.pipeline\/scratch\/s\/[0-9a-f]{16} kept for a resume/);
    const dirs = fs.readdirSync(path.join(ws.dir, '.pipeline/scratch/s'));
    expect(dirs).toHaveLength(1);
    expect(ws.read(`.pipeline/scratch/s/${dirs[0]}/ckpt`)).toBe('1\n');
  });

  it('a second concurrent repro fails fast; with --wait it runs after the first', async () => {
    ws = workspace({
      'pipeline.yaml': `stages:\n  s:\n    cmd: ${count('s')}; sleep 1.5; echo done > o.txt\n    outs: [o.txt]\n`,
      'params.yaml': '',
    });
    const first = ws.spawnCli('repro');
    const firstDone = collect(first);
    await waitFor(() => ws.runs('s') === 1);
    const second = ws.cli('repro');
    expect(second.code).toBe(1);
    expect(second.err).toMatch(/another repro \(pid \d+\) is running on this workspace/);
    const waiter = collect(ws.spawnCli('repro', '--wait'));
    expect((await firstDone).code).toBe(0);
    const w = await waiter;
    expect(w.code).toBe(0);
    expect(w.out).toContain('s: cached');
    expect(ws.runs('s')).toBe(1);
  });

  it('-j 2 runs independent stages at the same time', () => {
    // Each stage waits (max 10 s) for the other to have started: passes only when run in parallel.
    const stage = (me: string, other: string) => `  ${me}:
    cmd: >-
      touch "$RUNLOG.${me}"; i=0; while [ ! -f "$RUNLOG.${other}" ]; do i=$((i+1)); [ $i -gt 200 ] && exit 3; sleep 0.05; done;
      echo ${me} > ${me}.txt
    outs: [${me}.txt]
`;
    ws = workspace({ 'pipeline.yaml': `stages:\n${stage('a', 'b')}${stage('b', 'a')}`, 'params.yaml': '' });
    const r = ws.cli('repro', '-j', '2');
    fs.rmSync(`${ws.log}.a`, { force: true });
    fs.rmSync(`${ws.log}.b`, { force: true });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('2 ran');
  });

  it('profiles: overlay params, own artifacts root and own lock; profile-only stages', () => {
    ws = workspace({
      'pipeline.yaml': `stages:
  gen:
    profiles: [demo]
    cmd: echo generated > \${artifacts}/gen.txt
    outs: ["\${artifacts}/gen.txt"]
  use:
    cmd: echo "n=\${n}" > \${artifacts}/use.txt
    params: [n]
    outs: ["\${artifacts}/use.txt"]
`,
      'params.yaml': 'n: 1\n',
      'params.demo.yaml': 'n: 2\n',
    });
    expect(ws.cli('repro').code).toBe(0);
    const defLock = ws.read('pipeline.lock');
    expect(ws.read('artifacts/use.txt')).toBe('n=1\n');
    expect(ws.exists('artifacts/gen.txt')).toBe(false);
    const r = ws.cli('repro', '--profile', 'demo');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('2 ran');
    expect(ws.read('artifacts/demo/use.txt')).toBe('n=2\n');
    expect(ws.read('artifacts/demo/gen.txt')).toBe('generated\n');
    expect(Object.keys(YAML.parse(ws.read('pipeline.demo.lock')).stages)).toEqual(['gen', 'use']);
    expect(ws.read('pipeline.lock')).toBe(defLock);
    expect(ws.cli('repro', '--profile', 'demo').out).toContain('0 ran, 2 cached');
    // repro --profile demo made demo the workspace profile; --profile default looks at the paper's.
    expect(ws.cli('status').out.split('\n')[0]).toBe('status (profile demo, from .pipeline/profile): all 2 stage(s) up to date (pipeline.demo.lock)');
    expect(ws.cli('status', '--profile', 'default').out.split('\n')[0]).toBe('status (profile default): all 1 stage(s) up to date (pipeline.lock)');
  });

  it('repro --check names a stage whose fresh outputs differ from the committed lock', () => {
    ws = workspace({
      'pipeline.yaml': `stages:
  det:
    cmd: echo fixed > det.txt
    params: [sec]
    outs: [det.txt]
  nondet:
    cmd: node -e "console.log(Math.random())" > rnd.txt
    outs: [rnd.txt]
`,
      'params.yaml': 'sec: {zeta: 1, alpha: {y: 2, b: 3}}\n',
    });
    expect(ws.cli('repro').code).toBe(0);
    // A fresh clone: the lock is committed, outputs and cache are not.
    fs.rmSync(path.join(ws.dir, '.pipeline'), { recursive: true });
    fs.rmSync(path.join(ws.dir, 'det.txt'));
    fs.rmSync(path.join(ws.dir, 'rnd.txt'));
    const r = ws.cli('repro', '--check');
    expect(r.code).toBe(1);
    expect(r.out).toContain("check: stage 'nondet'");
    expect(r.out).toContain('out rnd.txt');
    expect(r.out).not.toContain("check: stage 'det'");
    expect(ws.cli('repro', '--check').code).toBe(0);
    fs.rmSync(path.join(ws.dir, '.pipeline'), { recursive: true });
    fs.rmSync(path.join(ws.dir, 'rnd.txt'));
    const ex = ws.cli('repro', '--check-except', 'nondet');
    expect(ex.code, ex.out).toBe(0);
    expect(ex.out).toContain('matches what this run produced for all 1 checked stage(s)');
  });
});
