// Where a training step's time goes: per-kernel time and count (summed over a few steps after a
// warm-up), from tf.profile. Prints a table sorted by time.
// Usage: [CPU_TIMING=1] [BY_SHAPE=n] tsx bench/profile.ts [backend=wasm] [demo|paper|<profile>] [batch=16] [steps=3] [top=30]
import { fileURLToPath } from 'node:url';
import { loadStageParams } from '@ser/stage-kit';
import { tf, buildModel, selectBackend, modelConfigFrom, inputShapeFrom, type BackendName } from '../src/index.ts';

const [backend = 'wasm', size = 'demo', batchArg = '16', stepsArg = '3', topArg = '30'] = process.argv.slice(2);
const batch = Number(batchArg);
const steps = Number(stepsArg);
const params = loadStageParams({ cwd: fileURLToPath(new URL('../../../', import.meta.url)), argv: size === 'paper' ? [] : ['--profile', size], env: {} });

await selectBackend(backend as BackendName);
// CPU_TIMING=1: time each top-level kernel call by this process's CPU time (process.cpuUsage) instead
// of tf.profile's wall time: the figures hold up when other work shares the core.
const cpuTimes = new Map<string, { ms: number; n: number }>();
const cpuShapes = new Map<string, { ms: number; n: number }>();
if (process.env['CPU_TIMING']) {
  let depth = 0;
  for (const k of tf.getKernelsForBackend(backend)) {
    const inner = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, backend);
    tf.registerKernel({
      ...k,
      kernelFunc: ((args: Parameters<typeof inner>[0]) => {
        if (depth++ > 0) {
          try {
            return inner(args);
          } finally {
            depth--;
          }
        }
        const c0 = process.cpuUsage();
        try {
          return inner(args);
        } finally {
          depth--;
          const c = process.cpuUsage(c0);
          const e = cpuTimes.get(k.kernelName) ?? { ms: 0, n: 0 };
          e.ms += (c.user + c.system) / 1000;
          e.n += 1;
          cpuTimes.set(k.kernelName, e);
          if (process.env['BY_SHAPE']) {
            const key = `${k.kernelName} ${Object.values(args.inputs).map((t) => JSON.stringify((t as { shape?: number[] } | undefined)?.shape)).join(' ')}`;
            const f = cpuShapes.get(key) ?? { ms: 0, n: 0 };
            f.ms += (c.user + c.system) / 1000;
            f.n += 1;
            cpuShapes.set(key, f);
          }
        }
      }) as typeof inner,
    });
  }
}
const input = inputShapeFrom(params);
const model = buildModel(modelConfigFrom(params), input, 1);
const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
const opt = tf.train.momentum(0.001, 0.8);
const x = tf.randomNormal([batch, input.nMels, input.frames], -40, 15, 'float32', 1);
const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 8), 'int32'), 8);
const step = (): void => {
  const loss = opt.minimize(() => {
    const p = model.apply(x, { training: true }) as tf.Tensor;
    return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(tf.add(p, 1e-7))), -1))) as tf.Scalar;
  }, true, vars)!;
  loss.dataSync();
  loss.dispose();
};

step(); // warm-up
cpuTimes.clear();
cpuShapes.clear();
const cpu0 = process.cpuUsage();
const byName = new Map<string, { ms: number; n: number }>();
const byShape = new Map<string, { ms: number; n: number }>(); // kernel + input shapes
let wall = 0;
let peakBytes = 0;
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  const info = await tf.profile(() => step());
  wall += performance.now() - t0;
  peakBytes = Math.max(peakBytes, info.peakBytes);
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : ((await k.kernelTimeMs) as number);
    const e = byName.get(k.name) ?? { ms: 0, n: 0 };
    e.ms += ms;
    e.n += 1;
    byName.set(k.name, e);
    const key = `${k.name} ${k.inputShapes.map((s) => JSON.stringify(s)).join(' ')}`;
    const f = byShape.get(key) ?? { ms: 0, n: 0 };
    f.ms += ms;
    f.n += 1;
    byShape.set(key, f);
  }
}
// Wrappers (customGrad bodies: 'unnamed scope'; ops built on customGrad: 'xxx__op') time the
// kernels inside them too: listed, but left out of the totals.
const isWrapper = (name: string): boolean => name === 'unnamed scope' || name.endsWith('__op');
const leaves = [...byName].filter(([n]) => !isWrapper(n)).map(([, e]) => e);
const total = leaves.reduce((a, e) => a + e.ms, 0);
const count = leaves.reduce((a, e) => a + e.n, 0);
const cpuAll = process.cpuUsage(cpu0);
console.log(`${backend} ${size} batch ${batch}: ${((cpuAll.user + cpuAll.system) / 1000 / steps).toFixed(1)} ms/step CPU, ${(wall / steps).toFixed(1)} ms/step wall (profiled), kernels ${(total / steps).toFixed(1)} ms/step, ${Math.round(count / steps)} kernels/step, peak tensor memory ${(peakBytes / 2 ** 20).toFixed(0)} MiB`);
console.log('kernel                          ms/step     %   calls/step');
for (const [name, e] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(topArg))) {
    const label = isWrapper(name) ? `(${name}, wrapper)` : name;
  const pct = isWrapper(name) ? '' : ((100 * e.ms) / total).toFixed(1);
  console.log(`${label.padEnd(30)} ${(e.ms / steps).toFixed(2).padStart(8)} ${pct.padStart(5)} ${(e.n / steps).toFixed(0).padStart(8)}`);
}
if (process.env['BY_SHAPE']) {
  console.log('\nby input shapes (ms/step, calls/step):');
  for (const [key, e] of [...byShape].filter(([k]) => !isWrapper(k.split(' ')[0]!)).sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(process.env['BY_SHAPE']))) {
    console.log(`${(e.ms / steps).toFixed(2).padStart(8)} ${(e.n / steps).toFixed(0).padStart(4)}  ${key}`);
  }
}
if (process.env['CPU_TIMING']) {
  // Includes the warm-up step's share only if recorded before reset: reset after warm-up below.
  const total = [...cpuTimes.values()].reduce((a, e) => a + e.ms, 0);
  console.log(`\nkernels by CPU time (ms/step; ${(total / steps).toFixed(1)} ms/step in kernels):`);
  for (const [name, e] of [...cpuTimes].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(topArg))) {
    console.log(`${name.padEnd(30)} ${(e.ms / steps).toFixed(2).padStart(8)} ${((100 * e.ms) / total).toFixed(1).padStart(5)} ${(e.n / steps).toFixed(0).padStart(8)}`);
  }
}
if (process.env['CPU_TIMING'] && process.env['BY_SHAPE']) {
  console.log('\nby input shapes, CPU time (ms/step, calls/step):');
  for (const [key, e] of [...cpuShapes].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(process.env['BY_SHAPE']))) {
    console.log(`${(e.ms / steps).toFixed(2).padStart(8)} ${(e.n / steps).toFixed(0).padStart(4)}  ${key}`);
  }
}
