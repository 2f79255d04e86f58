// Training-step benchmark: samples/s (forward + backward + SGD update) and peak RSS of the
// paper-size and demo-size models, per tfjs backend available here, and the same network in
// PyTorch on CPU when `import torch` works. Each case runs in its own process.
// Usage: npm run bench -w packages/model: the demo and ravdess-cpu networks at batch 32 (passes of
//   16 rows), in-process and on 2 worker processes, next to PyTorch on 1 and 2 threads.
// npm run bench -w packages/model -- --paper [--cpu-paper]: demo and paper sizes at batch 16, per
//   backend (--cpu-paper: also the paper size on tfjs cpu, minutes per step); --quick: demo only.
// One profile's network (params.yaml + params.<profile>.yaml; `paper` = params.yaml alone):
//   npm run bench -w packages/model -- --profile ravdess-cpu [--batch 32] [--micro 16,0] [--steps 3] [--rounds 3]
//   --micro: comma list of micro-batch sizes (batchGrads passes), 0 = the whole batch in one pass.
//   Prints tfjs wasm next to PyTorch on 1 and 2 threads, with samples per CPU-second and the
//   per-core ratio (ours / PyTorch 1 thread, both per CPU-second); --rounds: tfjs wasm and PyTorch
//   1 thread run that many times in turn, and each round's ratio is printed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadStageParams } from '@ser/stage-kit';
import { modelConfigFrom, inputShapeFrom, probeAdapter, describeAdapter, isSoftwareAdapter } from '../src/index.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const batch = 16;

const paramsFor = (size: string) => loadStageParams({ cwd: root, argv: size === 'paper' ? [] : ['--profile', size], env: {} });
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

type Row = Record<string, unknown>;
const rows: Row[] = [];

function run(label: string, cmd: string, args: string[], timeoutS: number, env?: Record<string, string>): Row | undefined {
  process.stdout.write(`- ${label} ... `);
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutS * 1000, cwd: here, maxBuffer: 1 << 24, ...(env ? { env: { ...process.env, ...env } } : {}) });
  const line = (r.stdout ?? '').trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) {
    const errLines = (r.stderr ?? '').split('\n').filter((l) => /Error/.test(l) && l.length < 300);
    const why = r.error ? String(r.error.message) : (errLines.at(-1) ?? (r.stderr ?? '').trim().split('\n').slice(-2).join(' | '));
    process.stdout.write(`failed (exit ${r.status ?? r.signal}): ${why.slice(0, 300)}\n`);
    rows.push({ case: label, error: why.slice(0, 300) });
    return undefined;
  }
  const row = { case: label, ...JSON.parse(line) } as Row;
  process.stdout.write(`${row['samplesPerSec']} samples/s, ${row['samplesPerCpuSec'] ?? '?'} samples/CPU-s, peak RSS ${row['peakRssMB']} MB\n`);
  rows.push(row);
  return row;
}

/** Extra cases for `--profile` runs (see benchProfile): each runs its case and returns its row. */
type ExtraCase = (ctx: { profile: string; batch: number; steps: number; run: typeof run }) => Row | undefined;
const extraCases: ExtraCase[] = [
  // Data-parallel training (train.workers, packages/train): the same batch in micro-batches of
  // half the batch, in-process vs 2 worker processes (packages/train/bench/workers.ts).
  ({ profile: name, batch: b }) => {
    const label = `tfjs wasm ${name} b${b} (micro ${b / 2}), 2 workers`;
    process.stdout.write(`- ${label} ... `);
    const r = spawnSync(`${root}node_modules/.bin/tsx`, [`${root}packages/train/bench/workers.ts`, '--profile', name, '--batch', String(b), '--micro', String(b / 2), '--workers', '2', '--json'], {
      encoding: 'utf8', cwd: root, timeout: 900_000, maxBuffer: 1 << 24,
    });
    const two = (r.stdout ?? '').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Row).find((x) => x['workers'] === 2);
    if (r.status !== 0 || !two) {
      process.stdout.write(`failed (exit ${r.status ?? r.signal})\n`);
      return undefined;
    }
    // ceiling: what as many independent in-process runs side by side reach over one (workers.ts).
    const ceiling = two['ceiling'] ? `, ${two['speedUp']}x over in-process against a ceiling of ${two['ceiling']}x for independent runs side by side` : '';
    process.stdout.write(`${two['samplesPerSec']} samples/s (weights identical to 1 worker: ${two['identical']}${ceiling})\n`);
    const row = { case: label, ...two };
    rows.push(row);
    return row;
  },
];

const tsx = `${root}node_modules/.bin/tsx`;

// webgpu runs on whatever adapter Dawn finds (VK_ICD_FILENAMES picks a Vulkan driver). A software
// adapter (SwiftShader) runs the GPU code path on the CPU: a correctness check, not a speed figure.
const webgpu = await probeAdapter();
extraCases.push(({ profile: name, batch: b, steps }) => {
  if (!webgpu.adapter) {
    console.log(`- tfjs webgpu ${name}: skipped (${webgpu.reason})`);
    return undefined;
  }
  const software = isSoftwareAdapter(webgpu.adapter);
  const row = run(`tfjs webgpu ${name} b${b}${software ? ' [software adapter]' : ''}`, tsx, ['step.ts', 'webgpu', name, String(b), String(software ? 1 : steps)], 900);
  if (row) row['adapter'] = describeAdapter(webgpu.adapter);
  console.log(`  adapter: ${describeAdapter(webgpu.adapter)}${software ? ': runs on the CPU, so its samples/s say nothing of a GPU' : ''}`);
  return row;
});
const tfjs = (backend: string, size: string, b: number, steps: number, timeoutS: number, micro?: number) =>
  run(
    `tfjs ${backend} ${size} b${b}${micro ? ` (micro-batches of ${micro})` : ''}`,
    tsx,
    ['step.ts', backend, size, String(b), String(steps), ...(micro ? [String(micro)] : [])],
    timeoutS,
  );

const python = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
const torch = (size: string, b: number, steps: number, threads: number, timeoutS: number) => {
  const p = paramsFor(size);
  const input = inputShapeFrom(p);
  const spec = JSON.stringify({ cfg: modelConfigFrom(p), n_mels: input.nMels, frames: input.frames });
  // glibc's allocator returns and re-faults PyTorch's big buffers every step (3-6x slower): these
  // keep them mapped, for the PyTorch process only.
  const malloc = { MALLOC_MMAP_THRESHOLD_: '4294967296', MALLOC_TRIM_THRESHOLD_: '68719476736', MALLOC_TOP_PAD_: '536870912' };
  return run(`pytorch cpu ${threads} thread(s) ${size} b${b}`, python!, ['torch_bench.py', spec, String(b), String(steps), String(threads)], timeoutS, malloc);
};

const profile = flag('--profile');
if (profile !== undefined) {
  benchProfile(profile);
} else if (argv.includes('--paper') || quick) {
  benchSizes();
} else {
  // Each profile's network (ravdess-cpu-actor has ravdess-cpu's): 1 and 2 workers, PyTorch 1 and 2 threads.
  for (const name of ['demo', 'ravdess-cpu']) {
    benchProfile(name);
    console.log('');
  }
}

/**
 * Rows of one profile's network at one batch: tfjs wasm per micro-batch size, PyTorch 1 and 2
 * threads, then `extraCases` (each returns its row or undefined), then a table.
 */
function benchProfile(name: string): void {
  const b = Number(flag('--batch') ?? '32');
  const steps = Number(flag('--steps') ?? '3');
  const rounds = Number(flag('--rounds') ?? '3');
  const micros = (flag('--micro') ?? String(b / 2)).split(',').map(Number);
  const input = inputShapeFrom(paramsFor(name));
  console.log(`training-step bench, ${name} network (input ${input.nMels} x ${input.frames}), batch ${b}, ${rounds} round(s); ${python ? 'PyTorch found' : 'PyTorch not found: skipped'}`);
  // Rounds: tfjs wasm (each micro-batch size) and PyTorch on 1 thread in turn, in an order that
  // alternates, so that each per-core ratio compares runs seconds apart (this VM's speed drifts
  // by a third within minutes); the table shows each case's median round.
  const oursRounds: Row[][] = micros.map(() => []);
  const torchRounds: Row[] = [];
  for (let r = 0; r < rounds; r++) {
    const runOurs = () =>
      micros.forEach((m, i) => {
        const row = tfjs('wasm', name, b, steps, 600, m > 0 && m < b ? m : undefined);
        if (row) oursRounds[i]!.push(row);
      });
    const runTorch = () => {
      const row = python ? torch(name, b, steps + 1, 1, 600) : undefined;
      if (row) torchRounds.push(row);
    };
    if (r % 2 === 0) {
      runOurs();
      runTorch();
    } else {
      runTorch();
      runOurs();
    }
  }
  const perCpu = (r: Row | undefined): number | undefined => (r?.['samplesPerCpuSec'] ?? r?.['samplesPerSec']) as number | undefined;
  const medianRow = (rs: Row[]): Row | undefined => [...rs].sort((p, q) => perCpu(p)! - perCpu(q)!)[(rs.length - 1) >> 1];
  const ours: Row[] = oursRounds.map(medianRow).filter((r): r is Row => r !== undefined);
  const torch1 = medianRow(torchRounds);
  const torch2 = python ? torch(name, b, steps + 1, 2, 600) : undefined;
  // Hook: more rows of this network at this batch, e.g. data-parallel training in worker processes
  // (train.workers): push a function that runs its case (see `run`) and returns the row.
  for (const extra of extraCases) {
    const r = extra({ profile: name, batch: b, steps, run });
    if (r) ours.push(r);
  }
  // Per core, tfjs wasm on one thread against PyTorch on one: the median of the rounds' ratios.
  const paired = new Map<Row, number[]>();
  oursRounds.forEach((rs, i) => {
    if (rs.length === rounds && torchRounds.length === rounds) paired.set(ours[i]!, rs.map((r, k) => perCpu(r)! / perCpu(torchRounds[k])!).sort((p, q) => p - q));
  });
  const base = perCpu(torch1);
  console.log(`\ncase (median round)                           samples/s  samples/CPU-s  per core vs PyTorch 1 thread`);
  for (const r of [...ours, torch1, torch2]) {
    if (!r) continue;
    const pc = perCpu(r);
    const rs = paired.get(r);
    const ratio = rs ? `${rs[(rs.length - 1) >> 1]!.toFixed(2)}x (rounds: ${rs.map((v) => v.toFixed(2)).join(', ')})` : base && pc ? `${(pc / base).toFixed(2)}x` : '';
    console.log(`${String(r['case']).padEnd(45)} ${String(r['samplesPerSec']).padStart(9)} ${String(pc ?? '').padStart(14)}  ${ratio}`);
  }
}

function benchSizes(): void {
console.log(`training-step bench, batch ${batch}; ${python ? 'PyTorch found' : 'PyTorch not found (python3 -c "import torch" fails): skipped'}`);
for (const size of quick ? ['demo'] : ['demo', 'paper']) {
  const steps = size === 'demo' ? 4 : 1;
  // The wasm heap is capped at 4 GiB: one pass of the paper size at batch 16 needs more, so fall
  // back to batch 16 in micro-batches (batchGrads) of 8, then 4.
  for (const micro of [undefined, batch / 2, batch / 4]) if (tfjs('wasm', size, batch, steps, 900, micro)) break;
  // cpu is 60-115x behind PyTorch: a small batch and one step keep it short.
  if (size === 'demo' || argv.includes('--cpu-paper')) tfjs('cpu', size, 4, 1, 900);
  if (python) for (const threads of [1, 2]) torch(size, batch, steps + 1, threads, 900);
}

// Ratios tfjs wasm / PyTorch (2 threads) per size.
for (const size of ['demo', 'paper']) {
  const w = rows.find((r) => r['impl'] === 'tfjs' && r['backend'] === 'wasm' && r['model'] === size);
  const t = rows.find((r) => r['impl'] === 'pytorch' && String(r['case']).includes(`2 thread(s) ${size}`));
  if (w && t) console.log(`${size}: wasm / PyTorch(2 threads) = ${((w['samplesPerSec'] as number) / (t['samplesPerSec'] as number)).toFixed(2)}`);
}
}
mkdirSync(`${root}artifacts/bench`, { recursive: true });
const out = `artifacts/bench/model-train-step${profile !== undefined ? `-${profile}` : ''}.json`;
writeFileSync(`${root}${out}`, JSON.stringify(rows, null, 2) + '\n');
console.log(`results: ${out}`);
