// The paper configuration (params.yaml) on the real corpus with train.backend webgpu, one pipeline
// run per seed through the profile overlay params.gpu.yaml (written here, at the repository root of
// the GPU host's copy): only `seed` changes between runs, so ingest..features are computed once
// and taken from the pipeline cache after that. After each seed, <out> is rewritten with every
// finished seed's test metrics and their mean and std, so a run cut short still reports.
// Usage: tsx scripts/device/src/paper.ts --data-dir DIR --out paper.json [--seeds 1,2,3,4,5]
//          [--max-epochs N] [--seed-timeout-s S] [--backend webgpu]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The overlay for one seed (YAML text). */
export function overlayYaml(o: { dataDir: string; seed: number; backend: string; maxEpochs?: number }): string {
  return [
    '# Written by scripts/device/src/paper.ts on the GPU host: params.yaml + these keys.',
    `seed: ${o.seed}`,
    'data:',
    `  dir: ${JSON.stringify(o.dataDir)}`,
    'train:',
    `  backend: ${o.backend}`,
    ...(o.maxEpochs !== undefined ? [`  max_epochs: ${o.maxEpochs}`] : []),
    '',
  ].join('\n');
}

/** mean and sample std (n - 1; 0 for one value). */
export function meanStd(xs: number[]): { mean: number; std: number; n: number } {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / Math.max(n, 1);
  const std = n > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const get = (k: string, d?: string) => (argv.includes(`--${k}`) ? argv[argv.indexOf(`--${k}`) + 1] : d);
  const dataDir = get('data-dir');
  const out = get('out', 'paper.json')!;
  if (!dataDir || !existsSync(dataDir)) {
    console.error(`paper: --data-dir must name the unpacked corpus (got ${dataDir})`);
    process.exit(1);
  }
  const seeds = get('seeds', '1,2,3,4,5')!.split(',').map(Number);
  const maxEpochs = get('max-epochs') !== undefined ? Number(get('max-epochs')) : undefined;
  const timeoutS = get('seed-timeout-s') !== undefined ? Number(get('seed-timeout-s')) : undefined;
  const backend = get('backend', 'webgpu')!;
  const runs: Record<string, unknown>[] = [];
  const save = () => {
    const acc = runs.filter((r) => typeof r['accuracy'] === 'number').map((r) => r['accuracy'] as number);
    writeFileSync(out, JSON.stringify({ profile: 'params.yaml + params.gpu.yaml (seed, data.dir, train.backend' + (maxEpochs !== undefined ? ', train.max_epochs' : '') + ')', backend, maxEpochs: maxEpochs ?? 'params.yaml', runs, accuracy: meanStd(acc) }, null, 2) + '\n');
  };
  for (const seed of seeds) {
    writeFileSync(`${root}params.gpu.yaml`, overlayYaml({ dataDir, seed, backend, ...(maxEpochs !== undefined ? { maxEpochs } : {}) }));
    const t0 = Date.now();
    // coreutils `timeout` signals its whole process group, so the stage processes (ser-train) stop
    // too and cannot hold the GPU during the next seed; exit 124 = timed out.
    const bin = `${root}node_modules/.bin/ser-pipeline`;
    const r = timeoutS
      ? spawnSync('timeout', ['-k', '10', String(timeoutS), bin, 'repro', '--profile', 'gpu'], { cwd: root, stdio: 'inherit' })
      : spawnSync(bin, ['repro', '--profile', 'gpu'], { cwd: root, stdio: 'inherit' });
    const wallS = +((Date.now() - t0) / 1000).toFixed(1);
    const metricsFile = `${root}artifacts/gpu/evaluate/metrics.json`;
    if (r.status !== 0 || !existsSync(metricsFile)) {
      runs.push({ seed, wallS, error: r.error?.message ?? (r.status === 124 ? `timed out after ${timeoutS} s` : `ser-pipeline exit ${r.status ?? r.signal}`) });
    } else {
      const m = JSON.parse(readFileSync(metricsFile, 'utf8')) as Record<string, unknown>;
      if (m['seed'] !== undefined && m['seed'] !== seed) throw new Error(`paper: ${metricsFile} is for seed ${String(m['seed'])}, not ${seed}`);
      const trainFile = `${root}artifacts/gpu/train/metrics.json`;
      const t = existsSync(trainFile) ? (JSON.parse(readFileSync(trainFile, 'utf8')) as Record<string, unknown>) : {};
      runs.push({ seed, wallS, accuracy: m['accuracy'], correct: m['correct'], total: m['total'], backend: m['backend'], by_intensity: m['by_intensity'], by_gender: m['by_gender'], per_emotion: m['per_emotion'], train: t });
    }
    save();
    console.log(`[paper] seed ${seed}: ${JSON.stringify(runs[runs.length - 1]!['accuracy'] ?? runs[runs.length - 1]!['error'])} in ${wallS} s`);
  }
  save();
}
