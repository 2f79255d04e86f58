// Plot definitions in pipeline.yaml (both forms, their errors with the line) and `plots show|diff`
// on a small workspace: the HTML report (also opened in headless chromium), SVG files, git
// revisions through the lock and the cache, experiments overlaid.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TEMPLATES } from '@ser/report';
import { chromiumEnv, openReport } from '@ser/report/testing';
import { loadPipeline, SCHEMA_PATH } from '../src/parse.ts';
import { writeExperiment, type ExpRecord } from '../src/exp-store.ts';
import { cleanup, collect, workspace, type Ws } from './helpers.ts';

let ws: Ws | undefined;
afterEach(() => {
  if (ws) cleanup(ws);
  ws = undefined;
});

/** The CLI without blocking the test worker (a loaded machine makes spawnSync starve vitest's RPC). */
const cli = (...args: string[]) => collect(ws!.spawnCli(...args));

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: dir, stdio: 'pipe' });

/** A stage writing a 3-epoch history (loss scaled by p.x), a 2x2 confusion matrix and metrics. */
const PIPELINE = `stages:
  train:
    cmd: >-
      mkdir -p \${artifacts}/train &&
      printf '{"epochs":[{"epoch":1,"loss":%s,"val_loss":1},{"epoch":2,"loss":0.5,"val_loss":0.8},{"epoch":3,"loss":0.25,"val_loss":0.7}]}' \${p.x} > \${artifacts}/train/history.json &&
      printf '{"labels":["a","b"],"matrix":[[3,1],[%s,4]]}' \${p.x} > \${artifacts}/train/confusion.json &&
      printf '{"acc":%s}' \${p.x} > \${artifacts}/train/metrics.json &&
      echo '[]' > \${artifacts}/train/extra.json
    params: [p.x]
    metrics: ["\${artifacts}/train/metrics.json"]
    plots:
      - path: "\${artifacts}/train/history.json"
        x: epoch
        y: [loss, val_loss]
        title: Loss
      - path: "\${artifacts}/train/confusion.json"
        template: confusion
      - "\${artifacts}/train/extra.json"
`;

function plotsWorkspace(pipeline = PIPELINE): Ws {
  return workspace({ 'pipeline.yaml': pipeline, 'params.yaml': 'p:\n  x: 2\n', '.gitignore': '.pipeline/\nartifacts/\n' });
}

const loadError = (w: Ws): string => {
  try {
    loadPipeline({ root: w.dir, lenientParams: true });
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

describe('plots in pipeline.yaml', () => {
  it('a path or { path, template, ... }: every file is one out, the objects say how to draw them', () => {
    ws = plotsWorkspace(PIPELINE.replace('      - "${artifacts}/train/extra.json"\n', '      - path: "${artifacts}/train/history.json"\n        x: epoch\n        y: val_loss\n      - "${artifacts}/train/extra.json"\n'));
    const p = loadPipeline({ root: ws.dir, profile: 'default' });
    const s = p.byName.get('train')!;
    expect(s.plots).toEqual(['artifacts/train/history.json', 'artifacts/train/confusion.json', 'artifacts/train/extra.json']);
    expect(s.plotDefs).toEqual([
      { path: 'artifacts/train/history.json', rawPath: '${artifacts}/train/history.json', index: 0, template: 'linear', x: 'epoch', y: ['loss', 'val_loss'], title: 'Loss' },
      { path: 'artifacts/train/confusion.json', rawPath: '${artifacts}/train/confusion.json', index: 1, template: 'confusion' },
      { path: 'artifacts/train/history.json', rawPath: '${artifacts}/train/history.json', index: 2, template: 'linear', x: 'epoch', y: ['val_loss'] },
    ]);
  });

  it('the schema lists the templates @ser/report draws', () => {
    const schema = JSON.parse(fs.readFileSync(SCHEMA_PATH, 'utf8'));
    expect(schema.definitions.plot.properties.template.enum).toEqual([...TEMPLATES]);
  });

  it.each([
    ['an unknown field', (t: string) => t.replace('        template: confusion\n', '        tmplate: confusion\n'), "pipeline.yaml:17: stage 'train': unknown key 'tmplate'"],
    ['an unknown template', (t: string) => t.replace('template: confusion', 'template: pie'), "pipeline.yaml:17: stage 'train': 'plots.1.template' must be one of linear, confusion, bar"],
    ['no path', (t: string) => t.replace('      - path: "${artifacts}/train/confusion.json"\n        template: confusion', '      - template: confusion'), "pipeline.yaml:16: stage 'train': missing required key 'path'"],
    ['y of the wrong type', (t: string) => t.replace('y: [loss, val_loss]', 'y: 3'), "pipeline.yaml:14: stage 'train': 'plots.0.y' must be string,array"],
    ['linear without y', (t: string) => t.replace('        y: [loss, val_loss]\n', ''), "pipeline.yaml:12: stage 'train': plot 'artifacts/train/history.json': template linear needs y"],
    ['group with two y', (t: string) => t.replace('        title: Loss\n', '        group: fold\n'), "pipeline.yaml:12: stage 'train': plot 'artifacts/train/history.json': group 'fold' needs exactly one y field, got 2"],
    ['confusion with x', (t: string) => t.replace('        template: confusion\n', '        template: confusion\n        x: a\n'), "pipeline.yaml:16: stage 'train': plot 'artifacts/train/confusion.json': template confusion takes no x (it reads { labels, matrix })"],
  ])('%s: an error naming the line', (_what, edit, message) => {
    ws = plotsWorkspace(edit(PIPELINE));
    expect(loadError(ws)).toBe(message);
  });

  it("the repository's pipeline.yaml draws train's curves and evaluate's confusion matrix, bars and breakdowns", () => {
    const root = path.resolve(import.meta.dirname, '../../..');
    const p = loadPipeline({ root, profile: 'demo', lenientParams: true });
    const defs = p.stages.flatMap((s) => (s.plotDefs ?? []).map((d) => `${s.name} ${d.template} ${d.path} ${d.x ?? ''} ${(d.y ?? []).join(',')} ${d.group ?? ''}`.trim()));
    expect(defs).toEqual([
      'train linear artifacts/demo/train/history.json epoch loss,val_loss',
      'train linear artifacts/demo/train/history.json epoch acc,val_acc',
      'evaluate confusion artifacts/demo/evaluate/confusion.json',
      'evaluate bar artifacts/demo/evaluate/per_emotion.json emotion recall,f1',
      'evaluate bar artifacts/demo/evaluate/by_intensity.json emotion accuracy intensity',
      'evaluate bar artifacts/demo/evaluate/by_gender.json emotion accuracy gender',
    ]);
    expect(p.byName.get('train')!.plots).toEqual(['artifacts/demo/train/history.json']);
    expect(p.byName.get('evaluate')!.outs).toContain('artifacts/demo/evaluate/report.html');
  });
});

/** The chart specs of a report written by plots show/diff. */
function chartsOf(html: string): { id: string; spec: { data: { values: Record<string, unknown>[] }; title: string } }[] {
  return JSON.parse(/<script type="application\/json" id="report-charts">(.*?)<\/script>/s.exec(html)![1]!);
}

describe('plots show', () => {
  it('writes one self-contained report of the workspace: a chart per definition, the metrics table; SVGs on request', async () => {
    ws = plotsWorkspace();
    expect((await cli('repro')).code).toBe(0);
    const r = (await cli('plots', 'show', '-o', 'out/report.html'));
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^plots show \(profile default\): 2 plot\(s\) of the workspace -> out\/report\.html \(\d+ KB, self-contained\)\n$/);
    const html = ws.read('out/report.html');
    const charts = chartsOf(html);
    expect(charts.map((c) => c.spec.title)).toEqual(['Loss', 'confusion matrix']);
    expect(charts[0]!.spec.data.values).toHaveLength(6);
    expect(charts[1]!.spec.data.values).toHaveLength(4);
    expect(html).toContain('<p class="note">train: artifacts/train/history.json</p>');
    expect(html).toContain('<tr><td>train/metrics.json acc</td><td>2</td></tr>');
    // Same inputs, same bytes.
    expect((await cli('plots', 'show', '-o', 'out/again.html')).code).toBe(0);
    expect(ws.read('out/again.html')).toBe(html);

    const svg = (await cli('plots', 'show', '--format', 'svg', '--out-dir', 'img'));
    expect(svg.out).toBe('plots show (profile default): 2 plot(s) of the workspace -> img/\n  train-loss.svg\n  train-confusion-json.svg\n');
    expect(ws.read('img/train-loss.svg')).toMatch(/^<svg /);
  }, 240_000);

  it('bad flags and nothing to draw are errors naming the culprit, and write nothing', async () => {
    ws = plotsWorkspace();
    expect((await cli('plots', 'show', '--format', 'svg', '-o', 'x.html')).err).toBe('ser-pipeline: -o is for the HTML report; --format svg writes one file per plot into --out-dir D\n');
    expect((await cli('plots', 'show', '--format', 'png')).err).toBe("ser-pipeline: --format must be html or svg, got 'png'\n");
    expect((await cli('plots', 'show', 'HEAD')).err).toBe("ser-pipeline: plots show takes no revision (got 'HEAD'; for revisions: plots diff)\n");
    const none = (await cli('plots', 'show'));
    expect(none.code).toBe(1);
    expect(none.err).toContain('plots show: artifacts/train/history.json: not in the workspace (run repro); skipped');
    expect(none.err).toContain("ser-pipeline: plots show: no plot file found in the workspace (profile default); run 'ser-pipeline repro --profile default' first");
    expect(ws.exists('report.html')).toBe(false);
    ws.write('artifacts/train/history.json', '{"epochs": [{"epoch": 1, "los": 2}]}');
    expect((await cli('plots', 'show')).err).toContain(
      "ser-pipeline: pipeline.yaml: stage 'train': plot artifacts/train/history.json: y field 'loss' is not in the rows of run 'workspace' (fields: epoch, los)",
    );
    expect(ws.exists('report.html')).toBe(false);
  }, 240_000);

  it('--exp: experiments overlaid from their own artifacts, the params that differ and their metrics side by side', async () => {
    ws = plotsWorkspace();
    const exp = (name: string, x: number): ExpRecord => {
      const artifacts = `.pipeline/exps/${name}/artifacts`;
      ws!.write(`${artifacts}/train/history.json`, JSON.stringify({ epochs: [{ epoch: 1, loss: x, val_loss: 1 }, { epoch: 2, loss: x / 2, val_loss: 0.9 }] }));
      return {
        name, status: 'done', profile: 'default', baseCommit: null, overrides: { 'p.x': x }, params: { 'p.x': x, 'p.y': 1 },
        metrics: { '${artifacts}/train/metrics.json': { acc: x } }, workspace: `.pipeline/exps/${name}`, artifacts, lockFile: `.pipeline/exps/${name}/pipeline.lock`, createdAt: '2026-01-01T00:00:00Z',
      };
    };
    writeExperiment(ws.dir, exp('e1', 3));
    writeExperiment(ws.dir, exp('e2', 5));
    const r = (await cli('plots', 'show', '--exp', 'e1', 'e2', '-o', 'exps.html'));
    expect(r.out).toMatch(/^plots show \(profile default\): 1 plot\(s\) of experiments e1, e2 -> exps\.html/);
    expect(r.err).toBe('plots show: artifacts/train/confusion.json: not in any of e1, e2 (run repro); skipped\n');
    const html = ws.read('exps.html');
    const [loss] = chartsOf(html);
    expect(new Set(loss!.spec.data.values.map((v) => v['run']))).toEqual(new Set(['e1', 'e2']));
    expect(loss!.spec.data.values.find((v) => v['run'] === 'e2' && v['series'] === 'loss' && v['x'] === 1)!['value']).toBe(5);
    expect(html).toContain('<tr><th>metric</th><th>e1</th><th>e2</th></tr>');
    expect(html).toContain('<tr><td>param p.x</td><td>3</td><td>5</td></tr>');
    expect(html).not.toContain('param p.y');
    expect(html).toContain('<tr><td>train/metrics.json acc</td><td>3</td><td>5</td></tr>');
    expect((await cli('plots', 'show', '--exp', 'e3')).err).toBe("ser-pipeline: experiment 'e3' not found (did you mean e1?)\n");
  }, 240_000);
});

describe('plots diff', () => {
  it('overlays git revisions (plot files from their lock and the cache) with the workspace; a file missing from the cache is named', async () => {
    ws = plotsWorkspace();
    git(ws.dir, 'init', '-q');
    expect((await cli('repro')).code).toBe(0);
    git(ws.dir, 'add', '-A');
    git(ws.dir, 'commit', '-qm', 'x=2');
    ws.write('params.yaml', 'p:\n  x: 7\n');
    expect((await cli('repro')).code).toBe(0);

    const r = (await cli('plots', 'diff', 'HEAD', '-o', 'diff.html'));
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^plots diff \(profile default\): 2 plot\(s\) of HEAD and the workspace -> diff\.html/);
    const html = ws.read('diff.html');
    const [loss, confusion] = chartsOf(html);
    const first = (run: string) => loss!.spec.data.values.find((v) => v['run'] === run && v['series'] === 'loss' && v['x'] === 1)!['value'];
    expect([first('HEAD'), first('workspace')]).toEqual([2, 7]);
    expect(confusion!.spec.data.values).toHaveLength(8);
    expect(html).toContain('<tr><td>train/metrics.json acc</td><td>2</td><td>7</td></tr>');

    expect((await cli('plots', 'diff', 'nosuchrev')).err).toBe("ser-pipeline: unknown git revision 'nosuchrev' (not a branch, tag or commit in this repository)\n");
    expect((await cli('plots', 'diff')).err).toBe('ser-pipeline: plots diff needs at least one git revision (e.g. plots diff HEAD~1)\n');
    // HEAD's history.json only in the cache: remove it there.
    const lock = execFileSync('git', ['show', 'HEAD:pipeline.lock'], { cwd: ws.dir, encoding: 'utf8' });
    const md5 = /path: artifacts\/train\/history\.json\n\s+md5: ([0-9a-f]{32})/.exec(lock)![1]!;
    fs.rmSync(path.join(ws.dir, '.pipeline/cache', md5.slice(0, 2), md5.slice(2)), { force: true });
    expect((await cli('plots', 'diff', 'HEAD')).err).toBe(
      `ser-pipeline: plots diff: artifacts/train/history.json of revision 'HEAD' (md5 ${md5}) is not in the cache; check out 'HEAD' and run 'ser-pipeline repro --profile default' there (or fetch it from a remote) to bring it back\n`,
    );
  }, 240_000);
});

const env = chromiumEnv();
if (!env.executablePath && !env.required) console.log(`plots show browser check skipped: ${env.reason}; SER_REQUIRE_CHROMIUM=1 makes this a failure`);

describe.skipIf(!env.executablePath && !env.required)('plots show report in headless chromium', () => {
  it('renders without errors or requests: a point per epoch and series, a cell per matrix entry', async () => {
    if (!env.executablePath) throw new Error(`SER_REQUIRE_CHROMIUM=1 but ${env.reason}`);
    ws = plotsWorkspace();
    expect((await cli('repro')).code).toBe(0);
    expect((await cli('plots', 'show', '-o', 'report.html')).code).toBe(0);
    const page = await openReport(env.executablePath, path.join(ws.dir, 'report.html'));
    expect(page.errors).toEqual([]);
    expect(page.failedRequests).toEqual([]);
    expect(page.requests).toHaveLength(1);
    expect(page.rendered).toBe('2');
    expect(page.charts).toEqual({ 'chart-1': { line: 2, symbol: 6 }, 'chart-2': { rect: 4, text: 4 } });
    expect(page.tableRows).toEqual([1]);
  }, 180_000);
});
