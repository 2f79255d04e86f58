// Optimizers (PyTorch semantics), learning-rate schedules and gradient clipping. Pure maths on
// tfjs variables: no file system, no randomness.
import { tf } from '@ser/model';
import type { Tensor, Variable } from '@tensorflow/tfjs';

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

/**
 * The optimizer state of one training run: the per-parameter buffers (SGD: momentum; Adam(W):
 * first then second moments) and the number of steps taken, so a checkpoint can resume exactly.
 */
export class Optimizer {
  readonly buffers: Variable[];
  steps = 0;
  constructor(
    readonly params: Variable[],
    readonly cfg: OptimizerConfig,
  ) {
    const copies = cfg.optimizer === 'sgd' ? 1 : 2;
    this.buffers = [];
    for (let c = 0; c < copies; c++) for (const p of params) this.buffers.push(tf.variable(tf.zerosLike(p), false));
  }

  /** Applies `grads` (in `params` order) at learning rate `lr`. */
  step(grads: Tensor[], lr: number): void {
    this.steps++;
    const c = this.cfg;
    if (c.optimizer === 'sgd') {
      sgdStep(this.params, grads, this.buffers, { lr, momentum: c.momentum, weightDecay: c.weightDecay });
    } else {
      const n = this.params.length;
      adamStep(this.params, grads, this.buffers.slice(0, n), this.buffers.slice(n), this.steps, {
        lr,
        weightDecay: c.weightDecay,
        betas: c.betas,
        eps: c.eps,
        decoupled: c.optimizer === 'adamw',
      });
    }
  }

  async read(): Promise<Float32Array[]> {
    return Promise.all(this.buffers.map(async (b) => Float32Array.from((await b.data()) as Float32Array)));
  }

  load(values: Float32Array[], steps: number): void {
    if (values.length !== this.buffers.length) {
      throw new Error(`checkpoint has ${values.length} optimizer buffers, ${this.cfg.optimizer} needs ${this.buffers.length}`);
    }
    tf.tidy(() => this.buffers.forEach((b, i) => b.assign(tf.tensor(values[i]!, b.shape, 'float32'))));
    this.steps = steps;
  }

  dispose(): void {
    this.buffers.forEach((b) => b.dispose());
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
