// The wasm kernels we supply, checked against the cpu backend, and the wasm module's own kernels
// (wasm/train-kernels.ts) against the XNNPACK compositions whose order of additions they keep.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tf, selectBackend, buildModel, Pool2D, type ModelConfig } from '../src/index.ts';
import { CHANNEL_SUM, POOL2D_GRAD } from '../src/wasm-kernels.ts';
import { TRAIN_KERNELS_SOURCE_SHA256 } from '../src/train-kernels.wasm.ts';

interface Case {
  x: [number, number, number, number];
  k: [number, number, number, number];
  strides: [number, number];
  pad: 'same' | 'valid';
  dilations?: [number, number];
}

const cases: Case[] = [
  { x: [3, 9, 14, 2], k: [3, 3, 2, 4], strides: [1, 1], pad: 'same' }, // residual conv
  { x: [2, 8, 11, 3], k: [1, 1, 3, 5], strides: [1, 1], pad: 'valid' }, // shortcut 1x1
  { x: [2, 10, 13, 1], k: [3, 3, 1, 2], strides: [2, 2], pad: 'same' }, // stride 2: fallback path for dx
  { x: [2, 9, 12, 2], k: [3, 2, 2, 3], strides: [2, 3], pad: 'valid' },
  // kh*kw*ci <= 32 sums the filter gradient image by image (all above); these position by position
  { x: [2, 7, 9, 5], k: [3, 3, 5, 3], strides: [1, 1], pad: 'same' },
  { x: [2, 8, 10, 6], k: [3, 3, 6, 2], strides: [2, 2], pad: 'valid' },
  // image by image: a 1-channel input in 'same' padding with an even kernel (uneven padding)
  { x: [3, 6, 7, 1], k: [2, 4, 1, 3], strides: [1, 1], pad: 'same' },
];

/** Gradients of sum(conv(x, w) * r) w.r.t. x and w on the active backend. */
function grads(c: Case, seed: number): { dx: Float32Array; dw: Float32Array } {
  return tf.tidy(() => {
    const x = tf.randomNormal(c.x, 0, 1, 'float32', seed) as tf.Tensor4D;
    const w = tf.randomNormal(c.k, 0, 1, 'float32', seed + 1) as tf.Tensor4D;
    const y = tf.conv2d(x, w, c.strides, c.pad, 'NHWC', c.dilations ?? 1);
    const r = tf.randomNormal(y.shape, 0, 1, 'float32', seed + 2);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad, 'NHWC', c.dilations ?? 1), r)),
    )([x, w]);
    return { dx: g[0]!.dataSync() as Float32Array, dw: g[1]!.dataSync() as Float32Array };
  });
}

/** Max |a - b| over max(max |a|, floor): the floor keeps gradients that are 0 in exact math (float noise) out. */
function maxRelErr(a: Float32Array, b: Float32Array, floor = 1e-6): number {
  let scale = floor;
  let err = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]!));
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
  }
  return err / scale;
}

describe('wasm conv2d gradients', () => {
  it('match the cpu backend (filter and input gradient)', async () => {
    await selectBackend('cpu');
    const ref = cases.map((c, i) => grads(c, 100 + 10 * i));
    const choice = await selectBackend('wasm');
    expect(choice.tfBackend).toBe('wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    cases.forEach((c, i) => {
      const got = grads(c, 100 + 10 * i);
      expect(got.dw.length).toBe(ref[i]!.dw.length);
      expect(maxRelErr(ref[i]!.dw, got.dw), `dw case ${i}`).toBeLessThan(1e-4);
      expect(maxRelErr(ref[i]!.dx, got.dx), `dx case ${i}`).toBeLessThan(1e-4);
    });
  });

  it('does not leak wasm tensors', async () => {
    await selectBackend('wasm');
    grads(cases[0]!, 1);
    const before = tf.memory().numTensors;
    const bytes = tf.memory().numBytes;
    grads(cases[0]!, 1);
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.memory().numBytes).toBe(bytes);
  });
});

describe('wasm BatchMatMul (explicit transposes, loop over big batches)', () => {
  const mm: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
    { a: [7, 5], b: [5, 3], ta: false, tb: false },
    { a: [5, 7], b: [5, 3], ta: true, tb: false },
    { a: [7, 5], b: [3, 5], ta: false, tb: true },
    { a: [5, 7], b: [3, 5], ta: true, tb: true },
    { a: [2, 3, 60, 50], b: [2, 3, 40, 50], ta: false, tb: true }, // 6 x 120,000 MACs: loop path
    { a: [2, 3, 50, 60], b: [2, 3, 50, 40], ta: true, tb: false }, // loop path, transposed A
    { a: [4, 6, 5], b: [4, 6, 3], ta: true, tb: false }, // small batch: stock path
    { a: [4, 6, 5], b: [5, 3], ta: false, tb: false }, // broadcast batch
    { a: [3, 20], b: [50, 20], ta: false, tb: true }, // 2-D, big B: (B A^T)^T
  ];
  const run = () =>
    mm.map((c, i) =>
      tf.tidy(() => {
        const a = tf.randomNormal(c.a, 0, 1, 'float32', 200 + i);
        const b = tf.randomNormal(c.b, 0, 1, 'float32', 300 + i);
        return tf.matMul(a, b, c.ta, c.tb).dataSync() as Float32Array;
      }),
    );
  it('matches the cpu backend', async () => {
    await selectBackend('cpu');
    const ref = run();
    await selectBackend('wasm');
    const got = run();
    got.forEach((g, i) => {
      expect(g.length, `case ${i}`).toBe(ref[i]!.length);
      expect(maxRelErr(ref[i]!, g), `case ${i}`).toBeLessThan(1e-5);
    });
  });
  it('is deterministic (same inputs, same bytes)', async () => {
    await selectBackend('wasm');
    const a = run();
    const b = run();
    a.forEach((g, i) => expect(Buffer.from(g.buffer).equals(Buffer.from(b[i]!.buffer)), `case ${i}`).toBe(true));
  });
});

describe('wasm Pool2D gradient kernel (SerPool2DGrad)', () => {
  // Odd sizes (cropped rows/columns get 0) and, for max, ties (rounded values: ties get dy each).
  const run = () =>
    (['max', 'avg'] as const).flatMap((kind) =>
      ([[2, 2], [2, 4], [3, 1]] as [number, number][]).map((poolSize, i) =>
        tf.tidy(() => {
          const l = new Pool2D({ name: `pg_${kind}_${i}`, kind, poolSize });
          const x = tf.round(tf.mul(tf.randomNormal([2, 7, 13, 3], 0, 1, 'float32', 40 + i), 2));
          const r = tf.randomNormal(l.computeOutputShape([2, 7, 13, 3]) as number[], 0, 1, 'float32', 50 + i);
          return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(l.apply(t) as tf.Tensor, r)))(x).dataSync() as Float32Array;
        }),
      ),
    );
  it('is used on wasm and gives the cpu backend values exactly, deterministically', async () => {
    await selectBackend('cpu');
    const ref = run();
    await selectBackend('wasm');
    expect(tf.getKernel(POOL2D_GRAD, 'wasm')).toBeDefined();
    const got = run();
    const again = run();
    got.forEach((g, i) => {
      expect(maxRelErr(ref[i]!, g), `case ${i}`).toBe(0);
      expect(Buffer.from(g.buffer).equals(Buffer.from(again[i]!.buffer)), `case ${i}`).toBe(true);
    });
  });
});

describe('whole-network gradient on wasm', () => {
  it('matches cpu for every trainable weight of a tiny model (training mode, dropout on)', async () => {
    const cfg: ModelConfig = {
      channels: [2, 3, 3, 3], pool: { kind: 'max', size: [2, 2] }, dropout: 0.4, cnn_dim: 6,
      transformer_pool: [2, 4], transformer_layers: 1, d_model: 4, heads: 2, ffn_dim: 8,
      transformer_dropout: 0.1, positional_encoding: 'sinusoidal', attention_dim: 4,
    };
    const run = async (backend: 'cpu' | 'wasm') => {
      await selectBackend(backend);
      const m = buildModel(cfg, { nMels: 16, frames: 35 }, 7);
      const x = tf.randomNormal([4, 16, 35], 0, 1, 'float32', 3);
      const y = tf.oneHot(tf.tensor1d([0, 3, 5, 7], 'int32'), 8);
      const { value, grads } = tf.variableGrads(
        () => tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(m.apply(x, { training: true }) as tf.Tensor)), -1))) as tf.Scalar,
        m.trainableWeights.map((w) => w.read() as tf.Variable),
      );
      const out = { loss: value.dataSync()[0]!, grads: Object.values(grads).map((g) => g.dataSync() as Float32Array) };
      m.dispose();
      return out;
    };
    const ref = await run('cpu');
    const got = await run('wasm');
    expect(got.loss).toBeCloseTo(ref.loss, 4);
    expect(got.grads.length).toBe(ref.grads.length);
    // Some gradients are exactly 0 in exact math (key bias under softmax; a 1-channel 1x1 conv
    // before BN) and are float noise here: hence a floor of 1% of the largest gradient entry.
    const top = Math.max(...ref.grads.map((g) => g.reduce((a, v) => Math.max(a, Math.abs(v)), 0)));
    expect(top).toBeGreaterThan(1e-3);
    got.grads.forEach((g, i) => expect(maxRelErr(ref.grads[i]!, g, 1e-2 * top), `weight ${i}`).toBeLessThan(1e-3));
  });
});

describe('wasm/train-kernels.ts', () => {
  it('the embedded module was built from the committed source (npm run build:wasm -w packages/model)', () => {
    const source = readFileSync(new URL('../wasm/train-kernels.ts', import.meta.url));
    expect(createHash('sha256').update(source).digest('hex')).toBe(TRAIN_KERNELS_SOURCE_SHA256);
  });

  // The compositions the kernels replaced, on wasm's XNNPACK kernels: the trained weights in the
  // committed locks came from them, so the kernels must give their bytes exactly.
  const bytes = (t: tf.Tensor): Buffer => Buffer.from((t.dataSync() as Float32Array).slice().buffer);

  /** The filter gradient as XNNPACK computed it: a conv of x^T with dy^T (big filters) or an im2col product (<= 32 rows). */
  function xnnpackFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, c: Case): tf.Tensor {
    const [kh, kw, ci, co] = c.k;
    const [B, H, W] = x.shape;
    const [, OH, OW] = dy.shape;
    const info = tf.backend_util.computeConv2DInfo(x.shape, c.k, c.strides, c.dilations ?? 1, c.pad);
    const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
    const { top, left } = info.padInfo;
    if (kh * kw * ci > 32) {
      const bottom = Math.max(0, (kh - 1) * dh + 1 + (OH - 1) * sh - H - top);
      const right = Math.max(0, (kw - 1) * dw + 1 + (OW - 1) * sw - W - left);
      const out = tf.engine().runKernel('Conv2D', { x: tf.transpose(x, [3, 1, 2, 0]), filter: tf.transpose(dy, [1, 2, 0, 3]) }, {
        strides: [dh, dw], dilations: [sh, sw], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC',
      } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
      return tf.transpose(tf.slice(out, [0, 0, 0, 0], [ci, kh, kw, co]), [1, 2, 0, 3]);
    }
    const xs = x.dataSync();
    const col = new Float32Array(kh * kw * ci * B * OH * OW); // [kh*kw*ci, B*OH*OW], zeros in the padding
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let k = 0; k < ci; k++) {
      for (let b = 0; b < B; b++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
        const h = oh * sh + i * dh - top;
        const w = ow * sw + j * dw - left;
        if (h >= 0 && h < H && w >= 0 && w < W) col[((i * kw + j) * ci + k) * B * OH * OW + (b * OH + oh) * OW + ow] = xs[((b * H + h) * W + w) * ci + k]!;
      }
    }
    return tf.reshape(tf.matMul(tf.tensor2d(col, [kh * kw * ci, B * OH * OW]), tf.reshape(dy, [B * OH * OW, co]) as tf.Tensor2D), c.k);
  }

  it('filterGrad gives the XNNPACK compositions\' bytes (both orders, strides, dilation, odd channels)', async () => {
    await selectBackend('wasm');
    const more: Case[] = [
      ...cases,
      { x: [4, 12, 30, 8], k: [3, 3, 8, 8], strides: [1, 1], pad: 'same' }, // a residual block of the CPU network
      { x: [4, 10, 17, 16], k: [1, 1, 16, 32], strides: [1, 1], pad: 'valid' }, // a 1x1 shortcut
      { x: [3, 11, 13, 7], k: [3, 3, 7, 13], strides: [1, 1], pad: 'same', dilations: [2, 2] },
      { x: [2, 9, 16, 12], k: [5, 3, 12, 6], strides: [2, 1], pad: 'same' },
    ];
    more.forEach((c, i) =>
      tf.tidy(() => {
        const x = tf.randomNormal(c.x, 0, 1, 'float32', 500 + i) as tf.Tensor4D;
        const info = tf.backend_util.computeConv2DInfo(c.x, c.k, c.strides, c.dilations ?? 1, c.pad);
        const dy = tf.randomNormal([c.x[0], info.outHeight, info.outWidth, c.k[3]], 0, 1, 'float32', 600 + i) as tf.Tensor4D;
        const got = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
          strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: c.dilations ?? [1, 1], filterShape: c.k,
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
        expect(bytes(got).equals(bytes(xnnpackFilterGrad(x, dy, c))), `case ${i}: ${JSON.stringify(c)}`).toBe(true);
      }),
    );
  });

  it(`${CHANNEL_SUM} gives the bytes of a matMul by stacked identities + Sum (C <= 16) and of Sum (C > 16)`, async () => {
    await selectBackend('wasm');
    expect(tf.getKernel(CHANNEL_SUM, 'wasm')).toBeDefined();
    const shapes: [number, number, number][] = [[6016 * 32, 8, 32], [1504 * 32, 16, 32], [96, 3, 32], [40, 5, 8], [12032, 32, 1], [2944, 64, 1], [37, 6, 1]];
    shapes.forEach(([N, C, R], i) =>
      tf.tidy(() => {
        const x = tf.randomNormal([N, C], 0, 1, 'float32', 700 + i) as tf.Tensor2D;
        const got = tf.engine().runKernel(CHANNEL_SUM, { x }, { rows: R } as unknown as tf.NamedAttrMap) as tf.Tensor;
        const partial = R === 1 ? x : tf.matMul(tf.reshape(x, [N / R, R * C]) as tf.Tensor2D, tf.tile(tf.eye(C), [R, 1]) as tf.Tensor2D);
        expect(bytes(got).equals(bytes(tf.sum(partial, 0))), `[${N}, ${C}] rows ${R}`).toBe(true);
      }),
    );
    expect(() => tf.engine().runKernel(CHANNEL_SUM, { x: tf.zeros([10, 4]) }, { rows: 4 } as unknown as tf.NamedAttrMap)).toThrow(/rows 4 must be >= 1 and divide 10/);
  });
  it('batched products sum each output\'s products in order from 0, in f32 (as XNNPACK and tfjs\'s own kernels)', async () => {
    await selectBackend('wasm');
    const cases: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
      { a: [16, 4, 47, 8], b: [16, 4, 47, 8], ta: false, tb: true }, // attention Q K^T
      { a: [16, 4, 47, 47], b: [16, 4, 47, 8], ta: false, tb: false }, // attention weights x V
      { a: [16, 4, 47, 47], b: [16, 4, 47, 8], ta: true, tb: false }, // a gradient
      { a: [3, 9, 5], b: [5, 7], ta: false, tb: false }, // broadcast B
      { a: [6, 5], b: [4, 6, 3], ta: true, tb: false }, // broadcast A, transposed
      { a: [5, 1, 33], b: [5, 13, 33], ta: false, tb: true }, // cross-attention's [B, 1, T]
    ];
    cases.forEach((c, i) =>
      tf.tidy(() => {
        const a = tf.randomNormal(c.a, 0, 1, 'float32', 800 + i);
        const b = tf.randomNormal(c.b, 0, 1, 'float32', 900 + i);
        const got = tf.matMul(a, b, c.ta, c.tb);
        const [M, K] = c.ta ? [c.a.at(-1)!, c.a.at(-2)!] : [c.a.at(-2)!, c.a.at(-1)!];
        const N = c.tb ? c.b.at(-2)! : c.b.at(-1)!;
        const batchA = c.a.slice(0, -2).reduce((p, d) => p * d, 1);
        const batchB = c.b.slice(0, -2).reduce((p, d) => p * d, 1);
        const A = a.dataSync();
        const B = b.dataSync();
        const want = new Float32Array(got.size);
        for (let t = 0; t < Math.max(batchA, batchB); t++) {
          const ao = batchA > 1 ? t * M * K : 0;
          const bo = batchB > 1 ? t * K * N : 0;
          for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
            let acc = 0;
            for (let k = 0; k < K; k++) acc = Math.fround(acc + Math.fround(A[ao + (c.ta ? k * M + m : m * K + k)]! * B[bo + (c.tb ? n * K + k : k * N + n)]!));
            want[(t * M + m) * N + n] = acc;
          }
        }
        expect(bytes(got).equals(Buffer.from(want.buffer)), `case ${i}`).toBe(true);
      }),
    );
  });
});
