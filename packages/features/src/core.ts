// Pure core of the features stage: typed params, log-mel per clip, StandardScaler statistics.
import { LogMelExtractor, frameCount, type LogMelConfig } from '@ser/audio';
import { ParamError, workersParam, type WorkersSetting } from '@ser/stage-kit';

export type ScalerMode = 'per_element' | 'per_mel' | 'global';

/** The `features` params block, as in params.yaml (snake_case keys, `fmax: null` = sr / 2). */
export interface FeatureParams {
  n_fft: number;
  win_length: number;
  hop_length: number;
  n_mels: number;
  fmin: number; // Hz
  fmax: number | null; // Hz
  ref: 'max' | number;
  amin: number;
  top_db: number | null;
  scaler: ScalerMode;
}

/** A bad `features.<key>` param: stage-kit's ParamError, message `params: features.<key>: <problem>`. */
function featureParamError(key: string, problem: string): ParamError {
  return new ParamError(`features.${key}`, `params: features.${key}: ${problem}`);
}

const KEYS = ['n_fft', 'win_length', 'hop_length', 'n_mels', 'fmin', 'fmax', 'ref', 'amin', 'top_db', 'scaler'] as const;
/** Keys that change how the stage runs, never its outputs (not in FeatureParams or the metadata). */
const RUN_KEYS = ['workers'] as const;
const SCALERS: ScalerMode[] = ['per_element', 'per_mel', 'global'];

function num(v: unknown, key: string, opts: { integer?: boolean; min?: number; gt?: number } = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw featureParamError(key, `must be a finite number, got ${JSON.stringify(v)}`);
  if (opts.integer && !Number.isInteger(v)) throw featureParamError(key, `must be an integer, got ${v}`);
  if (opts.min !== undefined && v < opts.min) throw featureParamError(key, `must be >= ${opts.min}, got ${v}`);
  if (opts.gt !== undefined && !(v > opts.gt)) throw featureParamError(key, `must be > ${opts.gt}, got ${v}`);
  return v;
}

/**
 * Validates the `features` block: accepts `{features: {...}}` (PIPELINE_PARAMS) or the block itself.
 * Every key is required (params.yaml holds them all); unknown keys are rejected to catch typos.
 * Checks that need the sample rate (fmax <= sr / 2) are in `logMelConfig`.
 */
export function featureParamsFrom(params: unknown): FeatureParams {
  const block = featuresBlock(params);
  for (const k of Object.keys(block)) {
    if (![...KEYS, ...RUN_KEYS].includes(k as never)) throw featureParamError(k, `unknown key (known: ${[...KEYS, ...RUN_KEYS].join(', ')})`);
  }
  for (const k of KEYS) if (!(k in block)) throw featureParamError(k, 'missing');
  const n_fft = num(block.n_fft, 'n_fft', { integer: true, min: 4 });
  if ((n_fft & (n_fft - 1)) !== 0) throw featureParamError('n_fft', `must be a power of two, got ${n_fft}`);
  const win_length = num(block.win_length, 'win_length', { integer: true, min: 1 });
  if (win_length > n_fft) throw featureParamError('win_length', `must be <= n_fft (${n_fft}), got ${win_length}`);
  const hop_length = num(block.hop_length, 'hop_length', { integer: true, gt: 0 });
  const n_mels = num(block.n_mels, 'n_mels', { integer: true, gt: 0 });
  const fmin = num(block.fmin, 'fmin', { min: 0 });
  const fmax = block.fmax === null ? null : num(block.fmax, 'fmax', { gt: fmin });
  let ref: 'max' | number;
  if (block.ref === 'max') ref = 'max';
  else if (typeof block.ref === 'number') ref = num(block.ref, 'ref', { gt: 0 });
  else throw featureParamError('ref', `must be "max" or a number > 0, got ${JSON.stringify(block.ref)}`);
  const amin = num(block.amin, 'amin', { gt: 0 });
  const top_db = block.top_db === null ? null : num(block.top_db, 'top_db', { min: 0 });
  const scaler = block.scaler as ScalerMode;
  if (!SCALERS.includes(scaler)) throw featureParamError('scaler', `must be one of ${SCALERS.join(', ')}, got ${JSON.stringify(block.scaler)}`);
  return { n_fft, win_length, hop_length, n_mels, fmin, fmax, ref, amin, top_db, scaler };
}

/** The `features` block of `{features: {...}}` or the block itself. */
function featuresBlock(params: unknown): Record<string, unknown> {
  const root = params as Record<string, unknown> | null;
  const block = (root && typeof root === 'object' && 'features' in root ? root.features : root) as Record<string, unknown> | null;
  if (!block || typeof block !== 'object' || Array.isArray(block)) throw new ParamError('features', 'params: features: the block is missing or not a mapping');
  return block;
}

/**
 * `features.workers`: worker threads for the log-mel rows, `auto` (= cores) or N >= 1; missing or
 * null = 1. Speed only: the outputs are byte-identical for every value.
 */
export function featureWorkersFrom(params: unknown): WorkersSetting {
  return workersParam(featuresBlock(params).workers, 'features.workers');
}

/** The params with `fmax` resolved for `sampleRate` (checked: fmin < fmax <= sr / 2). */
export function resolveFeatureParams(fp: FeatureParams, sampleRate: number): FeatureParams & { fmax: number } {
  if (!(sampleRate > 0)) throw new RangeError(`sample rate must be > 0, got ${sampleRate}`);
  const fmax = fp.fmax ?? sampleRate / 2;
  if (fmax > sampleRate / 2) throw featureParamError('fmax', `must be <= sample_rate / 2 (${sampleRate / 2} Hz), got ${fmax}`);
  if (!(fmax > fp.fmin)) throw featureParamError('fmax', `must be > fmin (${fp.fmin}), got ${fmax}`);
  return { ...fp, fmax };
}

/** The LogMelExtractor config for these params at `sampleRate`. */
export function logMelConfig(fp: FeatureParams, sampleRate: number): LogMelConfig {
  const r = resolveFeatureParams(fp, sampleRate);
  return {
    sampleRate,
    nFft: r.n_fft,
    winLength: r.win_length,
    hopLength: r.hop_length,
    nMels: r.n_mels,
    fmin: r.fmin,
    fmax: r.fmax,
    ref: r.ref,
    amin: r.amin,
    topDb: r.top_db,
  };
}

/** Output shape [n_mels, frames] for a signal of `samples` samples. */
export function featureShape(fp: FeatureParams, samples: number): [number, number] {
  return [fp.n_mels, frameCount(samples, fp.hop_length)];
}

/** JSON of the params actually used (fixed key order, fmax resolved), for the `features` metadata. */
export function featuresMetadata(fp: FeatureParams, sampleRate: number): string {
  const r = resolveFeatureParams(fp, sampleRate);
  return JSON.stringify(Object.fromEntries(KEYS.map((k) => [k, r[k]])));
}

/** Log-mel dB of one signal, shape [n_mels, frames] row-major (builds an extractor: use
 * `LogMelExtractor` directly for many clips). */
export function computeLogMel(signal: ArrayLike<number>, sampleRate: number, fp: FeatureParams): Float32Array {
  return new LogMelExtractor(logMelConfig(fp, sampleRate)).extract(signal);
}

/**
 * One row's work: its samples, and the buffer its log-mel goes into ([n_mels, frames]), which the
 * stage reuses from row to row (with workers it moves to a worker and back, never copied).
 */
export interface LogMelTask {
  samples: Float32Array;
  out: Float32Array;
}

/** The log-mel of one audio row, written into and returned as `task.out`. */
export function logMelOfRow(extractor: LogMelExtractor, task: unknown): Float32Array {
  const t = task as Partial<LogMelTask> | null;
  if (!(t?.samples instanceof Float32Array) || !(t.out instanceof Float32Array)) {
    throw new TypeError(`expected { samples, out } Float32Arrays, got ${Object.prototype.toString.call(task)}`);
  }
  return extractor.extract(t.samples, t.out);
}

/**
 * Streaming StandardScaler statistics over feature tensors of shape [nMels, frames]:
 * - per_element: sklearn StandardScaler on X.reshape(n, -1) (one mean/std per element),
 * - per_mel: one mean/std per mel row over all samples and frames,
 * - global: one mean/std over everything.
 * Population std (ddof 0), float64 accumulation (Welford / Chan merges), and sklearn's rule for
 * constant features (var <= n*eps*var + (n*mean*eps)^2, or std < 10*eps) -> scale 1.
 * `finish` broadcasts mean and scale to the full shape so train can apply them elementwise.
 */
export class ScalerAccumulator {
  readonly mode: ScalerMode;
  readonly shape: [number, number];
  private n = 0; // samples seen
  private readonly groups: number; // number of (mean, m2) pairs
  private readonly perGroup: number; // values per group per sample
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;
  private readonly count: Float64Array; // values per group so far

  constructor(mode: ScalerMode, shape: [number, number]) {
    this.mode = mode;
    this.shape = shape;
    const size = shape[0] * shape[1];
    this.groups = mode === 'per_element' ? size : mode === 'per_mel' ? shape[0] : 1;
    this.perGroup = size / this.groups;
    this.mean = new Float64Array(this.groups);
    this.m2 = new Float64Array(this.groups);
    this.count = new Float64Array(this.groups);
  }

  get samples(): number {
    return this.n;
  }

  add(x: Float32Array): void {
    const size = this.shape[0] * this.shape[1];
    if (x.length !== size) throw new RangeError(`scaler expects ${size} values per sample, got ${x.length}`);
    this.n++;
    if (this.mode === 'per_element') {
      // Welford, one value per element.
      const k = this.n;
      for (let i = 0; i < size; i++) {
        const d = x[i]! - this.mean[i]!;
        this.mean[i]! += d / k;
        this.m2[i]! += d * (x[i]! - this.mean[i]!);
      }
      return;
    }
    // Chan et al.: merge this sample's (mean, M2) of each group into the running one.
    const m = this.perGroup;
    for (let g = 0; g < this.groups; g++) {
      const off = g * m;
      let s = 0;
      for (let i = 0; i < m; i++) s += x[off + i]!;
      const bm = s / m;
      let bm2 = 0;
      for (let i = 0; i < m; i++) {
        const d = x[off + i]! - bm;
        bm2 += d * d;
      }
      const na = this.count[g]!;
      const nb = m;
      const nt = na + nb;
      const delta = bm - this.mean[g]!;
      this.mean[g]! += (delta * nb) / nt;
      this.m2[g]! += bm2 + (delta * delta * na * nb) / nt;
      this.count[g] = nt;
    }
  }

  /** mean and scale (std, 1 for constant features), each the full [nMels, frames] shape, float32. */
  finish(): { mean: Float32Array; scale: Float32Array } {
    if (this.n === 0) throw new RangeError('scaler: no training samples');
    const size = this.shape[0] * this.shape[1];
    const mean = new Float32Array(size);
    const scale = new Float32Array(size);
    const eps = Number.EPSILON;
    for (let g = 0; g < this.groups; g++) {
      const n = this.mode === 'per_element' ? this.n : this.count[g]!;
      const mu = this.mean[g]!;
      const variance = Math.max(0, this.m2[g]! / n);
      const constant = variance <= n * eps * variance + (n * mu * eps) ** 2;
      const std = Math.sqrt(variance);
      const s = constant || std < 10 * eps ? 1 : std;
      const start = g * this.perGroup;
      mean.fill(mu, start, start + this.perGroup);
      scale.fill(s, start, start + this.perGroup);
    }
    return { mean, scale };
  }
}
