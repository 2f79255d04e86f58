// Unit tests of the log-mel chain's pieces (FFT, STFT, mel filterbank, power_to_db) and of
// LogMelExtractor. Parity with librosa's own arrays is in packages/features/test/parity.test.ts.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  LogMelExtractor,
  applyMel,
  PowerStft,
  RealFft,
  frameCount,
  hzToMel,
  melFilterbank,
  melFilterbankDense,
  melToHz,
  naiveDftPower,
  paddedHannWindow,
  powerToDb,
} from '@ser/audio';
import { REF_CONFIG, maxAbsDiff } from '@ser/audio/testing';
import { LOGMEL_KERNEL_SOURCE_SHA256 } from '../src/logmel-kernel.wasm.ts';
import { MelKernel } from '../src/logmel-kernel.ts';

function rand(n: number, seed = 1): Float64Array {
  const x = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    x[i] = s / 2147483648 - 0.5;
  }
  return x;
}

describe('RealFft', () => {
  for (const n of [4, 8, 16, 64, 256, 1024]) {
    it(`power spectrum of size ${n} equals the naive DFT`, () => {
      const x = rand(n, n);
      const got = new RealFft(n).powerSpectrum(x, new Float64Array(n / 2 + 1));
      const want = naiveDftPower(x);
      const scale = Math.max(...want);
      expect(maxAbsDiff(got, want) / scale).toBeLessThan(1e-12);
    });
  }
  it('rejects sizes that are not powers of two', () => {
    expect(() => new RealFft(1000)).toThrow(/power of two/);
  });
});

describe('STFT', () => {
  it('frame count is 1 + floor(len / hop) (center=True)', () => {
    expect(frameCount(144000, 256)).toBe(563);
    expect(frameCount(0, 256)).toBe(1);
    expect(frameCount(255, 256)).toBe(1);
    expect(frameCount(256, 256)).toBe(2);
  });
  it('periodic Hann window, centred with (n_fft - win) / 2 zeros each side', () => {
    const w = paddedHannWindow(512, 1024);
    expect(w.length).toBe(1024);
    expect(w[255]).toBe(0);
    expect(w[256]).toBe(0); // periodic Hann starts at 0
    expect(w[256 + 256]).toBeCloseTo(1, 15); // peak at N/2
    expect(w[768]).toBe(0);
    expect(w[257]).toBeCloseTo(w[767]!, 15); // periodic: w[n] = w[N - n]
  });
  it('matches a direct zero-padded DFT per frame, including the edges', () => {
    const x = rand(3000, 7);
    const cfg = { nFft: 64, winLength: 40, hopLength: 16 };
    const st = new PowerStft(cfg);
    const { data, frames, bins } = st.power(x);
    expect(frames).toBe(frameCount(3000, 16));
    const w = paddedHannWindow(40, 64);
    for (const t of [0, 1, 2, 90, frames - 2, frames - 1]) {
      const frame = new Float64Array(64);
      for (let i = 0; i < 64; i++) {
        const j = t * 16 - 32 + i;
        frame[i] = j >= 0 && j < x.length ? x[j]! * w[i]! : 0;
      }
      const want = naiveDftPower(frame);
      const got = Array.from({ length: bins }, (_, k) => data[k * frames + t]!);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-12);
    }
  });
});

describe('mel filterbank', () => {
  it('Slaney scale: linear below 1 kHz, log above, invertible', () => {
    expect(hzToMel(1000)).toBeCloseTo(15, 12);
    expect(hzToMel(200)).toBeCloseTo(3, 12);
    for (const hz of [0, 100, 999, 1000, 4000, 24000]) expect(melToHz(hzToMel(hz))).toBeCloseTo(hz, 8);
  });
  it('sparse bands hold every non-zero weight, each band a contiguous run', () => {
    const fb = melFilterbank({ sampleRate: 48000, nFft: 1024, nMels: 128, fmin: 0, fmax: 24000 });
    const dense = melFilterbankDense(fb);
    let nz = 0;
    for (const v of dense) if (v !== 0) nz++;
    const stored = fb.bands.reduce((a, b) => a + b.weights.length, 0);
    expect(stored).toBeLessThan(0.05 * dense.length); // sparse indeed
    expect(nz).toBeGreaterThan(0.9 * stored);
    // Slaney norm: every triangle's area in Hz is 1 (area = sum(w) * bin width, about).
    const binHz = 48000 / 1024;
    const wide = fb.bands[100]!.weights.reduce((a, b) => a + b, 0) * binHz;
    expect(wide).toBeCloseTo(1, 1);
  });
});

describe('power_to_db', () => {
  it('ref=max puts the peak at 0 dB and clips at -top_db', () => {
    const s = Float64Array.from([1e-20, 1e-3, 0.5, 2]);
    const db = powerToDb(s, { ref: 'max', amin: 1e-10, topDb: 80 }, new Float64Array(4));
    expect(db[3]).toBe(0);
    expect(db[2]).toBeCloseTo(10 * Math.log10(0.25), 12);
    expect(db[0]).toBe(-80); // 10*log10(1e-10 / 2) < -80
  });
  it('fixed ref and no clipping; amin floors zeros', () => {
    const s = Float64Array.from([0, 1, 100]);
    const db = powerToDb(s, { ref: 1, amin: 1e-10, topDb: null }, new Float64Array(3));
    expect(Array.from(db)).toEqual([-100, 0, 20]);
  });
  it('an all-zero signal gives all zeros with ref=max (ref floored at amin)', () => {
    const db = new LogMelExtractor({ ...REF_CONFIG, ref: 'max' }).extract(new Float32Array(4000));
    expect(db.every((v) => v === 0)).toBe(true);
  });
});

describe('LogMelExtractor', () => {
  it('extract equals power_to_db(melPower) for every ref/top_db (the power-domain floor shortcut)', () => {
    const x = Float32Array.from(rand(30000, 9), (v, i) => (i > 20000 ? 0 : v * (i % 5000) * 1e-3));
    for (const ref of ['max', 1, 1e-3] as const) {
      for (const topDb of [80, 20, 0, null]) {
        const ex = new LogMelExtractor({ ...REF_CONFIG, ref, topDb });
        const want = powerToDb(ex.melPower(x), { ref, amin: 1e-10, topDb }, new Float32Array(128 * frameCount(30000, 256)));
        expect(Array.from(ex.extract(x))).toEqual(Array.from(want));
      }
    }
  });

  it('is reusable: same input twice, and a shorter input after a longer one, give fresh results', () => {
    const ex = new LogMelExtractor({ ...REF_CONFIG, ref: 'max' });
    const a = Float32Array.from(rand(20000, 3));
    const b = Float32Array.from(rand(5000, 4));
    const a1 = ex.extract(a);
    const b1 = ex.extract(b);
    const a2 = ex.extract(a);
    expect(a1.length).toBe(128 * frameCount(20000, 256));
    expect(b1.length).toBe(128 * frameCount(5000, 256));
    expect(Array.from(a2)).toEqual(Array.from(a1));
    expect(Array.from(new LogMelExtractor({ ...REF_CONFIG, ref: 'max' }).extract(b))).toEqual(Array.from(b1));
  });
});

describe('wasm log-mel kernel', () => {
  /** Mel power [nMels, frames] the plain JavaScript way: PowerStft (fft.js) then applyMel per frame. */
  type Cfg = { sampleRate: number; nFft: number; winLength: number; hopLength: number; nMels: number; fmin: number; fmax: number; amin: number; topDb: number };
  function jsMelPower(x: ArrayLike<number>, cfg: Cfg): Float64Array {
    const st = new PowerStft(cfg);
    const fb = melFilterbank(cfg);
    const frames = frameCount(x.length, cfg.hopLength);
    const power = new Float64Array(st.bins);
    const mel = new Float64Array(cfg.nMels);
    const out = new Float64Array(cfg.nMels * frames);
    for (let t = 0; t < frames; t++) {
      applyMel(fb, st.frameInto(x, t, power), mel);
      for (let m = 0; m < cfg.nMels; m++) out[m * frames + t] = mel[m]!;
    }
    return out;
  }
  const configs: Cfg[] = [
    { ...REF_CONFIG }, // n_fft 1024: fft.js's radix-4 first pass
    { ...REF_CONFIG, nFft: 2048, winLength: 2048, hopLength: 512 }, // 2048: its radix-2 first pass
    { ...REF_CONFIG, sampleRate: 16000, fmax: 8000, nFft: 64, winLength: 40, hopLength: 16, nMels: 8 },
  ];
  for (const cfg of configs) {
    for (const samples of [30000, 30000 + cfg.hopLength, 100]) {
      for (const kind of ['float32', 'float64'] as const) {
        it(`mel power is bit-identical to PowerStft + applyMel (n_fft ${cfg.nFft}, ${samples} ${kind} samples)`, () => {
          const raw = rand(samples, samples + cfg.nFft);
          const x = kind === 'float32' ? Float32Array.from(raw) : raw;
          const got = new LogMelExtractor({ ...cfg, ref: 'max' }).melPower(x);
          const want = jsMelPower(x, cfg);
          expect(got.length).toBe(want.length);
          let differ = 0;
          for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) differ++;
          expect(differ).toBe(0);
        });
      }
    }
  }
  it('its log10 (the dB pass, two values at a time) is bit-identical to Math.log10', () => {
    const kernel = new MelKernel({
      nFft: 16, hopLength: 4, window: new Float64Array(16).fill(1), winStart: 0, winEnd: 16,
      bands: { start: Int32Array.from([0]), off: Int32Array.from([0, 1]), weights: Float64Array.from([1]) },
    });
    const values: number[] = [];
    // Log-uniform over 1e-12 .. 1e12 (mel powers and amin), in both lane positions.
    let s = 7;
    const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
    for (let i = 0; i < 400_000; i++) values.push(10 ** (24 * next() - 12));
    // fdlibm's special branches: 1 and its neighbours, powers of 2 and 10, subnormals, 0, inf, NaN, negatives.
    for (let d = -300; d <= 300; d++) values.push(1 + d * 2 ** -52, 2 ** (d / 10), 10 ** (d / 25));
    values.push(0, -0, 5e-324, 2.2e-308, 1e-310, Infinity, NaN, -1, 1e-10, Number.MAX_VALUE);
    // Each special value next to an ordinary one, in either lane.
    const specials = values.slice(400_000);
    for (const v of specials) values.push(v, 0.37, 0.37, v);
    const x = Float64Array.from(values);
    const got = kernel.log10(x);
    let differ = 0;
    for (let i = 0; i < x.length; i++) if (!Object.is(got[i], Math.log10(x[i]!))) differ++;
    expect(differ).toBe(0);
  });
  it('the embedded module was built from the committed source (npm run build:wasm -w packages/audio)', () => {
    const source = readFileSync(new URL('../wasm/logmel-kernel.ts', import.meta.url));
    expect(createHash('sha256').update(source).digest('hex')).toBe(LOGMEL_KERNEL_SOURCE_SHA256);
  });
});
