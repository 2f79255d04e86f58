/**
 * No-op repro on a 20-stage pipeline whose stages all depend on a 1 GB directory (256 x 4 MiB).
 * Prints: cold run, no-op runs (process start included), and the no-op cost without the memo.
 * The second run must hash 0 bytes. Data lives in /tmp and is deleted at the end.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/ser-pipeline.mjs');
const STAGES = 20;
const FILES = Number(process.env.BENCH_FILES ?? 256);
const FILE_MB = 4;

function run(dir: string, ...args: string[]): { ms: number; out: string } {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, PIPELINE_STATS: '1' } });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`ser-pipeline ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return { ms, out: r.stdout };
}

const stat = (out: string) => /stats: (.*)/.exec(out)?.[1] ?? '?';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ser-pipeline-bench-'));
try {
  const t0 = Date.now();
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  const block = crypto.randomBytes(FILE_MB << 20);
  for (let i = 0; i < FILES; i++) {
    block.writeUInt32LE(i, 0); // distinct content per file
    fs.writeFileSync(path.join(data, `part-${String(i).padStart(4, '0')}.bin`), block);
  }
  console.log(`data: ${FILES} files x ${FILE_MB} MiB = ${(FILES * FILE_MB) / 1024} GiB in ${dir} (written in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const stages = Array.from({ length: STAGES }, (_, i) => {
    const deps = ['data', ...(i ? [`out/s${i - 1}.txt`] : [])];
    return `  s${i}:\n    cmd: echo ${i} > out/s${i}.txt\n    deps: [${deps.join(', ')}]\n    outs: [out/s${i}.txt]\n`;
  });
  fs.writeFileSync(path.join(dir, 'pipeline.yaml'), `stages:\n${stages.join('')}`);
  fs.writeFileSync(path.join(dir, 'params.yaml'), '');

  const cold = run(dir, 'repro');
  console.log(`cold repro (20 stages run, 1 GiB hashed once):  ${(cold.ms / 1000).toFixed(2)} s   [${stat(cold.out)}]`);
  const noop: number[] = [];
  let last = '';
  for (let i = 0; i < 5; i++) {
    const r = run(dir, 'repro');
    noop.push(r.ms);
    last = r.out;
    if (!/0 ran, 20 cached/.test(r.out)) throw new Error(`no-op repro ran something:\n${r.out}`);
    if (!/hashed 0 file\(s\), 0 bytes/.test(r.out)) throw new Error(`no-op repro re-hashed:\n${r.out}`);
  }
  console.log(`no-op repro x5 (process start included):      median ${median(noop).toFixed(0)} ms, min ${Math.min(...noop).toFixed(0)} ms   [${stat(last)}]`);
  const st: number[] = [];
  for (let i = 0; i < 3; i++) st.push(run(dir, 'status').ms);
  console.log(`no-op status x3:                              median ${median(st).toFixed(0)} ms`);
  fs.rmSync(path.join(dir, '.pipeline', 'state.json'));
  const nomemo = run(dir, 'repro');
  console.log(`no-op repro after deleting the memo (re-hash):  ${(nomemo.ms / 1000).toFixed(2)} s   [${stat(nomemo.out)}]`);
  const again = run(dir, 'repro');
  console.log(`no-op repro with the memo rebuilt:              ${again.ms.toFixed(0)} ms   [${stat(again.out)}]`);
  const base: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0']);
    base.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  console.log(`baseline: bare \`node -e 0\` x5 on this machine:       median ${median(base).toFixed(0)} ms`);
  // CPU time (user+sys) is robust to a loaded machine, where wall time is not.
  const cpu = (args: string[]) => {
    const xs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = spawnSync('/usr/bin/time', ['-f', 'CPU %U %S', process.execPath, ...args], { cwd: dir, encoding: 'utf8' });
      const m = /CPU ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
      if (!m) return undefined;
      xs.push((Number(m[1]) + Number(m[2])) * 1000);
    }
    return median(xs);
  };
  const cRepro = cpu([BIN, 'repro']);
  const cNode = cpu(['-e', '0']);
  if (cRepro !== undefined && cNode !== undefined) {
    console.log(`CPU (user+sys) x5 median: no-op repro ${cRepro.toFixed(0)} ms, bare node ${cNode.toFixed(0)} ms`);
  }
  if (process.env.BENCH_KEEP) {
    console.log(`kept ${dir}`);
    process.exit(0);
  }
  console.log('dvc: not installed here; see README (DVC keeps the same inode+mtime+size state db).');
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
