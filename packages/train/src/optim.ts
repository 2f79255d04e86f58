// Optimizers (PyTorch semantics), learning-rate schedules and gradient clipping. Pure maths on
// tfjs variables: no file system, no randomness.
import { tf } from '@ser/model';
import type { Tensor, Variable } from '@tensorflow/tfjs';
import { OptimKernel } from './optim-kernel.ts';
import { tensorFromScratch } from './scratch.ts';

export type OptimizerKind = 'sgd' | 'adam' | 'adamw';

export interface OptimizerConfig {
  optimizer: OptimizerKind;
  /** Peak learning rate: the constant rate, or the top of a cosine / one-cycle schedule. */
  lr: number;
  /** SGD momentum (sgd only). */
  momentum: number;
  /** sgd, adam: added to the gradient (g += wd * p, torch.optim.SGD / Adam).
   * adamw: decoupled, p -= lr_t * wd * p before the Adam step (torch.optim.AdamW). */
  weightDecay: number;
  /** Adam(W) (beta1, beta2). */
  betas: [number, number];
  /** Adam(W) epsilon, added to sqrt(v_hat). */
  eps: number;
}

export interface SgdConfig {
  lr: number;
  momentum: number;
  /** Added to the gradient of EVERY trainable parameter: g += weightDecay * p (torch.optim.SGD). */
  weightDecay: number;
}

/**
 * One torch.optim.SGD step (dampening 0, no Nesterov), in place:
 *   d = g + wd * p;  v = mu * v + d  (v starts at 0, which equals torch's v = d on step 1);  p -= lr * v.
 * An L2 term `wd * sum(p^2)` in the loss would add 2 * wd * p instead: twice torch's decay.
 */
export function sgdStep(params: Variable[], grads: Tensor[], buffers: Variable[], cfg: SgdConfig): void {
  tf.tidy(() => {
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      const g = grads[i]!;
      const d = cfg.weightDecay !== 0 ? tf.add(g, tf.mul(p, cfg.weightDecay)) : g;
      const v = cfg.momentum !== 0 ? tf.add(tf.mul(buffers[i]!, cfg.momentum), d) : d;
      if (cfg.momentum !== 0) buffers[i]!.assign(v);
      p.assign(tf.sub(p, tf.mul(v, cfg.lr)));
    }
  });
}

/**
 * One torch.optim.Adam / AdamW step at 1-based step `t`, in place (amsgrad off):
 *   adam:  g += wd * p
 *   adamw: p *= 1 - lr * wd
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * `m` and `v` start at zero.
 */
export function adamStep(
  params: Variable[],
  grads: Tensor[],
  m: Variable[],
  v: Variable[],
  t: number,
  cfg: { lr: number; weightDecay: number; betas: [number, number]; eps: number; decoupled: boolean },
): void {
  const [b1, b2] = cfg.betas;
  const c1 = 1 - b1 ** t;
  const c2 = Math.sqrt(1 - b2 ** t);
  tf.tidy(() => {
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      let g = grads[i]!;
      if (cfg.weightDecay !== 0 && !cfg.decoupled) g = tf.add(g, tf.mul(p, cfg.weightDecay));
      const base = cfg.weightDecay !== 0 && cfg.decoupled ? tf.mul(p, 1 - cfg.lr * cfg.weightDecay) : p;
      const mi = tf.add(tf.mul(m[i]!, b1), tf.mul(g, 1 - b1));
      const vi = tf.add(tf.mul(v[i]!, b2), tf.mul(tf.square(g), 1 - b2));
      m[i]!.assign(mi);
      v[i]!.assign(vi);
      // torch: denom = sqrt(v) / sqrt(1 - b2^t) + eps; p -= (lr / (1 - b1^t)) * m / denom
      const denom = tf.add(tf.div(tf.sqrt(vi), c2), cfg.eps);
      p.assign(tf.sub(base, tf.mul(tf.div(mi, denom), cfg.lr / c1)));
    }
  });
}

// ---------------------------------------------------------------- the optimizer

/**
 * Backends whose elementwise float32 ops round each result once to float32 (IEEE 754), as wasm's
 * f32 arithmetic does: on these the optimizer runs its step in OptimKernel over the values, with
 * sgdStep's and adamStep's exact bits, instead of ~15 small tf ops per weight (~12-17 ms a batch
 * on the ravdess-cpu network; the kernel takes a few).
 */
export const VALUE_STEP_BACKENDS: ReadonlySet<string> = new Set(['wasm', 'cpu']);

/**
 * The optimizer state of one training run: the per-parameter buffers (SGD: momentum; Adam(W):
 * first then second moments) and the number of steps taken, so a checkpoint can resume exactly.
 * On VALUE_STEP_BACKENDS the buffers live in an OptimKernel's memory and a step is one kernel
 * call per parameter; elsewhere (GPU backends, where the values live on the device) they are
 * variables and a step runs sgdStep / adamStep. Same bits either way on the CPU backends (tested).
 */
export class Optimizer {
  steps = 0;
  /** VALUE_STEP_BACKENDS: the kernel, where each buffer starts in its memory, and the scratch for p, g and the new p. */
  private readonly kernel: { k: OptimKernel; buffers: number[]; p: number; g: number; out: number } | null;
  private readonly variables: Variable[] | null;

  constructor(
    readonly params: Variable[],
    readonly cfg: OptimizerConfig,
    /** Run the step as tf ops on any backend (tests compare both ways). */
    opts: { tensorOps?: boolean } = {},
  ) {
    const copies = cfg.optimizer === 'sgd' ? 1 : 2;
    const sizes = Array.from({ length: copies * params.length }, (_, i) => params[i % params.length]!.size);
    if (!opts.tensorOps && VALUE_STEP_BACKENDS.has(tf.getBackend())) {
      const k = new OptimKernel();
      const largest = Math.max(0, ...sizes);
      this.kernel = { k, buffers: sizes.map((n) => k.reserve(n)), p: k.reserve(largest), g: k.reserve(largest), out: k.reserve(largest) };
      this.variables = null;
    } else {
      this.kernel = null;
      this.variables = params.length ? sizes.map((_, i) => tf.variable(tf.zerosLike(params[i % params.length]!), false)) : [];
    }
  }

  /** True when the buffers are values and steps run in the kernel (VALUE_STEP_BACKENDS). */
  get byValue(): boolean {
    return this.kernel !== null;
  }

  /** Applies `grads` (in `params` order) at learning rate `lr`. */
  step(grads: Tensor[], lr: number): void {
    this.steps++;
    const c = this.cfg;
    const n = this.params.length;
    const [b1, b2] = c.betas;
    const adam = { lr, weightDecay: c.weightDecay, betas: c.betas, eps: c.eps, decoupled: c.optimizer === 'adamw' };
    if (!this.kernel) {
      if (c.optimizer === 'sgd') sgdStep(this.params, grads, this.variables!, { lr, momentum: c.momentum, weightDecay: c.weightDecay });
      else adamStep(this.params, grads, this.variables!.slice(0, n), this.variables!.slice(n), this.steps, adam);
      return;
    }
    const { k, buffers, p: pAt, g: gAt, out: outAt } = this.kernel;
    // adamStep's constants (tfjs rounds each scalar to float32; so does the kernel's f32 parameter).
    const decay = c.weightDecay === 0 ? 'none' : adam.decoupled ? 'decoupled' : 'coupled';
    const consts = { k1: b1, j1: 1 - b1, k2: b2, j2: 1 - b2, c2: Math.sqrt(1 - b2 ** this.steps), eps: c.eps, rate: lr / (1 - b1 ** this.steps), keep: 1 - lr * c.weightDecay, wd: c.weightDecay, decay } as const;
    for (let i = 0; i < n; i++) {
      const p = this.params[i]!;
      const size = p.size;
      k.view(pAt, size).set(p.dataSync() as Float32Array);
      k.view(gAt, size).set(grads[i]!.dataSync() as Float32Array);
      if (c.optimizer === 'sgd') k.sgd(pAt, gAt, buffers[i]!, outAt, size, c.weightDecay, c.momentum, lr, c.weightDecay !== 0, c.momentum !== 0);
      else k.adam(pAt, gAt, buffers[i]!, buffers[n + i]!, outAt, size, consts);
      tf.tidy(() => p.assign(tensorFromScratch(k.view(outAt, size), p.shape)));
    }
  }

  async read(): Promise<Float32Array[]> {
    if (this.kernel) {
      const { k, buffers } = this.kernel;
      return buffers.map((at, i) => k.view(at, this.params[i % this.params.length]!.size).slice());
    }
    return Promise.all(this.variables!.map(async (b) => Float32Array.from((await b.data()) as Float32Array)));
  }

  load(values: Float32Array[], steps: number): void {
    const count = (this.kernel?.buffers ?? this.variables!).length;
    if (values.length !== count) throw new Error(`checkpoint has ${values.length} optimizer buffers, ${this.cfg.optimizer} needs ${count}`);
    const sizes = this.params.map((p) => p.size);
    values.forEach((v, i) => {
      const want = sizes[i % sizes.length]!;
      if (v.length !== want) throw new Error(`checkpoint optimizer buffer ${i} has ${v.length} values, its parameter ${want}`);
    });
    if (this.kernel) {
      const { k, buffers } = this.kernel;
      values.forEach((v, i) => k.view(buffers[i]!, v.length).set(v));
    } else tf.tidy(() => this.variables!.forEach((b, i) => b.assign(tf.tensor(values[i]!, b.shape, 'float32'))));
    this.steps = steps;
  }

  dispose(): void {
    this.variables?.forEach((b) => b.dispose());
  }
}

// ---------------------------------------------------------------- learning-rate schedules

export type ScheduleKind = 'constant' | 'cosine' | 'onecycle';

export interface ScheduleConfig {
  schedule: ScheduleKind;
  /** Fraction of all steps spent warming up (cosine, onecycle). */
  warmup: number;
}

/** torch.optim.lr_scheduler.OneCycleLR defaults: start at lr / 25, end at lr / 25 / 1e4. */
export const ONECYCLE_DIV = 25;
export const ONECYCLE_FINAL_DIV = 1e4;

const cosineFrom = (from: number, to: number, frac: number): number => to + ((from - to) * (1 + Math.cos(Math.PI * frac))) / 2;

/**
 * Learning rate of 0-based step `step` of `total` for peak rate `lr`.
 * - constant: lr.
 * - cosine: linear warm-up from 0 to lr over the first `warmup * total` steps, then cosine decay
 *   to 0 at the last step.
 * - onecycle: as torch's OneCycleLR (anneal_strategy 'cos', three_phase false, no momentum
 *   cycling): cosine from lr/25 up to lr over `warmup * total` steps, then cosine down to
 *   lr/25/1e4 at the last step.
 */
export function learningRate(step: number, total: number, lr: number, cfg: ScheduleConfig): number {
  if (cfg.schedule === 'constant') return lr;
  const warm = Math.floor(cfg.warmup * total);
  if (cfg.schedule === 'cosine') {
    if (step < warm) return (lr * (step + 1)) / warm;
    const span = Math.max(1, total - 1 - warm);
    return cosineFrom(lr, 0, Math.min(1, (step - warm) / span));
  }
  // onecycle, with torch's phase ends: warm-up ends at step pct*total - 1, the run at total - 1.
  const initial = lr / ONECYCLE_DIV;
  const final = initial / ONECYCLE_FINAL_DIV;
  const upEnd = Math.max(1, cfg.warmup * total - 1);
  if (step <= upEnd) return cosineFrom(initial, lr, step / upEnd);
  return cosineFrom(lr, final, Math.min(1, (step - upEnd) / Math.max(1, total - 1 - upEnd)));
}

// ---------------------------------------------------------------- gradient clipping

/**
 * torch.nn.utils.clip_grad_norm_: when the global L2 norm of all gradients exceeds `maxNorm`,
 * scales every gradient by maxNorm / (norm + 1e-6). Returns the (new) gradients and the norm
 * before clipping; the caller disposes the inputs it no longer needs.
 */
export async function clipByGlobalNorm(grads: Tensor[], maxNorm: number): Promise<{ grads: Tensor[]; norm: number }> {
  const squares = tf.tidy(() => tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
  const norm = Math.sqrt((await squares.data())[0]!);
  squares.dispose();
  const scale = maxNorm / (norm + 1e-6);
  if (!(scale < 1)) return { grads, norm };
  return { grads: grads.map((g) => tf.mul(g, scale)), norm };
}
