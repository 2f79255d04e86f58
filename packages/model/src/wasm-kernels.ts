// Kernels that tfjs-backend-wasm 4.22 lacks or runs slowly, so training a CNN works on wasm. Four
// run in our own wasm SIMD module (wasm/train-kernels.ts, instantiated on the backend's memory, so
// on tensors in place); every sum there adds its terms in the order of the XNNPACK-based
// compositions or stock kernels they replaced, so trained weights did not change by a byte
// (test/wasm-kernels.test.ts checks each against them):
// - Conv2DBackpropFilter (missing):
//     dW[kh,kw,ci,co] = sum_{b,oh,ow} x[b, oh*s + kh*d - pad, ow*s + kw*d - pad, ci] * dy[b,oh,ow,co],
//   in one of two orders (IMAGE_MAJOR_MAX_ROWS). It replaced a conv of the transposed tensors
//   (and an im2col product for small filters) that streamed a re-packed dy once per 4 outputs: 2x
//   the time.
// - BatchMatMul, batched: the stock kernel is fast (XNNPACK) only for 2-D operands; batched
//   products (attention) and a loop of 2-D XNNPACK products (operator set-up per product) were
//   overhead-bound. 2-D products stay on XNNPACK, with transposes done explicitly (transposeA/B ran
//   8-10x slower) and a 2-D A B^T with a big B (a dense layer's input gradient) as (B A^T)^T.
// - SerChannelSum (ours, used by BatchNorm in layers.ts on wasm): column sums of [N, C] in one
//   pass, in the order of the matMul-by-stacked-identities + Sum it replaced.
// - SerPool2DGrad (ours, used by Pool2D in layers.ts on wasm): the gradient of non-overlapping
//   pooling in one pass instead of upsample + equal + cast + mul (+ slice, pad).
// And compositions of the backend's own kernels:
// - Identity (a copy of the whole tensor on wasm): aliases the input's data with a reference count,
//   as the cpu backend does. The engine clones every tensor it saves for the backward pass, so the
//   copies cost time and (on the paper-size model) gigabytes of the 4 GiB wasm heap.
// - Conv2DBackpropInput (stride 1 only; else the original scalar-loop kernel): the input gradient is
//   a forward conv of dy with the 180-degree rotated kernel, in/out channels swapped.
import { tf } from './tf.ts';
import { TRAIN_KERNELS_WASM_BASE64 } from './train-kernels.wasm.ts';

interface Info {
  dataId: object;
  shape: number[];
  dtype: string;
}
interface Backend {
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: string): Info;
  typedArrayFromHeap(info: Info): Float32Array;
}
type KFunc = (args: { inputs: Record<string, Info>; backend: Backend; attrs?: Record<string, unknown> }) => Info;

const kernel = (name: string): KFunc => {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm backend has no ${name} kernel`);
  return k.kernelFunc as unknown as KFunc;
};

let installed = false;
let originalBackpropInput: KFunc | undefined;

function convInfo(xShape: number[], filterShape: number[], attrs: Record<string, unknown>) {
  if (attrs['dataFormat'] !== undefined && attrs['dataFormat'] !== 'NHWC') {
    throw new Error(`wasm Conv2D gradients support NHWC only, got ${String(attrs['dataFormat'])}`);
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs['strides'] as [number, number],
    (attrs['dilations'] as [number, number] | undefined) ?? 1,
    attrs['pad'] as 'same',
    attrs['dimRoundingMode'] as 'floor' | undefined,
  );
}

interface TrainKernels {
  filterGrad(X: number, D: number, O: number, RO: number, R: number, co: number, chunks: number, xChunk: number, dChunk: number,
    n2: number, n3: number, x2: number, x3: number, d2: number, d3: number): void;
  padCopy(S: number, P: number, B: number, H: number, W: number, ci: number, Hp: number, Wp: number, top: number, left: number, imagesInner: number): void;
  channelSum(X: number, N: number, C: number, R: number, O: number): void;
  batchMatMul(A: number, B: number, O: number, batch: number, M: number, K: number, N: number, aStride: number, bStride: number, transA: number): void;
  poolGrad(X: number, Y: number, DY: number, DX: number, B: number, H: number, W: number, C: number, OH: number, OW: number,
    ph: number, pw: number, isMax: number, scale: number): void;
}
interface WasmModule {
  asm: { memory: object };
}
const wasmApi = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object; Instance: new (m: object, imports: object) => { exports: unknown } } }).WebAssembly;
let trainKernelsModule: object | undefined; // compiled once per thread
const trainKernelsByMemory = new WeakMap<object, TrainKernels>();

/** wasm/train-kernels.ts instantiated on the backend's own memory: it works on tensors in place. */
function trainKernels(backend: Backend): TrainKernels {
  const memory = (backend as unknown as { wasm: WasmModule }).wasm.asm.memory;
  let k = trainKernelsByMemory.get(memory);
  if (!k) {
    trainKernelsModule ??= new wasmApi.Module(Uint8Array.from(atob(TRAIN_KERNELS_WASM_BASE64), (c) => c.charCodeAt(0)));
    k = new wasmApi.Instance(trainKernelsModule, { env: { memory } }).exports as TrainKernels;
    trainKernelsByMemory.set(memory, k);
  }
  return k;
}

/** Byte address of a tensor in the backend's memory (valid until the next allocation). */
const addressOf = (backend: Backend, t: Info): number => backend.typedArrayFromHeap(t).byteOffset;

/**
 * Filters with at most this many kh*kw*ci rows sum their products image by image, positions (b,
 * oh, ow); bigger ones position by position, (oh, ow, b). These are the orders in which this
 * kernel summed when it was built on XNNPACK (an im2col matrix product for small filters, a
 * convolution of the transposed tensors for big ones), kept so that trained weights stay byte-
 * identical to the committed locks and results.
 */
const IMAGE_MAJOR_MAX_ROWS = 32;

/**
 * Conv2DBackpropFilter: dW[i, j, c, n] = sum over (b, oh, ow) of
 * x[b, oh*sh + i*dh - top, ow*sw + j*dw - left, c] * dy[b, oh, ow, n], in the wasm kernel
 * (wasm/train-kernels.ts filterGrad) on a zero-padded copy of x.
 */
const conv2DBackpropFilter: KFunc = ({ inputs, backend, attrs = {} }) => {
  const { x, dy } = inputs as { x: Info; dy: Info };
  const filterShape = attrs['filterShape'] as [number, number, number, number];
  const info = convInfo(x.shape, filterShape, attrs);
  const [kh, kw, ci, co] = filterShape;
  const [B, H, W] = x.shape as [number, number, number, number];
  const [, OH, OW] = dy.shape as [number, number, number, number];
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Padded extent: every tap of every output position, (OH - 1) * sh + (kh - 1) * dh at most.
  const Hp = (OH - 1) * sh + (kh - 1) * dh + 1;
  const Wp = (OW - 1) * sw + (kw - 1) * dw + 1;
  const R = kh * kw * ci;
  // Position by position (images innermost): x padded as [Hp, Wp, B, ci], so that a position's
  // images are neighbours; image by image: as [B, Hp, Wp, ci].
  const imagesInner = R > IMAGE_MAJOR_MAX_ROWS;
  const k = trainKernels(backend);
  const padded = backend.makeOutput(imagesInner ? [Hp, Wp, B, ci] : [B, Hp, Wp, ci], 'float32');
  const offsets = backend.makeOutput([R], 'int32');
  const dW = backend.makeOutput([kh, kw, ci, co], 'float32');
  k.padCopy(addressOf(backend, x), addressOf(backend, padded), B, H, W, ci, Hp, Wp, top, left, imagesInner ? 1 : 0);
  const pix = imagesInner ? B * ci : ci; // elements between horizontally neighbouring pixels of x
  // A view after the last allocation (an allocation may grow the memory and detach older ones).
  const rows = backend.typedArrayFromHeap(offsets) as unknown as Int32Array;
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let c = 0; c < ci; c++) rows[(i * kw + j) * ci + c] = (i * dh * Wp + j * dw) * pix + c;
  backend.typedArrayFromHeap(dW).fill(0);
  const f = 4; // bytes per float
  const walk = imagesInner
    ? // chunk: output row oh; then its columns ow, then the images b
      [OH, sh * Wp * pix * f, OW * co * f, OW, B, sw * pix * f, ci * f, co * f, OH * OW * co * f]
    : // chunk: image b; then its rows oh, then columns ow
      [B, Hp * Wp * ci * f, OH * OW * co * f, OH, OW, sh * Wp * ci * f, sw * ci * f, OW * co * f, co * f];
  const [chunks, xChunk, dChunk, n2, n3, x2, x3, d2, d3] = walk as [number, number, number, number, number, number, number, number, number];
  k.filterGrad(addressOf(backend, padded), addressOf(backend, dy), addressOf(backend, dW), addressOf(backend, offsets), R, co, chunks, xChunk, dChunk, n2, n3, x2, x3, d2, d3);
  backend.disposeData(padded.dataId);
  backend.disposeData(offsets.dataId);
  return dW;
};

/** Name of our column-sum kernel (wasm only; BatchNorm in layers.ts uses it when registered). */
export const CHANNEL_SUM = 'SerChannelSum';

/**
 * Column sums of x [N, C] -> [C] (wasm/train-kernels.ts channelSum): sums of `rows` consecutive
 * rows first when rows > 1, then their sum. Replaces a matMul by stacked identities and a Sum,
 * with the same order of additions.
 */
const channelSum: KFunc = ({ inputs, backend, attrs = {} }) => {
  const { x } = inputs as { x: Info };
  const [N, C] = x.shape as [number, number];
  const rows = attrs['rows'] as number;
  if (!(rows >= 1 && N % rows === 0)) throw new Error(`${CHANNEL_SUM}: rows ${rows} must be >= 1 and divide ${N}`);
  const out = backend.makeOutput([C], 'float32');
  trainKernels(backend).channelSum(addressOf(backend, x), N, C, rows, addressOf(backend, out));
  return out;
};

const conv2DBackpropInput: KFunc = (args) => {
  const { inputs, backend, attrs = {} } = args;
  const { dy, filter } = inputs as { dy: Info; filter: Info };
  const inputShape = attrs['inputShape'] as number[];
  const info = convInfo(inputShape, filter.shape, attrs);
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    return originalBackpropInput!(args);
  }
  const [kh, kw] = filter.shape as [number, number, number, number];
  const [, H, W] = inputShape as [number, number, number, number];
  const [, OH, OW] = dy.shape as [number, number, number, number];
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  const bottom = H - OH + kh - 1 - top;
  const right = W - OW + kw - 1 - left;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return originalBackpropInput!(args);
  // The kernel rotated by 180 degrees, in/out channels swapped: f[i, j, n, c] = w[kh-1-i, kw-1-j, c, n],
  // as a Transpose and a copy of each tap's block in reverse tap order (the stock Reverse kernel
  // took ~2 ms on a 3x3x64x64 filter).
  const t = kernel('Transpose')({ inputs: { x: filter }, backend, attrs: { perm: [0, 1, 3, 2] } }); // [kh, kw, co, ci]
  const f = backend.makeOutput(t.shape, 'float32');
  {
    const src = backend.typedArrayFromHeap(t);
    const dst = backend.typedArrayFromHeap(f);
    const block = src.length / (kh * kw);
    for (let p = 0, q = kh * kw - 1; p < kh * kw; p++, q--) dst.set(src.subarray(q * block, (q + 1) * block), p * block);
  }
  backend.disposeData(t.dataId);
  const dx = kernel('Conv2D')({
    inputs: { x: dy, filter: f },
    backend,
    attrs: { strides: [1, 1], dilations: [1, 1], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC' },
  });
  backend.disposeData(f.dataId);
  return dx;
};

let originalIdentity: KFunc | undefined;
const identity: KFunc = (args) => {
  const { x } = args.inputs as { x: Info };
  if (x.dtype === 'string') return originalIdentity!(args);
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

let originalBatchMatMul: KFunc | undefined;
const size = (shape: number[]): number => shape.reduce((a, d) => a * d, 1);

const batchMatMul: KFunc = (args) => {
  const { inputs, backend, attrs = {} } = args;
  const { a, b } = inputs as { a: Info; b: Info };
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return originalBatchMatMul!(args);
  const ta = attrs['transposeA'] === true;
  const tb = attrs['transposeB'] === true;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m0 = ta ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const n0 = tb ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (ra === 2 && rb === 2 && tb && !ta && size(b.shape) > size(a.shape) + m0 * n0) {
    // A B^T with a big B (a dense layer's input gradient dy W^T): (B A^T)^T transposes only the
    // small A and the result, and B enters un-transposed.
    const aT = kernel('Transpose')({ inputs: { x: a }, backend, attrs: { perm: [1, 0] } }); // [K, M]
    const p = originalBatchMatMul!({ inputs: { a: b, b: aT }, backend, attrs: { transposeA: false, transposeB: false } }); // [N, M]
    backend.disposeData(aT.dataId);
    const o = kernel('Transpose')({ inputs: { x: p }, backend, attrs: { perm: [1, 0] } });
    backend.disposeData(p.dataId);
    return o;
  }
  const swapLast = (t: Info): Info => {
    const r = t.shape.length;
    const perm = [...Array(r).keys()];
    [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
    return kernel('Transpose')({ inputs: { x: t }, backend, attrs: { perm } });
  };
  const batchA = size(a.shape.slice(0, -2));
  const batchB = size(b.shape.slice(0, -2));
  if (batchA === 1 && batchB === 1) {
    const temps: Info[] = [];
    const A = ta ? swapLast(a) : a;
    const Bm = tb ? swapLast(b) : b;
    if (ta) temps.push(A);
    if (tb) temps.push(Bm);
    const out = originalBatchMatMul!({ inputs: { a: A, b: Bm }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    for (const t of temps) backend.disposeData(t.dataId);
    return out;
  }
  // Batched: our kernel (wasm/train-kernels.ts), when one side's batch is the other's or 1.
  const batchShape = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = size(batchShape);
  if (batch !== Math.max(batchA, batchB) || (batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return originalBatchMatMul!(args);
  const K = ta ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const Bm = tb ? swapLast(b) : b; // [.., K, N]
  const out = backend.makeOutput([...batchShape, m0, n0], 'float32');
  trainKernels(backend).batchMatMul(addressOf(backend, a), addressOf(backend, Bm), addressOf(backend, out), batch, m0, K, n0, batchA > 1 ? m0 * K : 0, batchB > 1 ? K * n0 : 0, ta ? 1 : 0);
  if (tb) backend.disposeData(Bm.dataId);
  return out;
};

/** Name of our non-overlapping pooling gradient kernel (wasm only; Pool2D in layers.ts uses it when registered). */
export const POOL2D_GRAD = 'SerPool2DGrad';

/**
 * Gradient of non-overlapping 'valid' pooling (stride = size) [B, H, W, C] -> [B, OH, OW, C], in
 * one pass over x: max routes dy to every element equal to its window's max (ties to all), avg
 * spreads dy / (ph * pw); rows and columns past OH*ph, OW*pw get 0. Same values as the
 * composition in Pool2D (nearest-neighbour upsampling, equal, cast, mul, pad: 5-7 passes), in the
 * wasm module (train-kernels.ts poolGrad).
 */
const pool2DGrad: KFunc = ({ inputs, backend, attrs = {} }) => {
  const { x, y, dy } = inputs as { x: Info; y: Info; dy: Info };
  const [ph, pw] = attrs['poolSize'] as [number, number];
  const [B, H, W, C] = x.shape as [number, number, number, number];
  const [, OH, OW] = dy.shape as [number, number, number, number];
  const dx = backend.makeOutput(x.shape, 'float32');
  const at = (t: Info) => addressOf(backend, t);
  trainKernels(backend).poolGrad(at(x), at(y), at(dy), at(dx), B, H, W, C, OH, OW, ph, pw, attrs['kind'] === 'max' ? 1 : 0, Math.fround(1 / (ph * pw)));
  return dx;
};

/** Registers the kernels for the wasm backend (idempotent). Call before training on wasm. */
export function installWasmKernels(): void {
  if (installed) return;
  installed = true;
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc });
  }
  const bmm = tf.getKernel('BatchMatMul', 'wasm');
  if (bmm) {
    originalBatchMatMul = bmm.kernelFunc as unknown as KFunc;
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel({ ...bmm, kernelFunc: batchMatMul as unknown as tf.KernelFunc });
  }
  const id = tf.getKernel('Identity', 'wasm');
  if (id) {
    originalIdentity = id.kernelFunc as unknown as KFunc;
    tf.unregisterKernel('Identity', 'wasm');
    tf.registerKernel({ ...id, kernelFunc: identity as unknown as tf.KernelFunc });
  }
  if (!tf.getKernel(CHANNEL_SUM, 'wasm')) {
    tf.registerKernel({ kernelName: CHANNEL_SUM, backendName: 'wasm', kernelFunc: channelSum as unknown as tf.KernelFunc });
  }
  if (!tf.getKernel(POOL2D_GRAD, 'wasm')) {
    tf.registerKernel({ kernelName: POOL2D_GRAD, backendName: 'wasm', kernelFunc: pool2DGrad as unknown as tf.KernelFunc });
  }
  const orig = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (orig) {
    originalBackpropInput = orig.kernelFunc as unknown as KFunc;
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel({ ...orig, kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc });
  }
}
