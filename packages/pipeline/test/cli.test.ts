// The CLI surface: git revisions, --version/--help, the workspace profile, metrics filters.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, workspace, type Ws } from './helpers.ts';
import { withArtifacts } from '../src/parse.ts';

let ws: Ws;
afterEach(() => cleanup(ws));

const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: dir, stdio: 'pipe' });

// One stage writing a metrics file from two params; a `demo` profile overlay.
const METRICS_PIPELINE = `stages:
  m:
    cmd: >-
      echo '{"acc": \${acc}, "loss": 0.123456, "per": {"a": {"f1": 0.5}, "b": {"f1": 0.25}}, "per_x": 1}' > \${artifacts}/m.json
    params: [acc]
    metrics: ["\${artifacts}/m.json"]
`;

function metricsWorkspace(withGit: boolean): Ws {
  ws = workspace({ 'pipeline.yaml': METRICS_PIPELINE, 'params.yaml': 'acc: 0.5\n', 'params.demo.yaml': 'acc: 0.75\n', '.gitignore': '.pipeline/\nartifacts/\n' });
  fs.mkdirSync(path.join(ws.dir, 'artifacts/demo'), { recursive: true });
  if (withGit) {
    git(ws.dir, 'init', '-q');
    git(ws.dir, 'add', '-A');
    git(ws.dir, 'commit', '-qm', 'one');
  }
  return ws;
}

describe('git revisions', () => {
  it('an unknown revision is an error naming it, for metrics diff and params diff', () => {
    metricsWorkspace(true);
    expect(ws.cli('repro').code).toBe(0);
    for (const args of [['metrics', 'diff', 'nonsuchrev'], ['params', 'diff', 'nonsuchrev'], ['params', 'diff', 'HEAD', 'nonsuchrev']]) {
      const r = ws.cli(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err.trim()).toBe("ser-pipeline: unknown git revision 'nonsuchrev' (not a branch, tag or commit in this repository)");
      expect(r.out).toBe('');
    }
    // A known revision still works: HEAD has the lock-less commit, so every metric is new.
    const d = ws.cli('metrics', 'diff', 'HEAD', '--json');
    expect(d.code, d.err).toBe(0);
    expect(JSON.parse(d.out)).toContainEqual({ path: 'artifacts/m.json', key: 'acc', new: 0.5 });
  });

  it('outside a git repository a revision is an error saying so', () => {
    metricsWorkspace(false);
    const r = ws.cli('metrics', 'diff', 'HEAD');
    expect(r.code).toBe(1);
    expect(r.err).toContain("git revision 'HEAD'");
    expect(r.err).toContain('is not inside a git repository');
  });

  it('metrics diff with no metrics on either side says so', () => {
    metricsWorkspace(true);
    const r = ws.cli('metrics', 'diff');
    expect(r.code).toBe(0);
    expect(r.out).toContain('no metrics at HEAD or in the workspace (pipeline.lock); nothing to compare');
    expect(r.out).not.toContain('no metrics changed');
  });
});

describe('--version and --help', () => {
  it('--version and -V print the package version', () => {
    ws = workspace({ 'pipeline.yaml': 'stages: {}\n' });
    const version = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../package.json'), 'utf8')).version;
    for (const flag of ['--version', '-V']) {
      const r = ws.cli(flag);
      expect(r.code).toBe(0);
      expect(r.out.trim()).toBe(`ser-pipeline ${version}`);
    }
  });

  it('every subcommand --help prints a usage line, every flag it accepts, and an example', () => {
    ws = workspace({ 'pipeline.yaml': 'stages: {}\n' });
    const commands: [string[], string[]][] = [
      [['repro'], ['--profile', '--force', '--dry', '--downstream', '--single-item', '--jobs', '--wait', '--check', '--check-except']],
      [['status'], ['--profile', '--json', '--check']],
      [['dag'], ['--profile', '--mermaid']],
      [['params', 'diff'], ['--profile', '--json']],
      [['metrics', 'show'], ['--profile', '--json', '--keys', '--precision']],
      [['metrics', 'diff'], ['--profile', '--json', '--keys', '--precision']],
      [['gc'], ['--workspace', '--all-profiles', '--all-commits', '--force', '--dry', '--profile']],
      [['profile'], []],
    ];
    for (const [words, flags] of commands) {
      const r = ws.cli(...words, '--help');
      expect(r.code, words.join(' ')).toBe(0);
      const lines = r.out.split('\n');
      expect(lines[0]).toMatch(new RegExp(`^usage: ser-pipeline ${words.join(' ')}\\b`));
      for (const f of flags) expect(r.out, `${words.join(' ')} ${f}`).toMatch(new RegExp(`^  (-\\w, )?${f}\\b`, 'm'));
      expect(r.out).toMatch(new RegExp(`examples:\\n  ser-pipeline ${words.join(' ')}\\b`));
    }
    // Every flag a command accepts is in its help: an unknown one is refused.
    expect(ws.cli('status', '--mermaid').err.trim()).toBe('ser-pipeline: status: unknown option --mermaid');
    expect(ws.cli('help', 'gc').out.split('\n')[0]).toMatch(/^usage: ser-pipeline gc /);
  });

  it('commandHelp names an unknown command instead of failing on a missing spec', async () => {
    // Imported, not spawned: the module runs main() on import unless told not to.
    process.env.SER_PIPELINE_NO_MAIN = '1';
    try {
      const { commandHelp } = await import('../src/cli.ts');
      expect(() => commandHelp('nope')).toThrow(/^help: no command 'nope' \(repro, /);
    } finally {
      delete process.env.SER_PIPELINE_NO_MAIN;
    }
  });
});

describe('the workspace profile', () => {
  it('repro --profile P makes P the profile of status, metrics show, params diff and repro; --profile wins', () => {
    metricsWorkspace(false);
    expect(ws.cli('repro', '--profile', 'demo').code).toBe(0);
    expect(ws.read('.pipeline/profile')).toBe('demo\n');
    expect(ws.cli('status').out.split('\n')[0]).toBe('status (profile demo, from .pipeline/profile): all 1 stage(s) up to date (pipeline.demo.lock)');
    const show = ws.cli('metrics', 'show').out.split('\n');
    expect(show[0]).toBe('metrics show (profile demo, from .pipeline/profile): 1 metrics file(s)');
    expect(show.join('\n')).toMatch(/artifacts\/demo\/m\.json\s+acc\s+0\.75/);
    expect(ws.cli('params', 'diff').out.split('\n')[0]).toBe('params diff (profile demo, from .pipeline/profile): pipeline.demo.lock vs workspace');
    expect(ws.cli('repro').out.split('\n')[0]).toBe('repro (profile demo, from .pipeline/profile): 1 stage(s) selected, lock pipeline.demo.lock');
    // An explicit --profile wins, and a view with --profile does not move the workspace profile.
    expect(ws.cli('status', '--profile', 'default').out.split('\n')[0]).toBe('status (profile default): 1 of 1 stage(s) stale (pipeline.lock)');
    expect(ws.read('.pipeline/profile')).toBe('demo\n');
    // JSON stays parseable: the heading goes to stderr.
    const j = ws.cli('status', '--json');
    expect(Object.keys(JSON.parse(j.out))).toEqual(['m']);
    expect(j.err).toContain('status (profile demo, from .pipeline/profile)');
    // A dry run does not switch; a real repro under default does.
    ws.cli('repro', '--profile', 'default', '--dry');
    expect(ws.read('.pipeline/profile')).toBe('demo\n');
    expect(ws.cli('repro', '--profile', 'default').code).toBe(0);
    expect(ws.exists('.pipeline/profile')).toBe(false);
    expect(ws.cli('status').out.split('\n')[0]).toBe('status (profile default): all 1 stage(s) up to date (pipeline.lock)');
  });

  it('ser-pipeline profile shows and sets it; a recorded profile without its params file is a clear error', () => {
    metricsWorkspace(false);
    expect(ws.cli('profile').out.split('\n')).toEqual(['profile (profile default): params.yaml, lock pipeline.lock, outputs artifacts/', 'profiles: default, demo', '']);
    expect(ws.cli('profile', 'demo').out.split('\n')[0]).toBe('profile (profile demo, from .pipeline/profile): params.yaml + params.demo.yaml, lock pipeline.demo.lock, outputs artifacts/demo/');
    expect(ws.cli('dag').out.split('\n')[0]).toBe('dag (profile demo, from .pipeline/profile): 1 stage(s)');
    const bad = ws.cli('profile', 'nope');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("profile 'nope': no params.nope.yaml");
    fs.rmSync(path.join(ws.dir, 'params.demo.yaml'));
    const gone = ws.cli('status');
    expect(gone.code).toBe(1);
    expect(gone.err.trim()).toBe("ser-pipeline: .pipeline/profile names profile 'demo', but params.demo.yaml does not exist; pass --profile, or run 'ser-pipeline profile default'");
    expect(ws.cli('status', '--profile', 'default').code).toBe(0);
    expect(ws.cli('profile', 'default').code).toBe(0);
    expect(ws.exists('.pipeline/profile')).toBe(false);
  });
});

describe('stacked profiles', () => {
  it("'a+b' merges params.yaml, params.a.yaml, params.b.yaml left to right, with its own outputs and lock and the stages of each overlay", () => {
    ws = workspace({
      'pipeline.yaml': `stages:
  only_demo:
    profiles: [demo]
    cmd: echo \${x} > \${artifacts}/d.txt
    params: [x]
    outs: ["\${artifacts}/d.txt"]
  m:
    cmd: echo \${x} \${y} $(cat \${src}) > \${artifacts}/m.txt
    deps: ["\${src}"]
    params: [x, y]
    outs: ["\${artifacts}/m.txt"]
`,
      'params.yaml': 'x: 1\ny: 1\nsrc: params.yaml\n',
      // A params string may name the profile's own output folder.
      'params.demo.yaml': 'x: 2\ny: 2\nsrc: ${artifacts}/d.txt\n',
      'params.fast.yaml': 'y: 3\n',
    });
    const r = ws.cli('repro', '--profile', 'demo+fast');
    expect(r.code, r.err).toBe(0);
    expect(ws.read('artifacts/demo+fast/m.txt').trim()).toBe('2 3 2'); // x from demo, y from fast (the later overlay), src in artifacts/demo+fast
    expect(ws.read('artifacts/demo+fast/d.txt').trim()).toBe('2'); // demo's stage is in demo+fast
    expect(ws.exists('pipeline.demo+fast.lock')).toBe(true);
    expect(ws.cli('profile').out.split('\n')[0]).toBe(
      'profile (profile demo+fast, from .pipeline/profile): params.yaml + params.demo.yaml + params.fast.yaml, lock pipeline.demo+fast.lock, outputs artifacts/demo+fast/',
    );
    // fast alone has no demo stage; the order matters (demo last: its y wins).
    expect(ws.cli('status', '--profile', 'fast').out).not.toContain('only_demo');
    expect(ws.cli('repro', '--profile', 'fast+demo').code).toBe(0);
    expect(ws.read('artifacts/fast+demo/m.txt').trim()).toBe('2 2 2');
    const missing = ws.cli('repro', '--profile', 'demo+nope');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('params.nope.yaml: not found (needed by --profile demo+nope)');
    expect(ws.cli('profile', 'demo+nope').err).toContain("profile 'demo+nope': no params.nope.yaml");
    expect(ws.cli('status', '--profile', 'demo+').err).toContain("'demo+' is not a profile name");
  });
});

describe('metrics show --keys and --precision', () => {
  it('filters by key, section or glob and rounds numbers', () => {
    metricsWorkspace(false);
    expect(ws.cli('repro').code).toBe(0);
    const j = (...a: string[]) => JSON.parse(ws.cli('metrics', 'show', '--json', ...a).out)['artifacts/m.json'];
    expect(j('--keys', 'loss', '--precision', '2')).toEqual({ loss: 0.12 });
    expect(j('--keys', 'per')).toEqual({ 'per.a.f1': 0.5, 'per.b.f1': 0.25 }); // a section, not per_x
    expect(j('--keys', '*.f1,acc', '--precision', '1')).toEqual({ acc: 0.5, 'per.a.f1': 0.5, 'per.b.f1': 0.3 });
    const text = ws.cli('metrics', 'show', '--precision', '3').out;
    expect(text).toMatch(/loss\s+0\.123\n/);
    const bad = ws.cli('metrics', 'show', '--keys', 'acc,accuracy');
    expect(bad.code).toBe(1);
    expect(bad.err.trim()).toBe("ser-pipeline: --keys 'accuracy' matches no metric key (keys: acc, loss, per.a.f1, per.b.f1, per_x)");
    expect(ws.cli('metrics', 'show', '--precision', '-1').err).toContain('--precision needs a value');
    expect(ws.cli('metrics', 'show', '--precision', '1.5').err).toContain("--precision must be a whole number of decimal places from 0 to 15, got '1.5'");
  });
});

describe('withArtifacts', () => {
  it("replaces ${artifacts} in every params string, and nothing else", () => {
    expect(withArtifacts({ a: { b: '${artifacts}/x', c: ['${ artifacts }/y', 3] }, d: '${data.dir}', e: null }, 'artifacts/p+q')).toEqual({
      a: { b: 'artifacts/p+q/x', c: ['artifacts/p+q/y', 3] },
      d: '${data.dir}',
      e: null,
    });
  });
});
