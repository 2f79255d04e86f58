// record-results: run.json records what the run saw (machine from the OS, backend facts from the
// run's metrics), not a fixed description.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { backendFacts, machineFacts } from '../run-facts.ts';

const SCRIPT = resolve(import.meta.dirname, '../record-results.ts');
// tsx's loader by path: the run's cwd is a temp dir, where `--import tsx` would not resolve.
const TSX = pathToFileURL(resolve(import.meta.dirname, '../../node_modules/tsx/dist/loader.mjs')).href;

describe('machineFacts', () => {
  it('reads CPU model and count, memory, OS and Node from the host', () => {
    const host = {
      cpus: () => Array.from({ length: 16 }, () => ({ model: 'Intel(R) Xeon(R) Platinum 8480+ ', speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } })),
      totalmem: () => 128 * 2 ** 30,
      platform: () => 'linux' as NodeJS.Platform,
      release: () => '6.8.0',
    };
    expect(machineFacts(host, 'v22.1.0')).toEqual({ cpu: 'Intel(R) Xeon(R) Platinum 8480+', cores: 16, memory_gib: 128, os: 'linux 6.8.0', node: 'v22.1.0' });
    expect(machineFacts({ ...host, cpus: () => [] }, 'v22.1.0')).toMatchObject({ cpu: 'unknown', cores: 0 });
  });
});

describe('backendFacts', () => {
  it('takes the backend from the metrics, with what was requested and the adapter when recorded', () => {
    expect(backendFacts({ backend: 'wasm' }, { backend: 'wasm', backend_requested: 'auto' })).toEqual({ backend: 'wasm', backend_requested: 'auto' });
    const gpu = { backend: 'webgpu', backend_requested: 'webgpu', backend_details: { adapter: 'nvidia hopper (H200)' } };
    expect(backendFacts({ backend: 'webgpu' }, gpu)).toEqual(gpu);
    expect(backendFacts({ backend: 'webgpu' }, { backend: 'webgpu', adapter: 'nvidia hopper' })).toEqual({ backend: 'webgpu', backend_details: { adapter: 'nvidia hopper' } });
  });

  it('refuses a run whose training and evaluation backends differ', () => {
    expect(() => backendFacts({ backend: 'cpu' }, { backend: 'wasm' })).toThrow("train ran on 'wasm' but evaluate on 'cpu'");
  });
});

describe('record-results.ts', () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'record-results-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes run.json with this machine and the metrics backend facts', () => {
    const art = join(dir, 'artifacts', 'p');
    mkdirSync(join(art, 'evaluate'), { recursive: true });
    mkdirSync(join(art, 'train'), { recursive: true });
    writeFileSync(join(art, 'evaluate', 'metrics.json'), JSON.stringify({ seed: 3, backend: 'wasm', accuracy: 0.5, macro: { f1: 0.4 } }));
    writeFileSync(join(art, 'train', 'metrics.json'), JSON.stringify({ backend: 'wasm', backend_requested: 'auto', backend_details: { threads: 1, simd: true } }));
    writeFileSync(join(art, 'train', 'history.json'), '{"epochs":[]}');
    writeFileSync(join(dir, 'pipeline.p.lock'), 'schema: ser-pipeline/1\nstages:\n  evaluate:\n    cmd: ser-evaluate\n    deps: []\n    params:\n      seed: 3\n    outs: []\n');
    const git = (...a: string[]) => spawnSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { encoding: 'utf8' });
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'x');

    const r = spawnSync(process.execPath, ['--import', TSX, SCRIPT, 'p', '--command', 'ser-pipeline repro --profile p', '--wall-s', '12', '--root', dir], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const run = JSON.parse(readFileSync(join(dir, 'results', 'p', 'seed-3', 'run.json'), 'utf8'));
    expect(run).toMatchObject({ profile: 'p', seed: 3, backend: 'wasm', backend_requested: 'auto', backend_details: { threads: 1, simd: true }, wall_time_s: 12 });
    expect(run.machine).toEqual(machineFacts());
    expect(run.machine.cores).toBe(os.cpus().length);
    expect(run.params).toEqual({ seed: 3 });
  });
});
