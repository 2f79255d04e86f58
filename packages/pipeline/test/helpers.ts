import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/ser-pipeline.mjs');

export interface Ws {
  dir: string;
  write(rel: string, text: string): void;
  read(rel: string): string;
  exists(rel: string): boolean;
  /** Run the CLI synchronously in the workspace. */
  cli(...args: string[]): { code: number; out: string; err: string };
  /** Start the CLI without waiting. */
  spawnCli(...args: string[]): ReturnType<typeof spawn>;
  /** Times each stage has run (stages append to this log outside the workspace). */
  runs(stage: string): number;
  log: string;
}

export function workspace(files: Record<string, string>): Ws {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ser-pipeline-test-'));
  const log = `${dir}.runs.log`;
  const ws: Ws = {
    dir,
    log,
    write(rel, text) {
      const f = path.join(dir, rel);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, text);
    },
    read: (rel) => fs.readFileSync(path.join(dir, rel), 'utf8'),
    exists: (rel) => fs.existsSync(path.join(dir, rel)),
    cli(...args) {
      const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, RUNLOG: log } });
      return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
    },
    spawnCli(...args) {
      return spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, RUNLOG: log }, stdio: ['ignore', 'pipe', 'pipe'] });
    },
    runs(stage) {
      if (!fs.existsSync(log)) return 0;
      return fs.readFileSync(log, 'utf8').split('\n').filter((l) => l === stage).length;
    },
  };
  for (const [k, v] of Object.entries(files)) ws.write(k, v);
  return ws;
}

export function cleanup(ws: Ws) {
  fs.rmSync(ws.dir, { recursive: true, force: true });
  fs.rmSync(ws.log, { force: true });
}

/** Shell snippet a stage puts first in its cmd to count its runs. */
export const count = (stage: string) => `echo ${stage} >> "$RUNLOG"`;

export async function waitFor(cond: () => boolean, ms = 15000) {
  const t = Date.now();
  while (!cond()) {
    if (Date.now() - t > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function collect(child: ReturnType<typeof spawn>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((r) => child.on('close', (code) => r({ code: code ?? -1, out, err })));
}

// Two independent stages with one params key each, and a downstream stage reading both.
export const THREE_STAGES = `stages:
  a:
    cmd: ${count('a')}; mkdir -p out && echo "x=\${p.x}" > out/a.txt
    params: [p.x]
    outs: [out/a.txt]
  b:
    cmd: ${count('b')}; mkdir -p out && cat data/in.txt > out/b.txt && echo "y=\${p.y}" >> out/b.txt
    deps: [data/in.txt]
    params: [p.y]
    outs: [out/b.txt]
  c:
    cmd: ${count('c')}; cat out/a.txt out/b.txt > out/c.txt
    deps: [out/a.txt, out/b.txt]
    outs: [out/c.txt]
`;

/**
 * A workspace with THREE_STAGES (params p.x = 1, p.y = 1) after one repro that ran each stage once.
 * `expect` comes from the caller so this file stays free of test-runner imports.
 */
export function threeStageWorkspace(expect: (v: unknown, msg?: string) => { toBe(v: unknown): void; toEqual(v: unknown): void }): Ws {
  const ws = workspace({ 'pipeline.yaml': THREE_STAGES, 'params.yaml': 'p:\n  x: 1\n  y: 1\n', 'data/in.txt': 'hello\n' });
  const r = ws.cli('repro');
  expect(r.code, r.err).toBe(0);
  expect([ws.runs('a'), ws.runs('b'), ws.runs('c')]).toEqual([1, 1, 1]);
  return ws;
}

/** A localhost port nothing listens on now (for a server to take, or to test "unreachable"). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}
