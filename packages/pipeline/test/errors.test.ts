import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, workspace, type Ws } from './helpers.ts';

let ws: Ws;
afterEach(() => cleanup(ws));

function fails(pipeline: string, params = 'p: 1\n', cmd = 'status') {
  ws = workspace({ 'pipeline.yaml': pipeline, 'params.yaml': params });
  const r = ws.cli(cmd);
  expect(r.code).toBe(1);
  expect(r.err.trim().split('\n')).toHaveLength(1);
  return r.err.trim();
}

describe('pipeline.yaml errors name file, line and stage', () => {
  it('cycle: prints the cycle', () => {
    const err = fails(`stages:
  a:
    cmd: cp b.txt a.txt
    deps: [b.txt]
    outs: [a.txt]
  b:
    cmd: cp a.txt b.txt
    deps: [a.txt]
    outs: [b.txt]
`);
    expect(err).toMatch(/pipeline\.yaml:\d+: stage '[ab]': cycle: (a -> b -> a|b -> a -> b)/);
  });

  it('bad YAML: line number', () => {
    const err = fails('stages:\n  a:\n    cmd: echo\n   outs: [x\n');
    expect(err).toMatch(/^ser-pipeline: pipeline\.yaml:\d+: invalid YAML/);
  });

  it('unknown key: line of the key and stage', () => {
    const err = fails('stages:\n  a:\n    cmd: echo hi > x\n    outs: [x]\n    dpes: [y]\n');
    expect(err).toBe("ser-pipeline: pipeline.yaml:5: stage 'a': unknown key 'dpes'");
  });

  it('undefined ${var}', () => {
    const err = fails('stages:\n  a:\n    cmd: echo ${nope.x} > x\n    outs: [x]\n');
    expect(err).toContain("pipeline.yaml:2: stage 'a': ${nope.x} is not defined");
  });

  it('params key not in params.yaml', () => {
    const err = fails('stages:\n  a:\n    cmd: echo > x\n    params: [p, q.r]\n    outs: [x]\n');
    expect(err).toBe("ser-pipeline: pipeline.yaml:4: stage 'a': params key 'q.r' is not in params.yaml");
  });

  it('an out produced by two stages', () => {
    const err = fails('stages:\n  a:\n    cmd: echo > x\n    outs: [x]\n  b:\n    cmd: echo > x\n    outs: [x]\n');
    expect(err).toContain("stage 'b': out 'x' is also produced by stage 'a'");
  });

  it('an out missing from cmd', () => {
    const err = fails('stages:\n  a:\n    cmd: echo > y\n    outs: [x]\n');
    expect(err).toContain("pipeline.yaml:3: stage 'a': out 'x' (or a parent directory of it) does not appear in cmd");
  });

  it('a missing dep no stage produces (repro)', () => {
    const err = fails('stages:\n  a:\n    cmd: cp in.txt x\n    deps: [in.txt]\n    outs: [x]\n', 'p: 1\n', 'repro');
    expect(err).toContain("pipeline.yaml:2: stage 'a': dep 'in.txt' does not exist and no stage produces it");
  });

  it('a missing dep written with ${...} names the template, so the user knows which param to fix', () => {
    const err = fails('stages:\n  a:\n    cmd: cp ${data.dir}/in.txt x\n    deps: ["${data.dir}"]\n    outs: [x]\n', 'data:\n  dir: nowhere\n', 'repro');
    expect(err).toContain("stage 'a': dep 'nowhere' (${data.dir}: check that value) does not exist and no stage produces it");
  });

  it("a missing source dep is followed by the stage's hint (interpolated), in repro and status", () => {
    const pipeline = 'stages:\n  a:\n    hint: put the corpus in ${data.dir} or run get-corpus\n    cmd: cp ${data.dir}/in.txt x\n    deps: ["${data.dir}"]\n    outs: [x]\n';
    const err = fails(pipeline, 'data:\n  dir: nowhere\n', 'repro');
    expect(err).toMatch(/dep 'nowhere' \(\$\{data\.dir\}: check that value\) does not exist and no stage produces it: put the corpus in nowhere or run get-corpus$/);
    const status = ws.cli('status');
    expect(status.out).toContain('dep nowhere missing and no stage produces it: put the corpus in nowhere or run get-corpus');
  });

  it('foreach and vars templating expand stages', () => {
    ws = workspace({
      'pipeline.yaml': `vars:
  - greeting: hi
stages:
  say:
    foreach: \${langs}
    do:
      cmd: echo "\${greeting} \${item}" > out/\${item}.txt
      outs:
        - out/\${item}.txt
  grid:
    matrix: {a: [1, 2], b: [x]}
    cmd: echo \${item.a}\${item.b} > g\${item.a}\${item.b}.txt
    outs:
      - g\${item.a}\${item.b}.txt
`,
      'params.yaml': 'langs: [en, fr]\n',
    });
    const dag = ws.cli('dag');
    expect(dag.out).toContain('say@en');
    expect(dag.out).toContain('grid@2-x');
    const r = ws.cli('repro', '-j', '2');
    expect(r.code, r.err).toBe(0);
    expect(ws.read('out/fr.txt')).toBe('hi fr\n');
    expect(ws.read('g1x.txt')).toBe('1x\n');
  });

  it('unknown flag and stage are one-line errors', () => {
    ws = workspace({ 'pipeline.yaml': 'stages:\n  a:\n    cmd: echo > x\n    outs: [x]\n', 'params.yaml': '' });
    expect(ws.cli('repro', '--bogus').err.trim()).toBe('ser-pipeline: repro: unknown option --bogus');
    expect(ws.cli('repro', 'zzz').err).toContain("no stage 'zzz'");
  });
});
