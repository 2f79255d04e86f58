// The paper network (Fig. 3) built from params: CNN branch, Transformer branch, cross-attention.
// Input: raw (unscaled) log-mel [B, nMels, frames]; output: softmax probabilities [B, 8].
import { EMOTIONS } from '@ser/stage-kit';
import { tf } from './tf.ts';
import {
  BatchNorm,
  Conv2D,
  Pool2D,
  LayerNorm,
  CrossAttention,
  MultiHeadSelfAttention,
  PositionalEncoding,
  SeededDropout,
  Standardize,
  torchInit,
  type PositionalKind,
} from './layers.ts';

type SymT = tf.SymbolicTensor;

/** `model.*` of params.yaml (see the comments there; most sizes are not in the paper). */
export interface ModelConfig {
  channels: number[]; // conv channels of the residual blocks (the paper has 4)
  pool: { kind: 'max' | 'avg'; size: [number, number] }; // after each block, (mels, frames)
  dropout: number; // after each block
  cnn_dim: number; // D = |f_cnn|
  transformer_pool: [number, number]; // max pooling (mels, frames) before the encoder
  transformer_layers: number;
  d_model: number;
  heads: number;
  ffn_dim: number;
  transformer_dropout: number;
  positional_encoding: PositionalKind | 'none';
  attention_dim: number; // width of W_Q, W_K, W_V
}

export interface InputShape {
  nMels: number;
  frames: number;
}

/** One output per emotion label. */
export const N_CLASSES = EMOTIONS.length;

/** Frames of a centred STFT (librosa): 1 + floor(samples / hop), samples = round(duration * sr). */
export function inputFrames(durationS: number, sampleRate: number, hopLength: number): number {
  return 1 + Math.floor(Math.round(durationS * sampleRate) / hopLength);
}

/** Batch norm over channels with PyTorch's defaults (momentum 0.1, eps 1e-5). */
const bn = (name: string): tf.layers.Layer => new BatchNorm({ name, momentum: 0.1, epsilon: 1e-5 });

/**
 * Builds the seeded, untrained network. Every layer has a fixed name and every initializer a
 * seed derived from `seed`, so the same (cfg, input, seed) gives byte-identical weights.
 */
export function buildModel(cfg: ModelConfig, input: InputShape, seed: number): tf.LayersModel {
  let k = 0;
  const nextSeed = (): number => (Math.abs(Math.trunc(seed)) % 100_000) * 1000 + 17 * k++;
  const conv = (name: string, filters: number, size: number): tf.layers.Layer =>
    new Conv2D({ name, filters, kernelSize: size, padding: 'same', useBias: false, kernelInitializer: torchInit(nextSeed()) });
  const dense = (name: string, units: number, activation?: 'relu' | 'softmax'): tf.layers.Layer =>
    tf.layers.dense({ name, units, activation, kernelInitializer: torchInit(nextSeed()) });
  const drop = (name: string, rate: number): tf.layers.Layer => new SeededDropout({ name, rate, seed: nextSeed() });
  const ap = (l: tf.layers.Layer, x: SymT | SymT[]): SymT => l.apply(x) as SymT;

  const inp = tf.input({ shape: [input.nMels, input.frames], name: 'logmel' });
  const std = ap(new Standardize({ name: 'standardize' }), inp);
  const img = ap(tf.layers.reshape({ name: 'add_channel', targetShape: [input.nMels, input.frames, 1] }), std);

  // CNN branch: residual blocks (Eq. 1-2), pooling, dropout; flatten; dense -> f_cnn.
  let x = img;
  let cin = 1;
  cfg.channels.forEach((c, i) => {
    const p = `block${i + 1}_`;
    let y = ap(conv(`${p}conv1`, c, 3), x);
    y = ap(bn(`${p}bn1`), y);
    y = ap(tf.layers.reLU({ name: `${p}relu1` }), y);
    y = ap(conv(`${p}conv2`, c, 3), y);
    y = ap(bn(`${p}bn2`), y);
    const sc = c === cin ? x : ap(bn(`${p}short_bn`), ap(conv(`${p}short_conv`, c, 1), x));
    y = ap(tf.layers.add({ name: `${p}add` }), [y, sc]);
    y = ap(tf.layers.reLU({ name: `${p}relu2` }), y);
    y = ap(new Pool2D({ name: `${p}pool`, kind: cfg.pool.kind, poolSize: cfg.pool.size }), y);
    x = ap(drop(`${p}dropout`, cfg.dropout), y);
    cin = c;
  });
  const fCnn = ap(dense('f_cnn', cfg.cnn_dim, 'relu'), ap(tf.layers.flatten({ name: 'flatten' }), x));

  // Transformer branch: 2x4 max pooling, frames as the sequence, projection, position, encoder.
  const [pm, pt] = cfg.transformer_pool;
  let s = ap(new Pool2D({ name: 'tr_pool', kind: 'max', poolSize: [pm, pt] }), img);
  const mels = Math.floor(input.nMels / pm);
  const steps = Math.floor(input.frames / pt);
  s = ap(tf.layers.reshape({ name: 'tr_squeeze', targetShape: [mels, steps] }), s);
  s = ap(tf.layers.permute({ name: 'tr_frames_first', dims: [2, 1] }), s); // [T', mels]
  s = ap(dense('tr_project', cfg.d_model), s);
  if (cfg.positional_encoding !== 'none') {
    s = ap(new PositionalEncoding({ name: 'tr_position', kind: cfg.positional_encoding, seed: nextSeed() }), s);
  }
  const td = cfg.transformer_dropout;
  for (let i = 0; i < cfg.transformer_layers; i++) {
    // Post-norm, as PyTorch's nn.TransformerEncoderLayer (norm_first=False, ReLU).
    const p = `enc${i + 1}_`;
    const a = ap(drop(`${p}att_dropout`, td), ap(new MultiHeadSelfAttention({ name: `${p}mhsa`, heads: cfg.heads, seed: nextSeed() }), s));
    s = ap(new LayerNorm({ name: `${p}norm1`, epsilon: 1e-5 }), ap(tf.layers.add({ name: `${p}add1` }), [s, a]));
    let f = ap(drop(`${p}ffn_dropout`, td), ap(dense(`${p}ffn1`, cfg.ffn_dim, 'relu'), s));
    f = ap(drop(`${p}out_dropout`, td), ap(dense(`${p}ffn2`, cfg.d_model), f));
    s = ap(new LayerNorm({ name: `${p}norm2`, epsilon: 1e-5 }), ap(tf.layers.add({ name: `${p}add2` }), [s, f]));
  }

  // Fusion (Eq. 5-9) and classifier (Eq. 10).
  const fused = ap(new CrossAttention({ name: 'cross_attention', units: cfg.attention_dim, seed: nextSeed() }), [fCnn, s]);
  const fAll = ap(tf.layers.concatenate({ name: 'f_all', axis: -1 }), [fCnn, fused]);
  const out = ap(dense('classifier', N_CLASSES, 'softmax'), fAll);
  return tf.model({ inputs: inp, outputs: out, name: 'ser_cnn_transformer' });
}

/** Fills the Standardize layer: mean and scale are row-major [nMels, frames] (scaler.arrow rows). */
export function setScaler(model: tf.LayersModel, mean: Float32Array, scale: Float32Array): void {
  const layer = model.layers.find((l) => l instanceof Standardize);
  if (!layer) throw new Error('setScaler: the model has no Standardize layer');
  const shape = layer.getWeights()[0]!.shape;
  const n = shape.reduce((a, b) => a * b, 1);
  if (mean.length !== n || scale.length !== n) {
    throw new Error(`setScaler: expected ${n} values ([${shape.join(', ')}]), got mean ${mean.length}, scale ${scale.length}`);
  }
  const m = tf.tensor(mean, shape);
  const sc = tf.tensor(scale, shape);
  layer.setWeights([m, sc]);
  m.dispose();
  sc.dispose();
}

/** Number of weights (trainable and not). */
export function countParams(model: tf.LayersModel): { total: number; trainable: number } {
  const size = (ws: tf.LayerVariable[]): number => ws.reduce((a, w) => a + (w.shape as number[]).reduce((p, d) => p * d, 1), 0);
  return { total: size(model.weights), trainable: size(model.trainableWeights) };
}

/** Sets the call counter of every SeededDropout (e.g. to the number of steps done, on resume). */
export function setDropoutStep(model: tf.LayersModel, step: number): void {
  for (const l of model.layers) if (l instanceof SeededDropout) l.step = step;
}

export interface LayerSummary {
  name: string;
  class: string;
  outputShape: unknown;
  params: number;
}

/** One entry per layer: name, class, output shape, weight count. */
export function layerSummary(model: tf.LayersModel): LayerSummary[] {
  return model.layers.map((l) => ({
    name: l.name,
    class: l.getClassName(),
    outputShape: l.outputShape,
    params: l.countParams(),
  }));
}
