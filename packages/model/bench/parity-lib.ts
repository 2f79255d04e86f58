// tfjs/PyTorch parity check (library; CLI: parity.ts, test: test/parity.test.ts; README "Parity check").
// Builds our seeded model, exports ALL its initial weights (by their fixed names), the scaler and
// a fixed sequence of batches to a temp dir, runs the training steps here exactly as the train
// stage does (batchGrads + crossEntropy + sgdStep from @ser/train) and in PyTorch
// (torch_parity.py: torch_bench.py's Net loaded with our weights, torch.optim.SGD,
// F.cross_entropy), and compares:
// - forward: probabilities of batch 1 with the initial weights, eval and training mode;
// - free-running: the per-step losses of S steps from the same initial weights. float32 rounding
//   grows over steps in both frameworks (a ReLU or max-pool decision flips, the next update
//   differs a little, ...): PyTorch float32 drifts from PyTorch float64 as much (`reference`);
// - synced: step s in PyTorch starts from OUR weights, BatchNorm statistics and momentum buffers
//   before our step s, so every step is compared on its own (loss, and the update it makes).
// Dropout is off in both (rates 0): masks cannot match across frameworks.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng } from '@ser/stage-kit';
import { crossEntropy, loadScaler, loadSplit, mulberry32, permutation, sgdStep, type SgdConfig } from '@ser/train';
import { tf, buildModel, setScaler, batchGrads, type InputShape, type ModelConfig } from '../src/index.ts';

const here = fileURLToPath(new URL('.', import.meta.url));

/** Environment for PyTorch child processes: glibc's allocator is slow with its default thresholds;
 * no __pycache__ next to the scripts. */
export const TORCH_ENV = {
  PYTHONDONTWRITEBYTECODE: '1',
  MALLOC_MMAP_THRESHOLD_: '4294967296',
  MALLOC_TRIM_THRESHOLD_: '68719476736',
  MALLOC_TOP_PAD_: '536870912',
};

/** The first of `python3`, `/usr/bin/python3` that can `import torch`, else undefined. */
export function findTorchPython(): string | undefined {
  return ['python3', '/usr/bin/python3'].find(
    (p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore', env: { ...process.env, ...TORCH_ENV } }).status === 0,
  );
}

/** Raw (unscaled) log-mel batches: x is steps * batch rows of [nMels, frames], y their labels. */
export interface ParityData {
  x: Float32Array;
  y: Int32Array;
  mean: Float32Array;
  scale: Float32Array;
  source: string;
}

/** Random log-mel-like batches (N(-40, 12) dB), random labels, and a per-element scaler. */
export function randomData(input: InputShape, batch: number, steps: number, seed: number): ParityData {
  const rng = createRng(seed);
  const n = input.nMels * input.frames;
  const x = new Float32Array(steps * batch * n);
  for (let i = 0; i < x.length; i++) x[i] = -40 + 12 * rng.normal();
  const y = Int32Array.from({ length: steps * batch }, () => rng.int(8));
  const mean = Float32Array.from({ length: n }, () => -40 + 2 * rng.normal());
  const scale = Float32Array.from({ length: n }, () => 10 + 4 * rng.next());
  return { x, y, mean, scale, source: `random (seed ${seed})` };
}

/** steps * batch rows of `<dir>/train.arrow` in a seeded permutation (as train draws them), and `<dir>/scaler.arrow`. */
export async function featuresData(dir: string, input: InputShape, batch: number, steps: number, seed: number): Promise<ParityData> {
  const shape = [input.nMels, input.frames];
  const ds = await loadSplit(join(dir, 'train.arrow'), shape);
  const rows = steps * batch;
  if (ds.count < rows) throw new Error(`${dir}/train.arrow: ${ds.count} rows, need ${rows} (${steps} steps x batch ${batch})`);
  const order = permutation(ds.count, mulberry32(seed));
  const x = new Float32Array(rows * ds.rowSize);
  const y = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const r = order[i]!;
    x.set(ds.x.subarray(r * ds.rowSize, (r + 1) * ds.rowSize), i * ds.rowSize);
    y[i] = ds.y[r]!;
  }
  const { mean, scale } = await loadScaler(join(dir, 'scaler.arrow'), shape);
  return { x, y, mean, scale, source: `${dir}/train.arrow (${rows} of ${ds.count} rows, permutation seed ${seed})` };
}

export interface Tolerances {
  /** forward: max elementwise rel error of the probabilities (eval and training mode). */
  forward: number;
  /** loss: per-step rel diff of the synced losses (and of the free-running ones when gated). */
  loss: number;
  /** update: per synced step, ||W_tfjs - W_torch|| / ||W_torch - W_before|| over the trainable weights (L2). */
  update: number;
}
export const DEFAULT_TOL: Tolerances = { forward: 1e-4, loss: 1e-3, update: 1e-2 };

export interface ParityOptions {
  cfg: ModelConfig; // dropout rates are forced to 0
  input: InputShape;
  seed: number;
  batch: number;
  steps: number;
  sgd: SgdConfig;
  data: ParityData;
  python: string;
  /** Also gate the free-running losses at tol.loss (only meaningful where float32 drift stays below it). */
  gateFreeRunning?: boolean;
  /** Also run PyTorch in float64: how far float32 PyTorch and tfjs drift from it (the noise floor). */
  reference?: boolean;
  /** Keep the exchange files here instead of a temp dir that is deleted. */
  keepDir?: string;
  tol?: Partial<Tolerances>;
  /** Edits the manifest PyTorch reads (tests: a deliberate mismatch must fail the check). */
  mutateManifest?: (manifest: { cfg: ModelConfig; sgd: { lr: number; momentum: number; weight_decay: number } }) => void;
}

export interface StepRow {
  step: number;
  tfjs: number; // our loss (free-running = synced: it is our trajectory)
  torch: number; // PyTorch free-running
  rel: number;
  torchSynced: number; // PyTorch from our state before this step
  relSynced: number;
  update: number; // rel L2 difference of the weights after the step (trainable)
  bnStats: number; // same for the BatchNorm running statistics (change of this step)
  reference?: { loss: number; torch32: number; tfjs: number }; // float64 PyTorch, rel diffs vs it
}

export interface ParityResult {
  backend: string;
  torch: string;
  trainable: number;
  forwardEval: number; // max rel error of the eval-mode probabilities, batch 1, initial weights
  forwardTrain: number; // same, training mode (batch statistics) = the forward of step 1
  forwardEvalFinal: number; // eval mode after the last free-running step: diagnostic
  steps: StepRow[];
  maxLossRel: number; // free-running
  maxLossRelSynced: number;
  maxUpdate: number;
  grads: { name: string; rel: number }[]; // step-1 gradient per tensor: max|a-b| / max|b|, worst first
  gradsRef?: { torch32: { name: string; rel: number }[]; tfjs: { name: string; rel: number }[] };
  tol: Tolerances;
  gateFreeRunning: boolean;
  pass: boolean;
  failures: string[];
  seconds: { tfjs: number; torch: number; reference?: number };
}

/** max_i |a_i - b_i| / max(|b_i|, floor) (NaN if any element is NaN). */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-6): number {
  if (a.length !== b.length) throw new Error(`maxRelError: lengths ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(b[i]!), floor));
  return m;
}

/**
 * max |a - b| / max(max |b|, floor): relative to the tensor's own scale, with a floor for tensors
 * whose gradient is 0 in exact arithmetic and holds only rounding noise on both sides.
 */
function tensorRelError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 0): number {
  let d = 0;
  let s = floor;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  if (Number.isNaN(d)) return NaN;
  return d === 0 ? 0 : d / Math.max(s, 1e-30);
}

/** Step-1 gradient errors are floored at this fraction of the largest gradient element anywhere. */
export const GRAD_FLOOR = 1e-4;

const relDiff = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);
const f32 = (t: tf.Tensor): Float32Array => Float32Array.from(t.dataSync() as Float32Array);
const bytes = (a: Float32Array | Int32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const readF32 = (file: string): Float32Array => {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

interface TorchRun {
  torch: string;
  probs_eval: number[];
  probs_train: number[];
  probs_eval_final: number[];
  losses: number[];
  sync_losses?: number[];
  grads1: Float32Array;
  syncW?: Float32Array;
  seconds: number;
}

interface WeightInfo {
  name: string;
  shape: number[];
  trainable: boolean;
  file: string;
}

/** Runs the comparison (the tfjs backend must be selected already). */
export async function runParity(o: ParityOptions): Promise<ParityResult> {
  const tol: Tolerances = { ...DEFAULT_TOL, ...o.tol };
  const { input, batch: B, steps: S } = o;
  const n = input.nMels * input.frames;
  if (o.data.x.length !== S * B * n || o.data.y.length !== S * B) throw new Error('runParity: data does not hold steps * batch rows of the input shape');
  const dir = o.keepDir ?? mkdtempSync(join(tmpdir(), 'ser-parity-'));
  mkdirSync(dir, { recursive: true });
  try {
    const t0 = performance.now();
    const cfg: ModelConfig = { ...o.cfg, dropout: 0, transformer_dropout: 0 };
    const model = buildModel(cfg, input, o.seed);
    setScaler(model, o.data.mean, o.data.scale);

    // All initial weights by their fixed (original) names, in model.weights order.
    const weights: WeightInfo[] = model.weights.map((w, i) => {
      const file = `w${i}.bin`;
      writeFileSync(join(dir, file), bytes(f32(w.read())));
      return { name: w.originalName, shape: w.shape as number[], trainable: w.trainable, file };
    });
    const trainableW = weights.filter((w) => w.trainable);
    writeFileSync(join(dir, 'x.bin'), bytes(o.data.x));
    writeFileSync(join(dir, 'y.bin'), bytes(o.data.y));
    const manifest = {
      cfg,
      n_mels: input.nMels,
      frames: input.frames,
      batch: B,
      steps: S,
      sgd: { lr: o.sgd.lr, momentum: o.sgd.momentum, weight_decay: o.sgd.weightDecay },
      threads: 1,
      weights,
      x: 'x.bin',
      y: 'y.bin',
      sync: { weights: 'sync_w.bin', buffers: 'sync_b.bin' },
    };
    o.mutateManifest?.(manifest);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 1));

    // tfjs: eval forward, then the train stage's step S times; before each step our whole state
    // (weights incl. BN statistics, momentum buffers) goes to sync_*.bin for the synced PyTorch steps.
    const batchX = (s: number): tf.Tensor => tf.tensor(o.data.x.subarray(s * B * n, (s + 1) * B * n), [B, input.nMels, input.frames]);
    const evalProbs = (): Float32Array =>
      tf.tidy(() => {
        const x = batchX(0);
        return f32(model.apply(x, { training: false }) as tf.Tensor);
      });
    const probsEval = evalProbs();
    const byName = new Map(model.weights.map((w) => [w.originalName, w]));
    const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const buffers = params.map((p) => tf.variable(tf.zerosLike(p), false));
    const bufferOf = new Map(model.trainableWeights.map((w, i) => [w.originalName, buffers[i]!]));
    const origName = new Map(model.trainableWeights.map((w, i) => [params[i]!.name, w.originalName]));
    const fw = openSync(join(dir, 'sync_w.bin'), 'w');
    const fb = openSync(join(dir, 'sync_b.bin'), 'w');
    const lossesTf: number[] = [];
    let probsTrain: Float32Array = new Float32Array(0);
    const grads1 = new Map<string, Float32Array>();
    try {
      for (let s = 0; s < S; s++) {
        for (const w of weights) writeSync(fw, bytes(f32(byName.get(w.name)!.read())));
        for (const w of trainableW) writeSync(fb, bytes(f32(bufferOf.get(w.name)!)));
        const x = batchX(s);
        const y = o.data.y.subarray(s * B, (s + 1) * B);
        const { value, grads, probs } = await batchGrads(model, x, (p, from, to) => crossEntropy(p, y.subarray(from, to), p.shape[1]!) as tf.Scalar, params);
        if (s === 0) {
          probsTrain = probs;
          for (const p of params) grads1.set(origName.get(p.name)!, f32(grads[p.name]!));
        }
        sgdStep(params, params.map((p) => grads[p.name]!), buffers, o.sgd);
        lossesTf.push(value.dataSync()[0]!);
        value.dispose();
        tf.dispose(grads);
        x.dispose();
      }
      // The state after the last step closes the sequence (row S of sync_w.bin; PyTorch reads S rows).
      for (const w of weights) writeSync(fw, bytes(f32(byName.get(w.name)!.read())));
    } finally {
      closeSync(fw);
      closeSync(fb);
    }
    const probsEvalFinal = evalProbs();
    const trainable = params.reduce((a, p) => a + p.size, 0);
    buffers.forEach((b) => b.dispose());
    model.dispose();
    const tfjsSecs = (performance.now() - t0) / 1000;

    // PyTorch: float32 (free-running + synced), and float64 (free-running) as a reference if asked.
    const runTorch = (dtype: 'float32' | 'float64'): TorchRun => {
      const t = performance.now();
      const r = spawnSync(o.python, [join(here, 'torch_parity.py'), dir, dtype], {
        encoding: 'utf8',
        env: { ...process.env, ...TORCH_ENV },
        maxBuffer: 1 << 26,
      });
      if (r.status !== 0) {
        throw new Error(`torch_parity.py ${dtype} failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-5).join(' | ')}`);
      }
      const p = join(dir, `torch-${dtype}`);
      const j = JSON.parse(readFileSync(`${p}.json`, 'utf8')) as Omit<TorchRun, 'grads1' | 'syncW' | 'seconds'>;
      return { ...j, grads1: readF32(`${p}_grads1.bin`), ...(j.sync_losses ? { syncW: readF32(`${p}_sync_w.bin`) } : {}), seconds: (performance.now() - t) / 1000 };
    };
    const pt = runTorch('float32');
    const ref = o.reference ? runTorch('float64') : undefined;

    // Step-1 gradients per tensor.
    const size = (w: WeightInfo): number => w.shape.reduce((a, d) => a * d, 1);
    const perTensor = (a: (name: string) => ArrayLike<number>, b: Float32Array): { name: string; rel: number }[] => {
      let off = 0;
      const floor = GRAD_FLOOR * b.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      return trainableW.map((w) => {
        const k = size(w);
        const rel = tensorRelError(a(w.name), b.subarray(off, off + k), floor);
        off += k;
        return { name: w.name, rel };
      });
    };
    const byRel = (a: { rel: number }, b: { rel: number }): number => (Number.isNaN(b.rel) ? 1 : Number.isNaN(a.rel) ? -1 : b.rel - a.rel);
    const grads = perTensor((nm) => grads1.get(nm)!, pt.grads1).sort(byRel);
    let gradsRef: ParityResult['gradsRef'];
    if (ref) {
      const g32 = new Map<string, Float32Array>();
      let k = 0;
      for (const w of trainableW) g32.set(w.name, pt.grads1.subarray(k, (k += size(w))));
      gradsRef = { torch32: perTensor((nm) => g32.get(nm)!, ref.grads1).sort(byRel), tfjs: perTensor((nm) => grads1.get(nm)!, ref.grads1).sort(byRel) };
    }

    // Synced steps: PyTorch's state after step s vs ours, relative to the change the step made.
    const ours = readF32(join(dir, 'sync_w.bin')); // S + 1 rows
    const theirs = pt.syncW!; // S rows
    const total = weights.reduce((a, w) => a + size(w), 0);
    const isStat = weights.map((w) => /\/moving_(mean|variance)$/.test(w.name));
    const stepDiff = (s: number): { update: number; bnStats: number } => {
      const before = ours.subarray(s * total, (s + 1) * total);
      const after = ours.subarray((s + 1) * total, (s + 2) * total);
      const pa = theirs.subarray(s * total, (s + 1) * total);
      const acc: { tr: [number, number]; st: [number, number] } = { tr: [0, 0], st: [0, 0] };
      let off = 0;
      weights.forEach((w, i) => {
        const k = size(w);
        const a = w.trainable ? acc.tr : isStat[i] ? acc.st : undefined;
        if (a) {
          for (let j = off; j < off + k; j++) {
            a[0] += (after[j]! - pa[j]!) ** 2;
            a[1] += (pa[j]! - before[j]!) ** 2;
          }
        }
        off += k;
      });
      const r = (x: number[]): number => (x[0] === 0 ? 0 : Math.sqrt(x[0]!) / Math.sqrt(Math.max(x[1]!, 1e-300)));
      return { update: r(acc.tr), bnStats: r(acc.st) };
    };

    const steps: StepRow[] = lossesTf.map((l, i) => {
      const sync = pt.sync_losses![i]!;
      const { update, bnStats } = stepDiff(i);
      return {
        step: i + 1,
        tfjs: l,
        torch: pt.losses[i]!,
        rel: relDiff(l, pt.losses[i]!),
        torchSynced: sync,
        relSynced: relDiff(l, sync),
        update,
        bnStats,
        ...(ref ? { reference: { loss: ref.losses[i]!, torch32: relDiff(pt.losses[i]!, ref.losses[i]!), tfjs: relDiff(l, ref.losses[i]!) } } : {}),
      };
    });
    const mx = (v: number[]): number => v.reduce((m, x) => (Number.isNaN(x) || Number.isNaN(m) ? NaN : Math.max(m, x)), 0);
    const forwardEval = maxRelError(probsEval, pt.probs_eval);
    const forwardTrain = maxRelError(probsTrain, pt.probs_train);
    const forwardEvalFinal = maxRelError(probsEvalFinal, pt.probs_eval_final);
    const failures: string[] = [];
    const e = (v: number): string => v.toExponential(2);
    const ok = (v: number, t: number): boolean => v <= t; // NaN fails
    if (!ok(forwardEval, tol.forward)) failures.push(`forward (eval) max rel error ${e(forwardEval)} > ${tol.forward}`);
    if (!ok(forwardTrain, tol.forward)) failures.push(`forward (training) max rel error ${e(forwardTrain)} > ${tol.forward}`);
    for (const s of steps) {
      if (!ok(s.relSynced, tol.loss)) failures.push(`step ${s.step}: synced loss rel diff ${e(s.relSynced)} > ${tol.loss}`);
      if (!ok(s.update, tol.update)) failures.push(`step ${s.step}: synced update rel diff ${e(s.update)} > ${tol.update}`);
      if (o.gateFreeRunning && !ok(s.rel, tol.loss)) failures.push(`step ${s.step}: free-running loss rel diff ${e(s.rel)} > ${tol.loss}`);
    }
    return {
      backend: tf.getBackend(),
      torch: pt.torch,
      trainable,
      forwardEval,
      forwardTrain,
      forwardEvalFinal,
      steps,
      maxLossRel: mx(steps.map((s) => s.rel)),
      maxLossRelSynced: mx(steps.map((s) => s.relSynced)),
      maxUpdate: mx(steps.map((s) => s.update)),
      grads,
      ...(gradsRef ? { gradsRef } : {}),
      tol,
      gateFreeRunning: o.gateFreeRunning === true,
      pass: failures.length === 0,
      failures,
      seconds: { tfjs: tfjsSecs, torch: pt.seconds, ...(ref ? { reference: ref.seconds } : {}) },
    };
  } finally {
    if (!o.keepDir) rmSync(dir, { recursive: true, force: true });
  }
}

/** The report: forward errors, the per-step table, the worst step-1 gradient tensors, PASS/FAIL. */
export function formatReport(r: ParityResult, top = 4): string {
  const e = (v: number): string => v.toExponential(2);
  const L: string[] = [];
  const secs = `tfjs ${r.seconds.tfjs.toFixed(1)} s, PyTorch ${r.seconds.torch.toFixed(1)} s` + (r.seconds.reference ? ` (+ float64 ${r.seconds.reference.toFixed(1)} s)` : '');
  L.push(`tfjs ${r.backend} vs PyTorch ${r.torch}; ${r.trainable} trainable parameters; ${secs}`);
  L.push(`forward, batch 1, initial weights: max rel error eval ${e(r.forwardEval)}, training ${e(r.forwardTrain)} (tolerance ${r.tol.forward})`);
  L.push('');
  const ref = r.steps[0]?.reference !== undefined;
  const fr = r.gateFreeRunning ? 'free-running (gated)' : 'free-running (not gated)';
  L.push(`      ${'loss'.padEnd(12)}   ${fr.padEnd(24)}   synced: PyTorch from our state before the step` + (ref ? '   | float64 PyTorch (free-running)' : ''));
  L.push(
    `step  ${'tfjs'.padStart(12)}   ${'torch'.padStart(12)}   rel diff    ${'torch'.padStart(12)}   rel diff   update   BN stats` +
      (ref ? `   | ${'loss'.padStart(12)}  f32 vs f64  tfjs vs f64` : ''),
  );
  for (const s of r.steps) {
    const flag = s.relSynced <= r.tol.loss && s.update <= r.tol.update && (!r.gateFreeRunning || s.rel <= r.tol.loss) ? '' : '  FAIL';
    L.push(
      `${String(s.step).padStart(4)}  ${s.tfjs.toFixed(7).padStart(12)}   ${s.torch.toFixed(7).padStart(12)}   ${e(s.rel).padStart(8)}    ${s.torchSynced.toFixed(7).padStart(12)}   ${e(s.relSynced).padStart(8)}   ${e(s.update)}   ${e(s.bnStats)}` +
        (s.reference ? `   | ${s.reference.loss.toFixed(7).padStart(12)}  ${e(s.reference.torch32).padStart(10)}  ${e(s.reference.tfjs).padStart(11)}` : '') +
        flag,
    );
  }
  L.push(
    `max rel diff: free-running loss ${e(r.maxLossRel)}, synced loss ${e(r.maxLossRelSynced)} (tolerance ${r.tol.loss}), synced update ${e(r.maxUpdate)} (tolerance ${r.tol.update})`,
  );
  if (ref) {
    const m = (f: (s: StepRow) => number): string => e(r.steps.reduce((a, s) => Math.max(a, f(s)), 0));
    L.push(`free-running vs float64 PyTorch, max over steps: float32 PyTorch ${m((s) => s.reference!.torch32)} (the float32 noise floor), tfjs ${m((s) => s.reference!.tfjs)}`);
  }
  L.push('');
  const worst = (l: { name: string; rel: number }[]): string => l.slice(0, top).map((g) => `${g.name} ${e(g.rel)}`).join(', ');
  L.push(`step-1 gradients, max|tfjs - torch| / max(max|torch|, ${GRAD_FLOOR} * largest gradient) per tensor, worst ${top} of ${r.grads.length}: ${worst(r.grads)}`);
  if (r.gradsRef) L.push(`  vs float64 PyTorch: float32 PyTorch ${worst(r.gradsRef.torch32)}; tfjs ${worst(r.gradsRef.tfjs)}`);
  L.push(
    '  (the floor: some gradients are 0 in exact arithmetic and hold only rounding noise: the attention key biases */bk (softmax\n' +
      '  ignores a per-query constant) and a 1x1 conv on 1 channel followed by BatchNorm (block1_short_conv: BN is scale-invariant))',
  );
  L.push(`eval forward after the last free-running step (BN running statistics): max rel error ${e(r.forwardEvalFinal)}`);
  L.push('');
  L.push(r.pass ? 'PASS' : `FAIL: ${r.failures.join('; ')}`);
  return L.join('\n');
}
