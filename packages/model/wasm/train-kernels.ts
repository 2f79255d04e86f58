// AssemblyScript source of kernels for training on tfjs's wasm backend (packages/model/src/wasm-kernels.ts
// instantiates it on the backend's own memory, so it reads and writes tensors in place).
// Build: npm run build:wasm -w packages/model.
//
// Every sum here adds its terms one at a time in a fixed order, f32 multiply then f32 add (wasm has
// no fused or reassociated float arithmetic), so results are reproducible bit for bit; the orders
// are those of the XNNPACK-based compositions and stock kernels these replaced, so trained weights
// did not change.
//
// filterGrad: the filter gradient of a 2-D convolution,
//   dW[r, n] = sum over output positions p of x[p + tap(r)] * dy[p, n],
// r = (i, j, c) a row of the [kh, kw, ci] filter, n an output channel, x zero-padded by the host so
// that every tap is in bounds; the host lays x out and picks the order of the positions. Tiles of 4
// rows x 8 channels stay in registers while a chunk of positions (in cache) streams past them. A
// tile walks its chunk as two nested loops (n2 x n3) with byte strides in x (x2, x3) and in dy (d2,
// d3), from xs and ds; `o*` are a row's tap offsets from a position in x, in bytes.

function tile4x8(xs: usize, ds: usize, n2: i32, n3: i32, x2: usize, x3: usize, d2: usize, d3: usize,
  o0: usize, o1: usize, o2: usize, o3: usize, out: usize, rowBytes: usize): void {
  let a00 = v128.load(out), a01 = v128.load(out, 16);
  let a10 = v128.load(out + rowBytes), a11 = v128.load(out + rowBytes, 16);
  let a20 = v128.load(out + 2 * rowBytes), a21 = v128.load(out + 2 * rowBytes, 16);
  let a30 = v128.load(out + 3 * rowBytes), a31 = v128.load(out + 3 * rowBytes, 16);
  for (let v = 0; v < n2; v++) {
    let px = xs + <usize>v * x2;
    let pd = ds + <usize>v * d2;
    for (let w = 0; w < n3; w++, px += x3, pd += d3) {
      const v0 = v128.load(pd), v1 = v128.load(pd, 16);
      const s0 = v128.load32_splat(px + o0);
      const s1 = v128.load32_splat(px + o1);
      const s2 = v128.load32_splat(px + o2);
      const s3 = v128.load32_splat(px + o3);
      a00 = f32x4.add(a00, f32x4.mul(s0, v0)); a01 = f32x4.add(a01, f32x4.mul(s0, v1));
      a10 = f32x4.add(a10, f32x4.mul(s1, v0)); a11 = f32x4.add(a11, f32x4.mul(s1, v1));
      a20 = f32x4.add(a20, f32x4.mul(s2, v0)); a21 = f32x4.add(a21, f32x4.mul(s2, v1));
      a30 = f32x4.add(a30, f32x4.mul(s3, v0)); a31 = f32x4.add(a31, f32x4.mul(s3, v1));
    }
  }
  v128.store(out, a00); v128.store(out, a01, 16);
  v128.store(out + rowBytes, a10); v128.store(out + rowBytes, a11, 16);
  v128.store(out + 2 * rowBytes, a20); v128.store(out + 2 * rowBytes, a21, 16);
  v128.store(out + 3 * rowBytes, a30); v128.store(out + 3 * rowBytes, a31, 16);
}

/** One row x 4 channels (rows and channels left over by tile4x8). */
function tile1x4(xs: usize, ds: usize, n2: i32, n3: i32, x2: usize, x3: usize, d2: usize, d3: usize,
  o0: usize, out: usize): void {
  let a = v128.load(out);
  for (let v = 0; v < n2; v++) {
    let px = xs + <usize>v * x2;
    let pd = ds + <usize>v * d2;
    for (let w = 0; w < n3; w++, px += x3, pd += d3) a = f32x4.add(a, f32x4.mul(v128.load32_splat(px + o0), v128.load(pd)));
  }
  v128.store(out, a);
}

/** One row x 1 channel (channels past the last multiple of 4). */
function tile1x1(xs: usize, ds: usize, n2: i32, n3: i32, x2: usize, x3: usize, d2: usize, d3: usize,
  o0: usize, out: usize): void {
  let a = load<f32>(out);
  for (let v = 0; v < n2; v++) {
    let px = xs + <usize>v * x2;
    let pd = ds + <usize>v * d2;
    for (let w = 0; w < n3; w++, px += x3, pd += d3) a = a + load<f32>(px + o0) * load<f32>(pd);
  }
  store<f32>(out, a);
}

/**
 * Adds the filter gradient into f32[R, co] at O (zeroed by the caller), x (zero-padded) at X and
 * dy at D in the host's layout: the output positions are `chunks` chunks (X + k xChunk, D + k
 * dChunk), each n2 x n3 positions (strides x2, x3 in x and d2, d3 in dy, in bytes; dy's channels
 * contiguous), walked in that order. RO: i32[R], row r's tap offset from a position in x, in
 * elements. A chunk should fit in cache: every tile streams it.
 */
export function filterGrad(X: usize, D: usize, O: usize, RO: usize, R: i32, co: i32, chunks: i32, xChunk: usize, dChunk: usize,
  n2: i32, n3: i32, x2: usize, x3: usize, d2: usize, d3: usize): void {
  const rowBytes = <usize>co << 2;
  for (let k = 0; k < chunks; k++) {
    const xs = X + <usize>k * xChunk;
    const ds = D + <usize>k * dChunk;
    let r = 0;
    for (; r + 4 <= R; r += 4) {
      const o0 = <usize>load<i32>(RO + (<usize>r << 2)) << 2;
      const o1 = <usize>load<i32>(RO + (<usize>(r + 1) << 2)) << 2;
      const o2 = <usize>load<i32>(RO + (<usize>(r + 2) << 2)) << 2;
      const o3 = <usize>load<i32>(RO + (<usize>(r + 3) << 2)) << 2;
      const out = O + <usize>r * rowBytes;
      let n = 0;
      for (; n + 8 <= co; n += 8) tile4x8(xs, ds + (<usize>n << 2), n2, n3, x2, x3, d2, d3, o0, o1, o2, o3, out + (<usize>n << 2), rowBytes);
      for (let q = 0; q < 4; q++) {
        const oq = q == 0 ? o0 : q == 1 ? o1 : q == 2 ? o2 : o3;
        const outq = out + <usize>q * rowBytes;
        let m = n;
        for (; m + 4 <= co; m += 4) tile1x4(xs, ds + (<usize>m << 2), n2, n3, x2, x3, d2, d3, oq, outq + (<usize>m << 2));
        for (; m < co; m++) tile1x1(xs, ds + (<usize>m << 2), n2, n3, x2, x3, d2, d3, oq, outq + (<usize>m << 2));
      }
    }
    for (; r < R; r++) {
      const o0 = <usize>load<i32>(RO + (<usize>r << 2)) << 2;
      const out = O + <usize>r * rowBytes;
      let m = 0;
      for (; m + 4 <= co; m += 4) tile1x4(xs, ds + (<usize>m << 2), n2, n3, x2, x3, d2, d3, o0, out + (<usize>m << 2));
      for (; m < co; m++) tile1x1(xs, ds + (<usize>m << 2), n2, n3, x2, x3, d2, d3, o0, out + (<usize>m << 2));
    }
  }
}

/**
 * Column sums of x f32[N, C] at X into f32[C] at O. With R > 1 (R divides N): each sum of R
 * consecutive rows first, from 0 in row order, then the sum of those partial sums, from 0 in order
 * (the old composition: a product with R stacked identities, then a Sum); with R = 1, one sum in
 * row order. Four channels at a time.
 */
export function channelSum(X: usize, N: i32, C: i32, R: i32, O: usize): void {
  const rowBytes = <usize>C << 2;
  const partials = N / R;
  let n = 0;
  for (; n + 4 <= C; n += 4) {
    let acc = f32x4.splat(0);
    let p = X + (<usize>n << 2);
    if (R == 1) {
      for (let q = 0; q < N; q++, p += rowBytes) acc = f32x4.add(acc, v128.load(p));
    } else {
      for (let q = 0; q < partials; q++) {
        let part = f32x4.splat(0);
        for (let r = 0; r < R; r++, p += rowBytes) part = f32x4.add(part, v128.load(p));
        acc = f32x4.add(acc, part);
      }
    }
    v128.store(O + (<usize>n << 2), acc);
  }
  for (; n < C; n++) {
    let acc: f32 = 0;
    let p = X + (<usize>n << 2);
    for (let q = 0; q < partials; q++) {
      let part: f32 = 0;
      for (let r = 0; r < R; r++, p += rowBytes) part += load<f32>(p);
      acc += part;
    }
    store<f32>(O + (<usize>n << 2), acc);
  }
}

/**
 * Batched matrix product O[t] = A[t] B[t], f32: A[t] is [M, K] (or [K, M] when transA), B[t] is
 * [K, N] (B^T given as [N, K] must be transposed by the host); batch strides in elements (0: the
 * same matrix for every t). Each output sums its K products in order from 0, as XNNPACK's and
 * tfjs's own kernels do. Tiles of 4 rows x 8 columns.
 */
export function batchMatMul(A: usize, B: usize, O: usize, batch: i32, M: i32, K: i32, N: i32, aStride: i32, bStride: i32, transA: bool): void {
  // Element (m, k) of A[t] is at m * am + k * ak.
  const am: usize = transA ? 4 : (<usize>K << 2);
  const ak: usize = transA ? (<usize>M << 2) : 4;
  const bk: usize = <usize>N << 2; // row k of B[t]
  for (let t = 0; t < batch; t++) {
    const a = A + ((<usize>t * <usize>aStride) << 2);
    const b = B + ((<usize>t * <usize>bStride) << 2);
    const o = O + ((<usize>t * <usize>M * <usize>N) << 2);
    let m = 0;
    for (; m + 4 <= M; m += 4) {
      let n = 0;
      for (; n + 8 <= N; n += 8) {
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
        let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
        let pa = a + <usize>m * am;
        let pb = b + (<usize>n << 2);
        for (let k = 0; k < K; k++, pa += ak, pb += bk) {
          const v0 = v128.load(pb), v1 = v128.load(pb, 16);
          const s0 = v128.load32_splat(pa);
          const s1 = v128.load32_splat(pa + am);
          const s2 = v128.load32_splat(pa + 2 * am);
          const s3 = v128.load32_splat(pa + 3 * am);
          c00 = f32x4.add(c00, f32x4.mul(s0, v0)); c01 = f32x4.add(c01, f32x4.mul(s0, v1));
          c10 = f32x4.add(c10, f32x4.mul(s1, v0)); c11 = f32x4.add(c11, f32x4.mul(s1, v1));
          c20 = f32x4.add(c20, f32x4.mul(s2, v0)); c21 = f32x4.add(c21, f32x4.mul(s2, v1));
          c30 = f32x4.add(c30, f32x4.mul(s3, v0)); c31 = f32x4.add(c31, f32x4.mul(s3, v1));
        }
        const q = o + ((<usize>m * <usize>N + <usize>n) << 2);
        const row = <usize>N << 2;
        v128.store(q, c00); v128.store(q, c01, 16);
        v128.store(q + row, c10); v128.store(q + row, c11, 16);
        v128.store(q + 2 * row, c20); v128.store(q + 2 * row, c21, 16);
        v128.store(q + 3 * row, c30); v128.store(q + 3 * row, c31, 16);
      }
      for (let r = m; r < m + 4; r++) matMulRowRest(a, b, o, r, n, K, N, am, ak, bk);
    }
    for (; m < M; m++) matMulRowRest(a, b, o, m, 0, K, N, am, ak, bk);
  }
}

/** Columns n0..N-1 of output row m: 4 at a time, then one at a time. */
function matMulRowRest(a: usize, b: usize, o: usize, m: i32, n0: i32, K: i32, N: i32, am: usize, ak: usize, bk: usize): void {
  let n = n0;
  for (; n + 4 <= N; n += 4) {
    let c = f32x4.splat(0);
    let pa = a + <usize>m * am;
    let pb = b + (<usize>n << 2);
    for (let k = 0; k < K; k++, pa += ak, pb += bk) c = f32x4.add(c, f32x4.mul(v128.load32_splat(pa), v128.load(pb)));
    v128.store(o + ((<usize>m * <usize>N + <usize>n) << 2), c);
  }
  for (; n < N; n++) {
    let c: f32 = 0;
    let pa = a + <usize>m * am;
    let pb = b + (<usize>n << 2);
    for (let k = 0; k < K; k++, pa += ak, pb += bk) c += load<f32>(pa) * load<f32>(pb);
    store<f32>(o + ((<usize>m * <usize>N + <usize>n) << 2), c);
  }
}

/**
 * Gradient of non-overlapping 'valid' pooling (window ph x pw, stride = window) of x f32[B, H, W, C]
 * at X, pooled y f32[B, OH, OW, C] at Y, dy at DY, into dx f32[B, H, W, C] at DX: max routes dy to
 * every element equal to its window's max (dy * (x == max): ties get dy each), avg gives
 * dy * scale; rows and columns past the last window get 0.
 */
export function poolGrad(X: usize, Y: usize, DY: usize, DX: usize, B: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  ph: i32, pw: i32, isMax: bool, scale: f32): void {
  const rowBytes = (<usize>W * <usize>C) << 2;
  const usedBytes = (<usize>OW * <usize>pw * <usize>C) << 2;
  const one = f32x4.splat(1), zero = f32x4.splat(0), vs = f32x4.splat(scale);
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let i = 0; i < ph; i++) {
        const r = (<usize>b * <usize>H + <usize>(oh * ph + i)) * rowBytes;
        let px = X + r, pd = DX + r;
        for (let ow = 0; ow < OW; ow++) {
          const yo = ((<usize>(b * OH + oh) * <usize>OW + <usize>ow) * <usize>C) << 2;
          for (let j = 0; j < pw; j++) {
            let c = 0;
            for (; c + 4 <= C; c += 4, px += 16, pd += 16) {
              const g = v128.load(DY + yo + (<usize>c << 2));
              if (isMax) {
                const hit = f32x4.eq(v128.load(px), v128.load(Y + yo + (<usize>c << 2)));
                v128.store(pd, f32x4.mul(g, v128.bitselect(one, zero, hit)));
              } else {
                v128.store(pd, f32x4.mul(g, vs));
              }
            }
            for (; c < C; c++, px += 4, pd += 4) {
              const g = load<f32>(DY + yo + (<usize>c << 2));
              store<f32>(pd, isMax ? g * (load<f32>(px) == load<f32>(Y + yo + (<usize>c << 2)) ? <f32>1 : <f32>0) : g * scale);
            }
          }
        }
        memory.fill(DX + r + usedBytes, 0, rowBytes - usedBytes);
      }
    }
    const tail = (<usize>b * <usize>H + <usize>(OH * ph)) * rowBytes;
    memory.fill(DX + tail, 0, <usize>(H - OH * ph) * rowBytes);
  }
}

/**
 * Copies x f32[B, H, W, ci] at S into a zeroed, padded f32 buffer at P: pixel (b, h, w) goes to
 * padded row h + top, column w + left, laid out as [B, Hp, Wp, ci], or as [Hp, Wp, B, ci] when
 * imagesInner. Pixels that fall outside [0, Hp) x [0, Wp) are left out.
 */
export function padCopy(S: usize, P: usize, B: i32, H: i32, W: i32, ci: i32, Hp: i32, Wp: i32, top: i32, left: i32, imagesInner: bool): void {
  const pixB = <usize>ci << 2;
  memory.fill(P, 0, <usize>B * <usize>Hp * <usize>Wp * pixB);
  const w0 = max(0, -left);
  const w1 = min(W, Wp - left);
  if (w1 <= w0) return;
  for (let b = 0; b < B; b++) {
    for (let h = max(0, -top); h < min(H, Hp - top); h++) {
      const src = S + (<usize>(b * H + h) * <usize>W + <usize>w0) * pixB;
      if (!imagesInner) {
        memory.copy(P + (<usize>(b * Hp + h + top) * <usize>Wp + <usize>(w0 + left)) * pixB, src, <usize>(w1 - w0) * pixB);
        continue;
      }
      let dst = P + ((<usize>(h + top) * <usize>Wp + <usize>(w0 + left)) * <usize>B + <usize>b) * pixB;
      const step = <usize>B * pixB;
      if (ci % 4 == 0) {
        for (let w = w0, s = src; w < w1; w++, s += pixB, dst += step) {
          for (let c: usize = 0; c < pixB; c += 16) v128.store(dst + c, v128.load(s + c));
        }
      } else {
        for (let w = w0, s = src; w < w1; w++, s += pixB, dst += step) memory.copy(dst, s, pixB);
      }
    }
  }
}
