import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, workspace, type Ws } from './helpers.ts';

let ws: Ws;
afterEach(() => cleanup(ws));

const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: dir, stdio: 'pipe' });

describe('params diff and metrics show/diff', () => {
  it('compare workspace, lock and git revisions (metrics at a rev come from the lock + cache)', () => {
    ws = workspace({
      'pipeline.yaml': `stages:
  m:
    cmd: >-
      echo '{"acc": \${train.lr}, "name": "x"}' > m.json
    params: [train.lr]
    metrics: [m.json]
`,
      'params.yaml': 'train:\n  lr: 0.5\n  epochs: 3\n',
      '.gitignore': '.pipeline/\nm.json\n',
    });
    git(ws.dir, 'init', '-q');
    expect(ws.cli('repro').code).toBe(0);
    git(ws.dir, 'add', '-A');
    git(ws.dir, 'commit', '-qm', 'one');
    expect(ws.cli('metrics', 'show').out).toMatch(/m\.json\s+acc\s+0\.5/);

    ws.write('params.yaml', 'train:\n  lr: 0.25\n  epochs: 4\n');
    // Workspace vs lock: only the declared key.
    expect(ws.cli('params', 'diff').out).toMatch(/train\.lr\s+0\.5\s+0\.25/);
    expect(ws.cli('params', 'diff').out).not.toContain('epochs');
    // HEAD vs workspace: every key.
    const d = JSON.parse(ws.cli('params', 'diff', 'HEAD', '--json').out);
    expect(d).toEqual([
      { key: 'train.epochs', old: 3, new: 4 },
      { key: 'train.lr', old: 0.5, new: 0.25 },
    ]);
    expect(ws.cli('repro').code).toBe(0);
    const md = JSON.parse(ws.cli('metrics', 'diff', '--json').out);
    expect(md).toEqual([{ path: 'm.json', key: 'acc', old: 0.5, new: 0.25, change: -0.25 }]);
    expect(ws.cli('metrics', 'diff').out).toMatch(/m\.json\s+acc\s+0\.5\s+0\.25\s+-0\.25/);
  });
});
