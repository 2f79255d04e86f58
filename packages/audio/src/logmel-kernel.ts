// The wasm log-mel kernel (wasm/logmel-kernel.ts, built into logmel-kernel.wasm.ts): window, real
// FFT, power and sparse mel product for two frames at a time (f64x2 lanes), bit-identical to the
// JavaScript chain (RealFft on fft.js, PowerStft's windowing, the band sums in order) and about
// twice as fast. One instance owns one wasm memory; LogMelExtractor holds one.
import { RealFft } from './fft.ts';
import { LOGMEL_KERNEL_WASM_BASE64 } from './logmel-kernel.wasm.ts';

// The few WebAssembly JS API members used here (the project's TypeScript libs carry no wasm types).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface KernelExports {
  memory: WasmMemory;
  configure(
    nFft: number, hop: number, winPtr: number, winStart: number, winEnd: number,
    tablePtr: number, bitrevPtr: number, width: number, dataPtr: number, specPtr: number, powerPtr: number,
    nMels: number, bandStartPtr: number, bandOffPtr: number, bandWeightPtr: number,
  ): void;
  melByFrame(xPtr: number, len: number, isF32: number, frames: number, outPtr: number): void;
  maxOf(ptr: number, n: number): number;
  toDb(inPtr: number, frames: number, outPtr: number, amin: number, refDb: number, floor: number, cut: number): void;
  log10Many(inPtr: number, n: number, outPtr: number): void;
}

let compiled: object | undefined;
/** The compiled module, once per thread (instances are per kernel). */
function kernelModule(): object {
  compiled ??= new wasmApi.Module(Uint8Array.from(atob(LOGMEL_KERNEL_WASM_BASE64), (c) => c.charCodeAt(0)));
  return compiled;
}

const PAGE = 65536;
const align16 = (n: number) => (n + 15) & ~15;

/** The sparse mel bands, flattened: band m has weights[off[m] .. off[m + 1]) for bins start[m]... */
export interface FlatBands {
  start: Int32Array;
  off: Int32Array;
  weights: Float64Array;
}

export interface MelKernelConfig {
  nFft: number;
  hopLength: number;
  window: Float64Array; // length nFft
  winStart: number; // first non-zero window index
  winEnd: number; // one past the last non-zero window index
  bands: FlatBands;
}

export class MelKernel {
  private readonly wasm: KernelExports;
  private readonly nMels: number;
  private readonly dynamicStart: number; // first byte after the fixed tables and scratch
  private melPtr = 0; // where the last melByFrame wrote its output
  private melFrames = 0; // and how many frames

  constructor(cfg: MelKernelConfig) {
    const { nFft, bands } = cfg;
    const { table, bitrev, width } = new RealFft(nFft).tables();
    const bins = nFft / 2 + 1;
    this.nMels = bands.start.length;
    // Fixed layout: window, table, bitrev, band arrays, then the f64x2 scratch (data, spec, power).
    let at = 16;
    const place = (bytes: number) => {
      const p = at;
      at = align16(at + bytes);
      return p;
    };
    const winPtr = place(nFft * 8);
    const tablePtr = place(table.length * 8);
    const bitrevPtr = place(bitrev.length * 4);
    const startPtr = place(bands.start.length * 4);
    const offPtr = place(bands.off.length * 4);
    const weightPtr = place(bands.weights.length * 8);
    const dataPtr = place(nFft * 16);
    const specPtr = place(nFft * 2 * 16);
    const powerPtr = place(bins * 16);
    this.dynamicStart = at;
    this.wasm = new wasmApi.Instance(kernelModule()).exports as unknown as KernelExports;
    this.ensure(at);
    const buf = this.wasm.memory.buffer;
    new Float64Array(buf, winPtr, nFft).set(cfg.window);
    new Float64Array(buf, tablePtr, table.length).set(table);
    new Int32Array(buf, bitrevPtr, bitrev.length).set(bitrev);
    new Int32Array(buf, startPtr, bands.start.length).set(bands.start);
    new Int32Array(buf, offPtr, bands.off.length).set(bands.off);
    new Float64Array(buf, weightPtr, bands.weights.length).set(bands.weights);
    this.wasm.configure(nFft, cfg.hopLength, winPtr, cfg.winStart, cfg.winEnd, tablePtr, bitrevPtr, width, dataPtr, specPtr, powerPtr, this.nMels, startPtr, offPtr, weightPtr);
  }

  /** Grows the memory to at least `bytes`. */
  private ensure(bytes: number): void {
    const mem = this.wasm.memory;
    if (mem.buffer.byteLength < bytes) mem.grow(Math.ceil((bytes - mem.buffer.byteLength) / PAGE));
  }

  /**
   * Mel power of frames 0..frames-1 of `x` (Float32Array read as float32, anything else as
   * float64), frame-major [frames, nMels], float64: a view on the kernel's memory, valid until the
   * next call.
   */
  melByFrame(x: ArrayLike<number>, frames: number): Float64Array {
    const isF32 = x instanceof Float32Array;
    const xPtr = this.dynamicStart;
    const outPtr = align16(xPtr + x.length * (isF32 ? 4 : 8));
    // Room for the dB output of toDb too (f32[nMels, frames] after the mel power).
    this.ensure(align16(outPtr + frames * this.nMels * 8) + frames * this.nMels * 4);
    const buf = this.wasm.memory.buffer;
    if (isF32) new Float32Array(buf, xPtr, x.length).set(x);
    else new Float64Array(buf, xPtr, x.length).set(x);
    this.wasm.melByFrame(xPtr, x.length, isF32 ? 1 : 0, frames, outPtr);
    this.melPtr = outPtr;
    this.melFrames = frames;
    return new Float64Array(buf, outPtr, frames * this.nMels);
  }

  /** The largest mel power of the last melByFrame call. */
  maxMel(): number {
    return this.wasm.maxOf(this.melPtr, this.melFrames * this.nMels);
  }

  /**
   * The last melByFrame call's mel power in dB, transposed, into `dst` (f32[nMels, frames]):
   * max(floor, 10 log10(max(amin, p)) - refDb), `floor` directly where p < cut. The log is
   * fdlibm's log10, bit-identical to Math.log10.
   */
  toDb(dst: Float32Array, amin: number, refDb: number, floor: number, cut: number): void {
    const size = this.melFrames * this.nMels;
    if (dst.length !== size) throw new RangeError(`toDb: dst has length ${dst.length}, need ${size}`);
    const dbPtr = align16(this.melPtr + size * 8);
    this.wasm.toDb(this.melPtr, this.melFrames, dbPtr, amin, refDb, floor, cut);
    dst.set(new Float32Array(this.wasm.memory.buffer, dbPtr, size));
  }

  /** log10 of each value, by the kernel's log10 as toDb runs it (two at a time): for tests. */
  log10(values: Float64Array): Float64Array {
    const inPtr = this.dynamicStart;
    const outPtr = align16(inPtr + values.length * 8);
    this.ensure(outPtr + values.length * 8);
    new Float64Array(this.wasm.memory.buffer, inPtr, values.length).set(values);
    this.wasm.log10Many(inPtr, values.length, outPtr);
    return new Float64Array(this.wasm.memory.buffer, outPtr, values.length).slice();
  }
}
