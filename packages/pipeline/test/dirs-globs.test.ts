import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { cleanup, count, workspace, type Ws } from './helpers.ts';

let ws: Ws;
afterEach(() => cleanup(ws));

/**
 * Replace a file's content. Placed outs are links to read-only cache objects: unlink first, as an
 * editor saving a new file does, so the cached object keeps its content.
 */
function replace(rel: string, text: string) {
  fs.rmSync(path.join(ws.dir, rel), { force: true });
  ws.write(rel, text);
}

const lockOf = () => YAML.parse(ws.read('pipeline.lock')).stages;

describe('directory outs and deps', () => {
  // gen writes a folder from a source folder; list reads the folder gen wrote.
  const PIPELINE = `stages:
  gen:
    cmd: ${count('gen')}; mkdir -p out/corpus/sub && cp data/src/*.txt out/corpus/ && echo deep > out/corpus/sub/deep.txt
    deps: [data/src]
    outs: [out/corpus]
  list:
    cmd: ${count('list')}; mkdir -p out && cat out/corpus/a.txt out/corpus/b.txt out/corpus/sub/deep.txt > out/list.txt
    deps: [out/corpus]
    outs: [out/list.txt]
`;
  const setup = () => {
    ws = workspace({ 'pipeline.yaml': PIPELINE, 'params.yaml': '{}\n', 'data/src/a.txt': 'a1\n', 'data/src/b.txt': 'b1\n' });
    const r = ws.cli('repro');
    expect(r.code, r.err).toBe(0);
  };

  it('locks a directory as a manifest md5 with its file count; a downstream stage depends on it', () => {
    setup();
    expect(ws.read('out/list.txt')).toBe('a1\nb1\ndeep\n');
    const lock = lockOf();
    expect(lock.gen.outs).toEqual([{ path: 'out/corpus', md5: expect.stringMatching(/^[0-9a-f]{32}\.dir$/), size: 11, nfiles: 3 }]);
    expect(lock.gen.deps).toEqual([{ path: 'data/src', md5: expect.stringMatching(/\.dir$/), size: 6, nfiles: 2 }]);
    expect(lock.list.deps).toEqual([{ path: 'out/corpus', md5: lock.gen.outs[0].md5, size: 11, nfiles: 3 }]);
    expect(ws.cli('dag').out).toContain('list  <- gen');
    expect(ws.cli('repro').out).toMatch(/0 ran, 2 cached/);
  });

  it('changing one file inside a source folder makes its reader and everything downstream stale', () => {
    setup();
    replace('data/src/b.txt', 'b2\n');
    const st = JSON.parse(ws.cli('status', '--json').out);
    expect(st.gen.reasons).toContainEqual(expect.objectContaining({ type: 'dep', path: 'data/src', change: 'modified' }));
    expect(st.list.reasons).toContainEqual(expect.objectContaining({ type: 'upstream', stage: 'gen' }));
    const r = ws.cli('repro');
    expect(r.out).toContain('list: running (dep out/corpus modified)');
    expect(ws.read('out/list.txt')).toBe('a1\nb2\ndeep\n');
    expect([ws.runs('gen'), ws.runs('list')]).toEqual([2, 2]);
    // A new file in the folder is a change too.
    ws.write('data/src/c.txt', 'c\n');
    expect(JSON.parse(ws.cli('status', '--json').out).gen.stale).toBe(true);
  });

  it('a file edited inside a produced folder makes its readers stale; repro restores the folder from the cache', () => {
    setup();
    replace('out/corpus/sub/deep.txt', 'tampered\n');
    const st = JSON.parse(ws.cli('status', '--json').out);
    expect(st.gen.reasons).toEqual([expect.objectContaining({ type: 'out', path: 'out/corpus', change: 'modified' })]);
    expect(st.list.reasons).toContainEqual(expect.objectContaining({ type: 'dep', path: 'out/corpus', change: 'modified' }));
    const r = ws.cli('repro');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('gen: restored outs from cache (out out/corpus modified)');
    expect(r.out).toContain('list: cached');
    expect(ws.read('out/corpus/sub/deep.txt')).toBe('deep\n');
    expect([ws.runs('gen'), ws.runs('list')]).toEqual([1, 1]);
  });

  it('a deleted produced folder comes back from the cache, every file in it, without running', () => {
    setup();
    fs.rmSync(path.join(ws.dir, 'out'), { recursive: true });
    const r = ws.cli('repro');
    expect(r.out).toContain('gen: restored outs from cache (out out/corpus missing)');
    expect(r.out).toContain('list: restored outs from cache (out out/list.txt missing)');
    expect(['a.txt', 'b.txt', 'sub/deep.txt'].map((f) => ws.read(`out/corpus/${f}`))).toEqual(['a1\n', 'b1\n', 'deep\n']);
    expect([ws.runs('gen'), ws.runs('list')]).toEqual([1, 1]);
    expect(ws.cli('status', '--check').code).toBe(0);
  });
});

describe('--out-dir: a parent directory token carries the outs', () => {
  // The command names only out/model; its outs are files inside. It also writes a file it does not declare.
  const PIPELINE = `stages:
  train:
    cmd: ${count('train')}; sh train.sh --out-dir out/model
    deps: [train.sh]
    params: [lr]
    outs: [out/model/weights.txt]
    metrics: [out/model/metrics.json]
  use:
    cmd: ${count('use')}; cp out/model/weights.txt used.txt
    deps: [out/model/weights.txt]
    outs: [used.txt]
`;
  const TRAIN = `dir="$2"; mkdir -p "$dir"
echo "lr=$(echo "$PIPELINE_PARAMS" | tr -d '{}\\"')" > "$dir/weights.txt"
echo "written under $dir" >> "$dir/weights.txt"
echo '{"acc": 0.5}' > "$dir/metrics.json"
echo scratch > "$dir/debug.log"
`;

  it('rewrites the parent to staging, moves only the declared outs into place, and locks each', () => {
    ws = workspace({ 'pipeline.yaml': PIPELINE, 'params.yaml': 'lr: 1\n', 'train.sh': TRAIN });
    const r = ws.cli('repro');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('[train] $ echo train');
    expect(ws.read('out/model/weights.txt')).toMatch(/^lr=lr:1\nwritten under \.pipeline\/staging\/train\.\d+\/out\/model\n$/);
    expect(ws.read('used.txt')).toBe(ws.read('out/model/weights.txt'));
    expect(ws.exists('out/model/debug.log')).toBe(false); // not declared: never leaves staging
    expect(fs.readdirSync(path.join(ws.dir, '.pipeline/staging'))).toEqual([]);
    const lock = lockOf();
    expect(lock.train.cmd).toContain('sh train.sh --out-dir out/model');
    expect(lock.train.outs.map((o: { path: string }) => o.path)).toEqual(['out/model/weights.txt', 'out/model/metrics.json']);
    expect(ws.cli('metrics', 'show', '--json').out).toContain('"acc": 0.5');
    expect(ws.cli('dag').out).toContain('use  <- train');
  });

  it('a failing --out-dir stage leaves the previous outs and lock untouched', () => {
    ws = workspace({ 'pipeline.yaml': PIPELINE, 'params.yaml': 'lr: 1\n', 'train.sh': TRAIN });
    expect(ws.cli('repro').code).toBe(0);
    const before = ws.read('out/model/weights.txt');
    const lockBefore = ws.read('pipeline.lock');
    ws.write('params.yaml', 'lr: 2\n');
    ws.write('train.sh', `${TRAIN}exit 3\n`);
    const r = ws.cli('repro');
    expect(r.code).toBe(1);
    expect(r.out).toContain('train: FAILED with exit code 3');
    expect(ws.read('out/model/weights.txt')).toBe(before);
    expect(ws.read('pipeline.lock')).toBe(lockBefore);
    expect(ws.runs('use')).toBe(1);
  });
});

describe('glob deps', () => {
  const PIPELINE = `stages:
  parts:
    cmd: ${count('parts')}; mkdir -p out/parts && echo p1 > out/parts/1.txt && echo p2 > out/parts/2.txt
    outs: [out/parts]
  join:
    cmd: ${count('join')}; cat data/*.txt out/parts/*.txt > joined.txt
    deps: ["data/*.txt", "out/parts/*.txt"]
    outs: [joined.txt]
`;
  const setup = () => {
    ws = workspace({ 'pipeline.yaml': PIPELINE, 'params.yaml': '{}\n', 'data/a.txt': 'a\n', 'data/b.txt': 'b\n', 'data/notes.md': 'n\n' });
    const r = ws.cli('repro');
    expect(r.code, r.err).toBe(0);
  };

  it('locks a glob as the manifest of the files it matches; a glob over an out makes an edge', () => {
    setup();
    expect(ws.read('joined.txt')).toBe('a\nb\np1\np2\n');
    const deps = lockOf().join.deps;
    expect(deps).toEqual([
      { path: 'data/*.txt', md5: expect.stringMatching(/\.dir$/), size: 4, nfiles: 2 },
      { path: 'out/parts/*.txt', md5: expect.stringMatching(/\.dir$/), size: 6, nfiles: 2 },
    ]);
    expect(ws.cli('dag').out).toContain('join  <- parts');
  });

  it('a matching file added or changed makes the stage stale; a non-matching one does not', () => {
    setup();
    ws.write('data/c.md', 'other\n');
    expect(ws.cli('repro').out).toContain('join: cached');
    ws.write('data/c.txt', 'c\n');
    const st = JSON.parse(ws.cli('status', '--json').out);
    expect(st.join.reasons).toEqual([expect.objectContaining({ type: 'dep', path: 'data/*.txt', change: 'modified' })]);
    const r = ws.cli('repro');
    expect(r.out).toContain('join: running (dep data/*.txt modified)');
    expect(ws.read('joined.txt')).toBe('a\nb\nc\np1\np2\n');
    replace('data/a.txt', 'A\n');
    expect(ws.cli('status', '--check').code).toBe(1);
    expect(ws.runs('join')).toBe(2);
  });

  it('a source glob that matches nothing stops repro before anything runs, naming the stage and the dep', () => {
    setup();
    for (const f of ['a.txt', 'b.txt']) fs.rmSync(path.join(ws.dir, 'data', f));
    const r = ws.cli('repro', '--force');
    expect(r.code).toBe(1);
    expect(r.err).toContain("pipeline.yaml:5: stage 'join': dep 'data/*.txt' does not exist and no stage produces it");
    expect([ws.runs('parts'), ws.runs('join')]).toEqual([1, 1]);
  });
});
