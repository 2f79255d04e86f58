// Loss curve of the demo-size network on one small fixed batch, N SGD(momentum 0.8) steps, on two
// tfjs backends (each in its own process), and how far apart the curves are.
// Usage: tsx scripts/device/src/loss-curve.ts [--out loss-curve.json] [--backends webgpu,wasm] [--steps 40] [--batch 8] [--lr 0.01]
//        tsx scripts/device/src/loss-curve.ts --worker BACKEND --steps N --batch B --lr LR   (one curve, one JSON line)
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { deepMerge } from '@ser/stage-kit';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const argv = process.argv.slice(2);
const get = (k: string, d: string) => (argv.includes(`--${k}`) ? argv[argv.indexOf(`--${k}`) + 1]! : d);
const steps = Number(get('steps', '40'));
const batch = Number(get('batch', '8'));
const lr = Number(get('lr', '0.01'));

/** max |a_i - b_i| and the same relative to |a_i|. */
export function curveDiff(a: number[], b: number[]): { maxAbs: number; maxRel: number } {
  let maxAbs = 0;
  let maxRel = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = Math.abs(a[i]! - b[i]!);
    maxAbs = Math.max(maxAbs, d);
    maxRel = Math.max(maxRel, d / Math.max(Math.abs(a[i]!), 1e-12));
  }
  return { maxAbs, maxRel };
}

async function worker(backend: string): Promise<void> {
  const { tf, buildModel, batchGrads, selectBackend, modelConfigFrom, inputShapeFrom } = await import('@ser/model');
  const params = deepMerge(parse(readFileSync(`${root}params.yaml`, 'utf8')), parse(readFileSync(`${root}params.demo.yaml`, 'utf8'))) as Parameters<typeof modelConfigFrom>[0];
  await selectBackend(backend as 'webgpu');
  const input = inputShapeFrom(params);
  const model = buildModel(modelConfigFrom(params), input, 1);
  const vars = model.trainableWeights.map((w) => w.read() as import('@tensorflow/tfjs').Variable);
  const opt = tf.train.momentum(lr, 0.8);
  // The batch is made on the CPU side (seeded), so both backends see the same numbers.
  const xs = tf.tidy(() => tf.randomNormal([batch, input.nMels, input.frames], 0, 1, 'float32', 7).dataSync());
  const x = tf.tensor3d(xs, [batch, input.nMels, input.frames]);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 8), 'int32'), 8);
  const losses: number[] = [];
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) {
    const { value, grads } = await batchGrads(model, x, (p, a, e) => tf.neg(tf.mean(tf.sum(tf.mul(tf.slice(y, a, e - a), tf.log(tf.add(p, 1e-7))), -1))) as import('@tensorflow/tfjs').Scalar, vars);
    opt.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
    losses.push((await value.data())[0]!);
    tf.dispose(Object.values(grads));
    value.dispose();
  }
  console.log(JSON.stringify({ backend, steps, batch, lr, input: [input.nMels, input.frames], seconds: +((performance.now() - t0) / 1000).toFixed(2), losses }));
}

async function driver(): Promise<number> {
  const backends = get('backends', 'webgpu,wasm').split(',');
  const curves: Record<string, unknown>[] = [];
  for (const b of backends) {
    const r = spawnSync(process.execPath, [`${root}node_modules/tsx/dist/cli.mjs`, fileURLToPath(import.meta.url), '--worker', b, '--steps', String(steps), '--batch', String(batch), '--lr', String(lr)], { encoding: 'utf8', timeout: 900_000, maxBuffer: 1 << 24 });
    const line = (r.stdout ?? '').trim().split('\n').reverse().find((l) => l.startsWith('{'));
    if (r.status !== 0 || !line) {
      curves.push({ backend: b, error: (r.error?.message ?? r.stderr ?? '').trim().split('\n').slice(-3).join(' | ').slice(0, 500) });
      console.log(`${b}: failed`);
    } else {
      curves.push(JSON.parse(line) as Record<string, unknown>);
      console.log(`${b}: ok`);
    }
  }
  const ok = curves.filter((c) => Array.isArray(c['losses'])) as { backend: string; losses: number[] }[];
  const diff = ok.length >= 2 ? curveDiff(ok[0]!.losses, ok[1]!.losses) : null;
  const out = get('out', 'loss-curve.json');
  writeFileSync(out, JSON.stringify({ model: 'demo (params.yaml + params.demo.yaml)', steps, batch, lr, curves, diff }, null, 2) + '\n');
  if (diff) console.log(`${ok[0]!.backend} vs ${ok[1]!.backend}: max |diff| ${diff.maxAbs.toExponential(3)}, max rel ${diff.maxRel.toExponential(3)}`);
  return ok.length === backends.length ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (argv.includes('--worker')) await worker(get('worker', 'wasm'));
  else process.exit(await driver());
}
