/** The remote tests' fixture: a tiny pipeline with a file out, a directory out and a downstream stage. */
import fs from 'node:fs';
import path from 'node:path';
import { collect, count, workspace, type Ws } from './helpers.ts';

// a -> d (a directory out) -> c; c alone reads p.y (the "downstream param" a teammate changes).
export const REMOTE_PIPELINE = `stages:
  a:
    cmd: ${count('a')}; mkdir -p out && echo "x=\${p.x}" > out/a.txt
    params: [p.x]
    outs: [out/a.txt]
  d:
    cmd: ${count('d')}; mkdir -p out/d/sub && cp out/a.txt out/d/copy.txt && echo two > out/d/sub/two.txt && head -c 3000 /dev/zero > out/d/zeros.bin
    deps: [out/a.txt]
    outs: [out/d]
  c:
    cmd: ${count('c')}; cat out/a.txt out/d/sub/two.txt > out/c.txt && echo "y=\${p.y}" >> out/c.txt
    deps: [out/a.txt, out/d]
    params: [p.y]
    outs: [out/c.txt]
`;

export const REMOTE_PARAMS = 'p:\n  x: 1\n  y: 1\n';

/** Workspace A: the pipeline, run once. */
export function ranWorkspace(expect: (v: unknown, msg?: string) => { toBe(v: unknown): void }): Ws {
  const ws = workspace({ 'pipeline.yaml': REMOTE_PIPELINE, 'params.yaml': REMOTE_PARAMS });
  const r = ws.cli('repro');
  expect(r.code, r.err).toBe(0);
  return ws;
}

/** A fresh clone of `a`: what git would hold (pipeline, params, lock, .pipeline/config.yaml), no outs, no cache. */
export function freshClone(a: Ws): Ws {
  const files: Record<string, string> = {};
  for (const f of ['pipeline.yaml', 'params.yaml', 'pipeline.lock', '.pipeline/config.yaml']) files[f] = a.read(f);
  return workspace(files);
}

/** Every file under `dir` (relative paths), for "nothing half-written was left" checks. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}

/** The md5 of each out in a lock text, by path (`out/d` -> `<md5>.dir`). */
export function lockedMd5(lockText: string): Record<string, string> {
  const res: Record<string, string> = {};
  for (const m of lockText.matchAll(/- path: (\S+)\n\s+md5: (\S+)/g)) res[m[1]!] = m[2]!;
  return res;
}

/**
 * Run the CLI without blocking the test's event loop (a test that runs it many times would
 * otherwise starve the test runner's own messages on a loaded machine).
 */
export const cli = (ws: Ws, ...args: string[]) => collect(ws.spawnCli(...args));
