// Custom tfjs-layers classes of the paper network. Each has getConfig + registerClass, so a saved
// model.json loads again anywhere this module was imported (index.ts imports it).
// Shapes: B = batch, M = mel bins, T = frames / sequence length, d = feature width.
import { tf } from './tf.ts';
import { CHANNEL_SUM, POOL2D_GRAD } from './wasm-kernels.ts';

type Tensor = tf.Tensor;
type Kwargs = Record<string, unknown>;
type Shape = (number | null)[];
interface BaseArgs {
  name?: string;
  trainable?: boolean;
  inputShape?: Shape;
  batchInputShape?: Shape;
}

const one = (x: Tensor | Tensor[]): Tensor => (Array.isArray(x) ? x[0]! : x);

/** PyTorch's default Linear/Conv weight init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), seeded. */
export function torchInit(seed: number): ReturnType<typeof tf.initializers.varianceScaling> {
  return tf.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed });
}

/**
 * StandardScaler as a layer: y = (x - mean) / scale, element-wise over [M, T].
 * Weights `mean`, `scale` (shape = input shape without batch) are non-trainable; identity
 * (0, 1) until `setScaler` fills them from the train set's statistics.
 */
export class Standardize extends tf.layers.Layer {
  static className = 'Standardize';
  private mean!: tf.LayerVariable;
  private scale!: tf.LayerVariable;
  constructor(args: BaseArgs = {}) {
    super({ ...args, trainable: false });
  }
  override build(inputShape: Shape | Shape[]): void {
    const s = (inputShape as Shape).slice(1) as number[];
    this.mean = this.addWeight('mean', s, 'float32', tf.initializers.zeros(), undefined, false);
    this.scale = this.addWeight('scale', s, 'float32', tf.initializers.ones(), undefined, false);
    this.built = true;
  }
  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => tf.div(tf.sub(one(inputs), this.mean.read()), this.scale.read()));
  }
}

/**
 * Dropout whose mask is new at every training call yet reproducible: the mask of call n is drawn
 * from (seed, n). tfjs's own dropout with a fixed seed would repeat one mask forever. The call
 * counter `step` is runtime state (not saved); `setDropoutStep` restores it on resume.
 */
export class SeededDropout extends tf.layers.Layer {
  static className = 'SeededDropout';
  readonly rate: number;
  readonly seed: number;
  step = 0;
  constructor(args: BaseArgs & { rate: number; seed: number }) {
    super(args);
    this.rate = args.rate;
    this.seed = args.seed;
  }
  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    const x = one(inputs);
    if (kwargs['training'] !== true || this.rate <= 0) return x;
    const step = this.step++;
    return tf.tidy(() => {
      const u = tf.randomUniform(x.shape, 0, 1, 'float32', `${this.seed}:${step}`);
      const keep = tf.cast(tf.greaterEqual(u, this.rate), 'float32');
      return tf.mul(x, tf.mul(keep, 1 / (1 - this.rate)));
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}

/**
 * Multi-head self-attention (Eq. 3) on [B, T, d] -> [B, T, d]: per head softmax(QK^T/sqrt(d_k))V,
 * heads concatenated, output projection; like PyTorch's nn.MultiheadAttention (no attention-weight
 * dropout: the encoder applies dropout to this layer's output).
 */
export class MultiHeadSelfAttention extends tf.layers.Layer {
  static className = 'MultiHeadSelfAttention';
  readonly heads: number;
  readonly seed: number;
  private w: tf.LayerVariable[] = [];
  constructor(args: BaseArgs & { heads: number; seed: number }) {
    super(args);
    this.heads = args.heads;
    this.seed = args.seed;
  }
  override build(inputShape: Shape | Shape[]): void {
    const d = (inputShape as Shape)[2] as number;
    if (d % this.heads !== 0) throw new Error(`${this.name}: width ${d} is not divisible by heads ${this.heads}`);
    this.w = [];
    ['q', 'k', 'v', 'o'].forEach((n, i) => {
      this.w.push(this.addWeight(`w${n}`, [d, d], 'float32', torchInit(this.seed + i)));
      this.w.push(this.addWeight(`b${n}`, [d], 'float32', tf.initializers.zeros()));
    });
    this.built = true;
  }
  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const x = one(inputs);
      const [B, T, d] = x.shape as [number, number, number];
      const h = this.heads;
      const dk = d / h;
      const x2 = tf.reshape(x, [B * T, d]);
      const proj = (i: number): Tensor =>
        tf.add(tf.matMul(x2 as tf.Tensor2D, this.w[2 * i]!.read() as tf.Tensor2D), this.w[2 * i + 1]!.read());
      // [B*T, d] -> [B, h, T, dk]
      const split = (t: Tensor): Tensor => tf.transpose(tf.reshape(t, [B, T, h, dk]), [0, 2, 1, 3]);
      const q = split(proj(0));
      const k = split(proj(1));
      const v = split(proj(2));
      const att = tf.softmax(tf.mul(tf.matMul(q as tf.Tensor4D, k as tf.Tensor4D, false, true), 1 / Math.sqrt(dk)));
      const o = tf.reshape(tf.transpose(tf.matMul(att as tf.Tensor4D, v as tf.Tensor4D), [0, 2, 1, 3]), [B * T, d]);
      const y = tf.add(tf.matMul(o as tf.Tensor2D, this.w[6]!.read() as tf.Tensor2D), this.w[7]!.read());
      return tf.reshape(y, [B, T, d]);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), heads: this.heads, seed: this.seed };
  }
}

/** Sinusoidal table [T, d] of Vaswani et al.: PE(t, 2i) = sin(t / 10000^(2i/d)), PE(t, 2i+1) = cos(...). */
export function sinusoidalTable(T: number, d: number): Float32Array {
  const pe = new Float32Array(T * d);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < d; i += 2) {
      const a = t / Math.pow(10000, i / d);
      pe[t * d + i] = Math.sin(a);
      if (i + 1 < d) pe[t * d + i + 1] = Math.cos(a);
    }
  }
  return pe;
}

export type PositionalKind = 'sinusoidal' | 'learned';

/**
 * Adds a position code to a sequence [B, T, d]: `sinusoidal` (fixed, no weights) or `learned`
 * (a trainable [T, d] table, N(0, 0.02) init).
 */
export class PositionalEncoding extends tf.layers.Layer {
  static className = 'PositionalEncoding';
  readonly kind: PositionalKind;
  readonly seed: number;
  private table?: tf.LayerVariable;
  private fixed?: Tensor;
  constructor(args: BaseArgs & { kind: PositionalKind; seed: number }) {
    super(args);
    if (args.kind !== 'sinusoidal' && args.kind !== 'learned') throw new Error(`PositionalEncoding: unknown kind '${String(args.kind)}'`);
    this.kind = args.kind;
    this.seed = args.seed;
  }
  override build(inputShape: Shape | Shape[]): void {
    const [, T, d] = inputShape as [null, number, number];
    if (this.kind === 'learned') {
      this.table = this.addWeight('table', [T, d], 'float32', tf.initializers.randomNormal({ mean: 0, stddev: 0.02, seed: this.seed }));
    } else {
      this.fixed = tf.keep(tf.tensor2d(sinusoidalTable(T, d), [T, d]));
    }
    this.built = true;
  }
  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => tf.add(one(inputs), this.table ? this.table.read() : this.fixed!));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), kind: this.kind, seed: this.seed };
  }
}

/**
 * Cross-attention fusion (Eq. 5-9): inputs [f_cnn [B, D], f_transf [B, T, C]] -> f_fused [B, a].
 * Q = W_Q f_cnn, K = W_K f_transf, V = W_V f_transf (each with bias), alpha = softmax over T of
 * Q K^T / sqrt(a), f_fused = alpha V.
 */
export class CrossAttention extends tf.layers.Layer {
  static className = 'CrossAttention';
  readonly units: number;
  readonly seed: number;
  private w: tf.LayerVariable[] = [];
  constructor(args: BaseArgs & { units: number; seed: number }) {
    super(args);
    this.units = args.units;
    this.seed = args.seed;
  }
  override build(inputShape: Shape | Shape[]): void {
    const [qs, ks] = inputShape as [Shape, Shape];
    const D = qs[1] as number;
    const C = ks[2] as number;
    const a = this.units;
    this.w = [
      this.addWeight('wq', [D, a], 'float32', torchInit(this.seed)),
      this.addWeight('bq', [a], 'float32', tf.initializers.zeros()),
      this.addWeight('wk', [C, a], 'float32', torchInit(this.seed + 1)),
      this.addWeight('bk', [a], 'float32', tf.initializers.zeros()),
      this.addWeight('wv', [C, a], 'float32', torchInit(this.seed + 2)),
      this.addWeight('bv', [a], 'float32', tf.initializers.zeros()),
    ];
    this.built = true;
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return [(inputShape as Shape[])[0]![0]!, this.units];
  }
  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const [f, s] = inputs as Tensor[];
      const [B, T, C] = s!.shape as [number, number, number];
      const a = this.units;
      const r = (i: number): tf.Tensor2D => this.w[i]!.read() as tf.Tensor2D;
      const q = tf.reshape(tf.add(tf.matMul(f as tf.Tensor2D, r(0)), r(1)), [B, 1, a]);
      const s2 = tf.reshape(s!, [B * T, C]) as tf.Tensor2D;
      const k = tf.reshape(tf.add(tf.matMul(s2, r(2)), r(3)), [B, T, a]);
      const v = tf.reshape(tf.add(tf.matMul(s2, r(4)), r(5)), [B, T, a]);
      const alpha = tf.softmax(tf.mul(tf.matMul(q as tf.Tensor3D, k as tf.Tensor3D, false, true), 1 / Math.sqrt(a))); // [B,1,T]
      return tf.reshape(tf.matMul(alpha as tf.Tensor3D, v as tf.Tensor3D), [B, a]);
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units, seed: this.seed };
  }
}

/**
 * Per-channel affine map X [N, C] -> X * a + b (a, b of size C) as a 1x1 depthwise convolution
 * with bias (one XNNPACK pass): tfjs-backend-wasm's broadcasting Mul/Add over [N, C] x [C] are
 * scalar index loops, ~8x slower (measured on [192512, 4]). Only used inside custom gradients
 * (wasm has no depthwise-conv gradient kernels). b, if given, must be allocated as [C] (wasm
 * checks the rank of the buffer, not of a reshape of it).
 */
function channelAffine(x: tf.Tensor2D, a: Tensor, b: Tensor | undefined, c: number): tf.Tensor2D {
  const n = x.shape[0];
  const y = tf.fused.depthwiseConv2d({
    x: tf.reshape(x, [1, n, 1, c]) as tf.Tensor4D,
    filter: tf.reshape(a, [1, 1, c, 1]) as tf.Tensor4D,
    strides: 1,
    pad: 'valid',
    bias: b,
  });
  return tf.reshape(y, [n, c]) as tf.Tensor2D;
}

/** R stacked C x C identities [R*C, C], kept per (backend, R, C): constant weights let XNNPACK reuse its packed operator. */
const stacks = new Map<string, tf.Tensor2D>();
function identityStack(r: number, c: number): tf.Tensor2D {
  const key = `${tf.getBackend()}:${r}:${c}`;
  let t = stacks.get(key);
  if (!t || t.isDisposed) {
    t = tf.keep(tf.tile(tf.eye(c), [r, 1]) as tf.Tensor2D);
    stacks.set(key, t);
  }
  return t;
}

/**
 * Column sums of X [N, C] -> [C]. For C <= 16: X viewed as [N/R, R*C] times R stacked identities
 * [R*C, C] (an XNNPACK matMul), then a short Sum over N/R rows; wasm's Sum over axis 0
 * transposes the whole tensor first (~2x slower on [192512, 4]).
 */
function channelSum(x: tf.Tensor2D): Tensor {
  const [N, C] = x.shape;
  let R = C > 16 ? 1 : 32;
  while (R > 1 && N % R !== 0) R /= 2;
  if (tf.getBackend() === 'wasm' && tf.getKernel(CHANNEL_SUM, 'wasm')) {
    // The same sums, in the same order, in one pass (wasm-kernels.ts).
    return tf.engine().runKernel(CHANNEL_SUM, { x }, { rows: R } as unknown as tf.NamedAttrMap) as Tensor;
  }
  const partial = R === 1 ? x : tf.matMul(tf.reshape(x, [N / R, R * C]) as tf.Tensor2D, identityStack(R, C));
  return tf.sum(partial, 0);
}

/**
 * Batch normalization over all axes but the last (channels), with PyTorch's semantics: batch
 * statistics in training (biased variance to normalize, unbiased for the running estimate,
 * running = (1 - momentum) * running + momentum * batch), running statistics at inference.
 * Training uses a custom gradient (the textbook BN backward) and does every per-channel
 * reduction as a matMul and every per-channel affine map as a 1x1 depthwise conv on [N, C]: the
 * gradient of tfjs's fused BatchNorm tiles its operands to the input shape, and wasm's
 * broadcasting element-wise ops and axis-0 reductions are slow scalar loops (they were half of a
 * demo training step).
 */
export class BatchNorm extends tf.layers.Layer {
  static className = 'BatchNorm';
  readonly momentum: number;
  readonly epsilon: number;
  private gamma!: tf.LayerVariable;
  private beta!: tf.LayerVariable;
  private runMean!: tf.LayerVariable;
  private runVar!: tf.LayerVariable;
  constructor(args: BaseArgs & { momentum?: number; epsilon?: number } = {}) {
    super(args);
    this.momentum = args.momentum ?? 0.1;
    this.epsilon = args.epsilon ?? 1e-5;
  }
  override build(inputShape: Shape | Shape[]): void {
    const s = inputShape as Shape;
    const c = s[s.length - 1] as number;
    this.gamma = this.addWeight('gamma', [c], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [c], 'float32', tf.initializers.zeros());
    this.runMean = this.addWeight('moving_mean', [c], 'float32', tf.initializers.zeros(), undefined, false);
    this.runVar = this.addWeight('moving_variance', [c], 'float32', tf.initializers.ones(), undefined, false);
    this.built = true;
  }
  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const x = one(inputs);
      const C = x.shape[x.shape.length - 1]!;
      const N = x.size / C;
      const eps = this.epsilon;
      if (kwargs['training'] !== true) {
        const s = tf.mul(tf.rsqrt(tf.add(this.runVar.read(), eps)), this.gamma.read());
        return tf.add(tf.mul(x, s), tf.sub(this.beta.read(), tf.mul(this.runMean.read(), s)));
      }
      // Batch statistics leave the custom-gradient function through `stats` (kept, disposed below).
      const stats: Tensor[] = [];
      const bnTrain = tf.customGrad(((xIn: Tensor, gamma: Tensor, beta: Tensor, save: (t: Tensor[]) => void) => {
        const X = tf.reshape(xIn, [N, C]) as tf.Tensor2D;
        const mean = tf.mul(channelSum(X), 1 / N); // [C]
        const centred = channelAffine(X, tf.onesLike(gamma), tf.neg(mean), C); // X - mean, [N, C]
        const variance = tf.mul(channelSum(tf.square(centred) as tf.Tensor2D), 1 / N); // biased, [C]
        const inv = tf.rsqrt(tf.add(variance, eps)); // [C]
        const y = channelAffine(centred, tf.mul(inv, gamma), beta, C);
        stats.push(tf.keep(mean), tf.keep(variance));
        save([centred, inv, gamma]);
        return {
          value: tf.reshape(y, xIn.shape),
          gradFunc: (dy: Tensor, saved: Tensor[]) => {
            const [cen, iv, g] = saved as [tf.Tensor2D, Tensor, Tensor];
            const DY = tf.reshape(dy, [N, C]) as tf.Tensor2D;
            const dbeta = channelSum(DY); // [C]
            const sdc = channelSum(tf.mul(DY, cen) as tf.Tensor2D); // sum dy * (x - mean)
            const dgamma = tf.mul(sdc, iv);
            const s = tf.mul(g, iv); // gamma / sqrt(var + eps), [C]
            // dx = s * (dy - sum(dy)/N - xhat * sum(dy * xhat)/N), xhat = (x - mean) * inv
            const k1 = tf.mul(tf.neg(tf.mul(s, tf.square(iv))), tf.mul(sdc, 1 / N));
            const k0 = tf.mul(tf.neg(s), tf.mul(dbeta, 1 / N));
            const dx = tf.add(channelAffine(DY, s, k0, C), channelAffine(cen, k1, undefined, C));
            return [tf.reshape(dx, xIn.shape), dgamma, dbeta];
          },
        };
      }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: Tensor, g: Tensor, b: Tensor) => Tensor;
      const y = bnTrain(x, this.gamma.read(), this.beta.read());
      const [mean, variance] = stats as [Tensor, Tensor];
      this.updateRunningStats(mean, variance, N);
      mean.dispose();
      variance.dispose();
      return y;
    });
  }
  /**
   * The running-statistics update of one training call (PyTorch's): `mean` and biased `variance`
   * [C] of the call's n = B*H*W values per channel; the variance enters unbiased (n / (n - 1)).
   * The one home of this formula: call() uses it, and so does data-parallel training, which
   * replays the per-pass statistics computed on worker threads in pass order.
   */
  updateRunningStats(mean: Tensor, variance: Tensor, n: number): void {
    tf.tidy(() => {
      const m = this.momentum;
      this.runMean.write(tf.add(tf.mul(this.runMean.read(), 1 - m), tf.mul(mean, m)));
      this.runVar.write(tf.add(tf.mul(this.runVar.read(), 1 - m), tf.mul(variance, (m * n) / Math.max(1, n - 1))));
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon };
  }
}

/**
 * Layer normalization over the last axis (gamma, beta of size d), as nn.LayerNorm. Broadcasting
 * ops only: tfjs's LayerNormalization tiles gamma/beta to [B, T, 1], and the Tile gradient is a
 * loop of B*T slices.
 */
export class LayerNorm extends tf.layers.Layer {
  static className = 'LayerNorm';
  readonly epsilon: number;
  private gamma!: tf.LayerVariable;
  private beta!: tf.LayerVariable;
  constructor(args: BaseArgs & { epsilon?: number } = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-5;
  }
  override build(inputShape: Shape | Shape[]): void {
    const s = inputShape as Shape;
    const d = s[s.length - 1] as number;
    this.gamma = this.addWeight('gamma', [d], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [d], 'float32', tf.initializers.zeros());
    this.built = true;
  }
  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const x = one(inputs);
      const mean = tf.mean(x, -1, true);
      const centred = tf.sub(x, mean);
      const inv = tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), this.epsilon));
      return tf.add(tf.mul(tf.mul(centred, inv), this.gamma.read()), this.beta.read());
    });
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}

/**
 * Non-overlapping 2-D pooling (stride = size, 'valid': trailing rows/columns dropped) on
 * [B, H, W, C] -> [B, floor(H/ph), floor(W/pw), C], with a gradient made of same-shape
 * element-wise ops (nearest-neighbour upsampling of dy and of the max): tfjs-backend-wasm's
 * MaxPoolGrad is a slow scalar loop and broadcasting variants are slow too.
 * Max-gradient ties go to every tied element (after a ReLU, ties at 0 get no gradient anyway).
 */
export class Pool2D extends tf.layers.Layer {
  static className = 'Pool2D';
  readonly kind: 'max' | 'avg';
  readonly poolSize: [number, number];
  constructor(args: BaseArgs & { kind: 'max' | 'avg'; poolSize: [number, number] }) {
    super(args);
    if (args.kind !== 'max' && args.kind !== 'avg') throw new Error(`Pool2D: unknown kind '${String(args.kind)}'`);
    this.kind = args.kind;
    this.poolSize = args.poolSize;
  }
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [b, h, w, c] = inputShape as Shape;
    return [b!, Math.floor(h! / this.poolSize[0]), Math.floor(w! / this.poolSize[1]), c!];
  }
  override call(inputs: Tensor | Tensor[]): Tensor {
    const [ph, pw] = this.poolSize;
    const kind = this.kind;
    const pool = tf.customGrad(((x: Tensor, save: (t: Tensor[]) => void) => {
      const x4 = x as tf.Tensor4D;
      const y = kind === 'max' ? tf.maxPool(x4, [ph, pw], [ph, pw], 'valid') : tf.avgPool(x4, [ph, pw], [ph, pw], 'valid');
      save([x4, y]);
      return {
        value: y,
        gradFunc: (dy: Tensor, saved: Tensor[]) => {
          const [xs, ys] = saved as [tf.Tensor4D, tf.Tensor4D];
          if (tf.getBackend() === 'wasm' && tf.getKernel(POOL2D_GRAD, 'wasm')) {
            // The same values in one pass (wasm-kernels.ts): the composition below is 5-7 passes.
            return tf.engine().runKernel(POOL2D_GRAD, { x: xs, y: ys, dy }, { kind, poolSize: [ph, pw] } as unknown as tf.NamedAttrMap) as Tensor;
          }
          const [B, H, W, C] = xs.shape;
          const [, oh, ow] = ys.shape;
          const size: [number, number] = [oh * ph, ow * pw];
          const up = (t: Tensor): Tensor => tf.image.resizeNearestNeighbor(t as tf.Tensor4D, size);
          let dx = up(dy);
          if (kind === 'max') {
            const xc = size[0] === H && size[1] === W ? xs : tf.slice(xs, [0, 0, 0, 0], [B, size[0], size[1], C]);
            dx = tf.mul(dx, tf.cast(tf.equal(xc, up(ys)), 'float32'));
          } else {
            dx = tf.mul(dx, 1 / (ph * pw));
          }
          if (size[0] !== H || size[1] !== W) dx = tf.pad(dx, [[0, 0], [0, H - size[0]], [0, W - size[1]], [0, 0]]);
          return dx;
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    return tf.tidy(() => pool(one(inputs)));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), kind: this.kind, poolSize: this.poolSize };
  }
}

interface ConvFields {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  activation: { getClassName(): string };
  strides: [number, number];
  padding: 'same' | 'valid';
  dataFormat: string;
  dilationRate: [number, number];
}
// tfjs-layers' own Conv2D class, taken from the serialization registry before ours replaces it.
const StockConv2D = tf.serialization.SerializationMap.getMap().classNameMap['Conv2D']![0] as unknown as new (
  args: Record<string, unknown>,
) => tf.layers.Layer;

/**
 * tfjs-layers' Conv2D with the same class name and config (model.json is unchanged and loads as
 * the stock class in any tfjs runtime). Without bias and activation (every conv here: BN
 * follows) it calls tf.conv2d instead of tf.fused.conv2d: the fused op's custom gradient always
 * computes the input gradient, wasted on the convs that read the spectrogram (a Conv2DBackpropInput
 * over the whole first-block resolution per step); tf.conv2d's gradient is computed per input on demand.
 */
export class Conv2D extends StockConv2D {
  static className = 'Conv2D';
  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    const c = this as unknown as ConvFields;
    if (c.bias != null || c.activation.getClassName() !== 'linear' || c.dataFormat !== 'channelsLast') {
      return super.call(inputs, kwargs) as Tensor;
    }
    return tf.tidy(() => tf.conv2d(one(inputs) as tf.Tensor4D, c.kernel.read() as tf.Tensor4D, c.strides, c.padding, 'NHWC', c.dilationRate));
  }
}

for (const c of [Standardize, SeededDropout, MultiHeadSelfAttention, PositionalEncoding, CrossAttention, BatchNorm, LayerNorm, Pool2D, Conv2D]) {
  tf.serialization.registerClass(c as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
}
