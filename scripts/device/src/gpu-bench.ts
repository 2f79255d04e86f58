// samples/s of one paper-size training step (forward + CE + backward + SGD momentum, batch 16,
// random data): tfjs webgpu (packages/model/bench/step.ts) vs the same network in PyTorch on CUDA
// (packages/model/bench/torch_gpu_bench.py), each in its own process, then the ratio.
// Usage: tsx scripts/device/src/gpu-bench.ts [--out bench.json] [--batch 16] [--steps 20] [--size paper]
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { deepMerge } from '@ser/stage-kit';
import { inputShapeFrom, modelConfigFrom } from '@ser/model';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const argv = process.argv.slice(2);
const get = (k: string, d: string) => (argv.includes(`--${k}`) ? argv[argv.indexOf(`--${k}`) + 1]! : d);
const outFile = get('out', 'bench.json');
const batch = Number(get('batch', '16'));
const steps = Number(get('steps', '20'));
const size = get('size', 'paper');

let params = parse(readFileSync(`${root}params.yaml`, 'utf8'));
if (size === 'demo') params = deepMerge(params, parse(readFileSync(`${root}params.demo.yaml`, 'utf8')));
const input = inputShapeFrom(params);
const spec = JSON.stringify({ cfg: modelConfigFrom(params), n_mels: input.nMels, frames: input.frames });

function runCase(label: string, cmd: string, args: string[], timeoutS: number): Record<string, unknown> {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd: `${root}packages/model/bench`, encoding: 'utf8', timeout: timeoutS * 1000, maxBuffer: 1 << 24 });
  const line = (r.stdout ?? '').trim().split('\n').reverse().find((l) => l.startsWith('{'));
  const wallS = +((Date.now() - t0) / 1000).toFixed(1);
  if (r.status !== 0 || !line) {
    const why = r.error ? r.error.message : (r.stderr ?? '').trim().split('\n').slice(-3).join(' | ');
    console.log(`${label}: failed (${r.status ?? r.signal}): ${why}`);
    return { case: label, error: why.slice(0, 500), wallS };
  }
  const row: Record<string, unknown> = { case: label, wallS, ...(JSON.parse(line) as Record<string, unknown>) };
  console.log(`${label}: ${String(row['samplesPerSec'])} samples/s`);
  return row;
}

const tsx = `${root}node_modules/tsx/dist/cli.mjs`;
const webgpu = runCase(`tfjs webgpu ${size} b${batch}`, process.execPath, [tsx, 'step.ts', 'webgpu', size, String(batch), String(steps)], 300);
const torch = runCase(`pytorch cuda ${size} b${batch}`, 'python3', ['torch_gpu_bench.py', spec, String(batch), String(steps * 3)], 180);
const w = webgpu['samplesPerSec'] as number | undefined;
const t = torch['samplesPerSec'] as number | undefined;
const result = { size, batch, input: [input.nMels, input.frames], webgpu, pytorch: torch, ratioWebgpuOverPytorch: w && t ? +(w / t).toFixed(4) : null };
writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
console.log(`ratio webgpu / pytorch = ${result.ratioWebgpuOverPytorch}`);
process.exit(w && t ? 0 : 1);
