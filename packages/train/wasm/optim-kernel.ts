// AssemblyScript source of the optimizer steps over float32 values (packages/train/src/
// optim-kernel.ts loads it). Each lane performs exactly the float32 operations of the tf-op steps
// in optim.ts (sgdStep, adamStep) and of batchGrads' weighted sum, in their order: wasm's f32 and
// f32x4 arithmetic rounds every result to float32, with no fused or reassociated operations, as
// tfjs's CPU backends do. Build: npm run build:wasm -w packages/train.
//
// The host lays out every buffer in this module's memory and passes byte offsets (16-aligned) and
// value counts.

/** adam weight decay modes */
const COUPLED: i32 = 1; // g += wd * p (torch.optim.Adam)
const DECOUPLED: i32 = 2; // p *= keep before the step (torch.optim.AdamW)

/**
 * One Adam(W) step over n values: reads p, g; updates moments m, v in place; writes the new
 * parameters to out:
 *   m = k1 m + j1 g;  v = k2 v + j2 g^2;  out = base - (m / (sqrt(v) / c2 + eps)) * rate
 * with base = p * keep (decoupled) or p, and g += p * wd first when coupled.
 */
export function adam(
  p: usize, g: usize, m: usize, v: usize, out: usize, n: i32,
  k1: f32, j1: f32, k2: f32, j2: f32, c2: f32, eps: f32, rate: f32, keep: f32, wd: f32, mode: i32,
): void {
  const vk1 = f32x4.splat(k1), vj1 = f32x4.splat(j1), vk2 = f32x4.splat(k2), vj2 = f32x4.splat(j2);
  const vc2 = f32x4.splat(c2), veps = f32x4.splat(eps), vrate = f32x4.splat(rate), vkeep = f32x4.splat(keep), vwd = f32x4.splat(wd);
  const simd = n & ~3;
  for (let i = 0; i < simd; i += 4) {
    const o = <usize>i << 2;
    const pv = v128.load(p + o);
    let gv = v128.load(g + o);
    if (mode == COUPLED) gv = f32x4.add(gv, f32x4.mul(pv, vwd));
    const base = mode == DECOUPLED ? f32x4.mul(pv, vkeep) : pv;
    const mv = f32x4.add(f32x4.mul(v128.load(m + o), vk1), f32x4.mul(gv, vj1));
    const vv = f32x4.add(f32x4.mul(v128.load(v + o), vk2), f32x4.mul(f32x4.mul(gv, gv), vj2));
    v128.store(m + o, mv);
    v128.store(v + o, vv);
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vv), vc2), veps);
    v128.store(out + o, f32x4.sub(base, f32x4.mul(f32x4.div(mv, denom), vrate)));
  }
  for (let i = simd; i < n; i++) {
    const o = <usize>i << 2;
    const pj = load<f32>(p + o);
    let gj = load<f32>(g + o);
    if (mode == COUPLED) gj = gj + pj * wd;
    const base = mode == DECOUPLED ? pj * keep : pj;
    const mj = load<f32>(m + o) * k1 + gj * j1;
    const vj = load<f32>(v + o) * k2 + gj * gj * j2;
    store<f32>(m + o, mj);
    store<f32>(v + o, vj);
    const denom = Mathf.sqrt(vj) / c2 + eps;
    store<f32>(out + o, base - (mj / denom) * rate);
  }
}

/**
 * One SGD step over n values: d = g (+ p * wd when decay); with momentum buf = buf * mu + d and
 * the step uses buf; out = p - step * lr.
 */
export function sgd(p: usize, g: usize, buf: usize, out: usize, n: i32, wd: f32, mu: f32, lr: f32, decay: bool, momentum: bool): void {
  const vwd = f32x4.splat(wd), vmu = f32x4.splat(mu), vlr = f32x4.splat(lr);
  const simd = n & ~3;
  for (let i = 0; i < simd; i += 4) {
    const o = <usize>i << 2;
    const pv = v128.load(p + o);
    let d = v128.load(g + o);
    if (decay) d = f32x4.add(d, f32x4.mul(pv, vwd));
    if (momentum) {
      d = f32x4.add(f32x4.mul(v128.load(buf + o), vmu), d);
      v128.store(buf + o, d);
    }
    v128.store(out + o, f32x4.sub(pv, f32x4.mul(d, vlr)));
  }
  for (let i = simd; i < n; i++) {
    const o = <usize>i << 2;
    const pj = load<f32>(p + o);
    let d = load<f32>(g + o);
    if (decay) d = d + pj * wd;
    if (momentum) {
      d = load<f32>(buf + o) * mu + d;
      store<f32>(buf + o, d);
    }
    store<f32>(out + o, pj - d * lr);
  }
}

/** sum = g * w (first) or sum + g * w, over n values: batchGrads' weighted sum of its passes. */
export function scaleAdd(sum: usize, g: usize, n: i32, w: f32, first: bool): void {
  const vw = f32x4.splat(w);
  const simd = n & ~3;
  for (let i = 0; i < simd; i += 4) {
    const o = <usize>i << 2;
    const t = f32x4.mul(v128.load(g + o), vw);
    v128.store(sum + o, first ? t : f32x4.add(v128.load(sum + o), t));
  }
  for (let i = simd; i < n; i++) {
    const o = <usize>i << 2;
    const t = load<f32>(g + o) * w;
    store<f32>(sum + o, first ? t : load<f32>(sum + o) + t);
  }
}
