// Throughput of decode + segment + log-mel (48 kHz, 3 s from 0.5 s, 128 mels): TypeScript vs the
// NumPy/SciPy equivalent (bench_numpy.py), and librosa itself when importable, all pinned to one
// core (taskset -c 0 when available). Real corpus when RAVDESS_DIR is set, else generated WAVs.
//
//   npm run bench -w packages/features          # env: BENCH_CLIPS (default 240), BENCH_REPEATS (5)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as audio from '@ser/audio';
import { LogMelExtractor } from '@ser/audio';
import { decodeNpy } from '../src/npy.ts';

const SR = 48000;
const OFFSET = 0.5;
const DURATION = 3.0;
const CLIPS = Number(process.env.BENCH_CLIPS ?? 240);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const here = new URL('.', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'ser-bench-'));

type Seg = (x: Float32Array, sr: number, off: number, dur: number) => Float32Array;
/** librosa.load(offset, duration) + zero-pad; @ser/audio's segmentWindow when it exists. */
const localSegment: Seg = (x, sr, off, dur) => {
  const n = Math.floor(dur * sr); // librosa.load: int() truncation
  const start = Math.floor(off * sr);
  const out = new Float32Array(n);
  out.set(x.subarray(Math.min(start, x.length), Math.min(start + n, x.length)));
  return out;
};
const segmentWindow: Seg = ((audio as Record<string, unknown>).segmentWindow as Seg | undefined) ?? localSegment;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Speech-like test WAVs (harmonic voice with vibrato + noise), 48 kHz 16-bit, 3.0-5.3 s. */
function generateWavs(n: number): string[] {
  const files: string[] = [];
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648), s / 2147483648);
  for (let i = 0; i < n; i++) {
    const len = Math.round((3 + 2.3 * rnd()) * SR);
    const x = new Float32Array(len);
    const f0 = 100 + 150 * rnd();
    for (let t = 0; t < len; t++) {
      const f = f0 * (1 + 0.05 * Math.sin((2 * Math.PI * 4 * t) / SR));
      let v = 0;
      for (let h = 1; h <= 8; h++) v += Math.sin((2 * Math.PI * f * h * t) / SR) / h;
      x[t] = 0.2 * v * (0.5 + 0.5 * Math.sin((2 * Math.PI * 3 * t) / SR)) + 0.01 * (rnd() - 0.5);
    }
    const path = join(tmp, `gen-${i}.wav`);
    writeFileSync(path, audio.encodeWav([x], { sampleRate: SR }));
    files.push(path);
  }
  return files;
}

async function tsRun(files: string[], ex: LogMelExtractor): Promise<Float32Array> {
  let last: Float32Array = new Float32Array(0);
  for (const f of files) {
    const d = audio.decodeWav(await readFile(f), f);
    if (d.sampleRate !== SR) throw new Error(`${f}: ${d.sampleRate} Hz, expected ${SR}`);
    last = ex.extract(segmentWindow(d.mono, SR, OFFSET, DURATION));
  }
  return last;
}

function pythonRun(listFile: string, extra: string[]): { seconds: number[]; cpu_seconds: number[] } | string {
  const pin = spawnSync('taskset', ['--version']).status === 0 ? ['taskset', '-c', '0'] : [];
  const args = [...pin, 'python3', join(here, 'bench_numpy.py'), '--list', listFile, '--repeats', String(REPEATS), ...extra];
  const r = spawnSync(args[0]!, args.slice(1), {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
  });
  if (r.status !== 0) return (r.stderr || r.stdout || '').trim().split('\n').pop() ?? 'failed';
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function main(): Promise<void> {
  const dir = process.env.RAVDESS_DIR;
  let files: string[];
  let source: string;
  if (dir) {
    files = (readdirSync(dir, { recursive: true }) as string[])
      .filter((f) => /(^|\/)03-01-[^/]*\.wav$/.test(f))
      .map((f) => join(dir, f))
      .sort()
      .slice(0, CLIPS);
    source = `RAVDESS_DIR=${dir} (${files.length} real clips)`;
  } else {
    files = generateWavs(Math.min(CLIPS, 120));
    source = `${files.length} generated WAVs (set RAVDESS_DIR for the real corpus)`;
  }
  if (files.length === 0) throw new Error(`no WAVs found under ${dir}`);
  const listFile = join(tmp, 'files.txt');
  writeFileSync(listFile, files.join('\n') + '\n');
  console.log(`source: ${source}; repeats: ${REPEATS}; segment ${OFFSET}+${DURATION} s; n_fft 1024, win 512, hop 256, 128 mels`);
  console.log(`segmentWindow: ${segmentWindow === localSegment ? 'local fallback (not in @ser/audio yet)' : '@ser/audio'}`);

  const ex = new LogMelExtractor({ sampleRate: SR, nFft: 1024, winLength: 512, hopLength: 256, nMels: 128, fmin: 0, fmax: SR / 2, ref: 'max', amin: 1e-10, topDb: 80 });
  const first = await tsRun(files.slice(0, 1), ex); // warm-up (JIT)
  await tsRun(files, ex);
  const tsSecs: number[] = [];
  const tsCpu: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await tsRun(files, ex);
    const c = process.cpuUsage(c0);
    tsSecs.push((performance.now() - t0) / 1000);
    tsCpu.push((c.user + c.system) / 1e6);
  }

  const dump = join(tmp, 'first.npy');
  const np = pythonRun(listFile, ['--dump', dump]);
  const lib = spawnSync('python3', ['-c', 'import librosa; print(librosa.__version__)'], { encoding: 'utf8' });
  const lr = lib.status === 0 ? pythonRun(listFile, ['--librosa']) : `not installed (python3 -c "import librosa" fails; apt has no python3-librosa)`;

  const med = (secs: number[]) => median(secs.map((s) => files.length / s));
  const rate = (secs: number[], cpu: number[]) => {
    const rates = secs.map((s) => files.length / s);
    return `wall ${med(secs).toFixed(1)} clips/s (median of ${rates.length}; min ${Math.min(...rates).toFixed(1)}, max ${Math.max(...rates).toFixed(1)}); CPU time ${med(cpu).toFixed(1)} clips/s`;
  };
  const tsRate = med(tsSecs);
  const tsCpuRate = med(tsCpu);
  const ratio = (o: { seconds: number[]; cpu_seconds: number[] }) => `wall ${(tsRate / med(o.seconds)).toFixed(2)}x, CPU ${(tsCpuRate / med(o.cpu_seconds)).toFixed(2)}x`;
  console.log(`TypeScript (node ${process.version}, fft.js): ${rate(tsSecs, tsCpu)}`);
  if (typeof np === 'string') console.log(`NumPy/SciPy: failed: ${np}`);
  else {
    const ver = execFileSync('python3', ['-c', 'import numpy, scipy; print(numpy.__version__, scipy.__version__)'], { encoding: 'utf8' }).trim();
    console.log(`NumPy/SciPy ${ver}: ${rate(np.seconds, np.cpu_seconds)}  -> TS/NumPy ${ratio(np)}`);
    const ref = decodeNpy(readFileSync(dump)).data;
    let e = 0;
    for (let i = 0; i < ref.length; i++) e = Math.max(e, Math.abs(ref[i]! - first[i]!));
    console.log(`same maths check (first clip, ref=max): max |dB(TS) - dB(NumPy)| = ${e.toExponential(2)} dB`);
  }
  if (typeof lr === 'string') console.log(`librosa: ${lr}`);
  else console.log(`librosa: ${rate(lr.seconds, lr.cpu_seconds)}  -> TS/librosa ${ratio(lr)}`);
}

if (process.env.BENCH_PINNED !== '1' && spawnSync('taskset', ['--version']).status === 0) {
  // Re-run pinned to one core so that TS and Python get the same single CPU.
  const r = spawnSync('taskset', ['-c', '0', process.execPath, '--import', 'tsx', new URL(import.meta.url).pathname], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_PINNED: '1', UV_THREADPOOL_SIZE: '1' },
  });
  rmSync(tmp, { recursive: true, force: true });
  process.exit(r.status ?? 1);
}
try {
  await main();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
