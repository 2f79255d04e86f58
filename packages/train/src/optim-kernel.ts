// The wasm optimizer kernel (wasm/optim-kernel.ts, built into optim-kernel.wasm.ts): the SGD and
// Adam(W) steps and batchGrads' weighted sum over float32 values, four lanes at a time, with the
// exact float32 operations of their tf-op versions (tested bit-identical on wasm and cpu). One
// instance owns one wasm memory, laid out by its user through `reserve`.
import { OPTIM_KERNEL_WASM_BASE64 } from './optim-kernel.wasm.ts';

// The few WebAssembly JS API members used here (the project's TypeScript libs carry no wasm types).
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface KernelExports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  adam(p: number, g: number, m: number, v: number, out: number, n: number, k1: number, j1: number, k2: number, j2: number, c2: number, eps: number, rate: number, keep: number, wd: number, mode: number): void;
  sgd(p: number, g: number, buf: number, out: number, n: number, wd: number, mu: number, lr: number, decay: number, momentum: number): void;
  scaleAdd(sum: number, g: number, n: number, w: number, first: number): void;
}

let compiled: object | undefined;
const kernelModule = (): object => (compiled ??= new wasmApi.Module(Uint8Array.from(atob(OPTIM_KERNEL_WASM_BASE64), (c) => c.charCodeAt(0))));

const PAGE = 65536;

/** Adam(W)'s weight decay: none, added to the gradient (Adam), or decoupled (AdamW). */
export type AdamDecay = 'none' | 'coupled' | 'decoupled';
const DECAY_MODE: Record<AdamDecay, number> = { none: 0, coupled: 1, decoupled: 2 };

export class OptimKernel {
  private readonly wasm = new wasmApi.Instance(kernelModule()).exports as KernelExports;
  private end = 16;

  /** Reserves `floats` float32 values (zeroed, 16-aligned) and returns their byte offset. */
  reserve(floats: number): number {
    const at = this.end;
    this.end = (at + floats * 4 + 15) & ~15;
    const mem = this.wasm.memory;
    if (mem.buffer.byteLength < this.end) mem.grow(Math.ceil((this.end - mem.buffer.byteLength) / PAGE));
    return at;
  }

  /** A view of `floats` values at byte offset `at`: valid until the next `reserve`. */
  view(at: number, floats: number): Float32Array {
    return new Float32Array(this.wasm.memory.buffer, at, floats);
  }

  /** See wasm/optim-kernel.ts `adam` (wasm rounds each constant to float32, as tfjs does a scalar). */
  adam(p: number, g: number, m: number, v: number, out: number, n: number, c: { k1: number; j1: number; k2: number; j2: number; c2: number; eps: number; rate: number; keep: number; wd: number; decay: AdamDecay }): void {
    this.wasm.adam(p, g, m, v, out, n, c.k1, c.j1, c.k2, c.j2, c.c2, c.eps, c.rate, c.keep, c.wd, DECAY_MODE[c.decay]);
  }

  /** See wasm/optim-kernel.ts `sgd`. */
  sgd(p: number, g: number, buf: number, out: number, n: number, wd: number, mu: number, lr: number, decay: boolean, momentum: boolean): void {
    this.wasm.sgd(p, g, buf, out, n, wd, mu, lr, decay ? 1 : 0, momentum ? 1 : 0);
  }

  /** sum = g * w (first) or sum + g * w over n values. */
  scaleAdd(sum: number, g: number, n: number, w: number, first: boolean): void {
    this.wasm.scaleAdd(sum, g, n, w, first ? 1 : 0);
  }
}
