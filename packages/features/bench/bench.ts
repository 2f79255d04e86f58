// Throughput of decode + 0.5-3.5 s window + 128-band log-mel at 48 kHz, in one run and on the same
// clips: ours on one thread (wall and CPU time), ours on N worker threads (wall), a NumPy/SciPy
// version written to be fast (bench_numpy.py) and librosa itself when importable, both on one core
// with one BLAS thread; the ratios and peak RSS. Real corpus when RAVDESS_DIR is set, else
// generated WAVs. librosa: `../shared/tools/setup-librosa.sh` builds an offline librosa 0.11 and
// prints the PYTHONPATH to export.
//
//   npm run bench -w packages/features     # env: BENCH_CLIPS (240), BENCH_REPEATS (5), BENCH_WORKERS (auto)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as audio from '@ser/audio';
import { LogMelExtractor } from '@ser/audio';
import { orderedPool, resolveWorkers, workersParam } from '@ser/stage-kit';
import { decodeNpy } from '../src/npy.ts';
import { DURATION, LOGMEL, OFFSET, SR, clipLogMel } from './clip.ts';

const CLIPS = Number(process.env.BENCH_CLIPS ?? 240);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const WORKERS = resolveWorkers(workersParam(process.env.BENCH_WORKERS ?? 'auto', 'BENCH_WORKERS'));
const here = new URL('.', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'ser-bench-'));

interface Timing {
  seconds: number[]; // wall, per repeat
  cpu_seconds?: number[]; // process CPU time, per repeat
  max_rss_mib?: number;
}

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

/** One thread: a warm-up pass, then REPEATS timed passes. Returns the timings and the first clip's log-mel. */
function oursInProcess(files: string[]): { timing: Timing; first: Float32Array } {
  const ex = new LogMelExtractor(LOGMEL);
  const first = clipLogMel(files[0]!, ex).slice();
  for (const f of files) clipLogMel(f, ex); // warm-up (JIT, kernel memory)
  const timing: Timing = { seconds: [], cpu_seconds: [] };
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (const f of files) clipLogMel(f, ex);
    const c = process.cpuUsage(c0);
    timing.seconds.push((performance.now() - t0) / 1000);
    timing.cpu_seconds!.push((c.user + c.system) / 1e6);
  }
  return { timing, first };
}

/** N worker threads (stage-kit's orderedPool, as the features stage): warm-up pass, then REPEATS timed passes. */
async function oursWorkers(files: string[], first: Float32Array): Promise<Timing> {
  const ex = new LogMelExtractor(LOGMEL);
  const pool = orderedPool<Float32Array>({ workers: WORKERS, entry: new URL('./clip-worker.mjs', import.meta.url), inline: (p) => clipLogMel(p as string, ex) });
  const pass = () =>
    pool.map(files, {
      task: (f) => ({ message: f }),
      onResult: (y, _f, i) => {
        if (i === 0 && !Buffer.from(y.buffer, y.byteOffset, y.byteLength).equals(Buffer.from(first.buffer))) throw new Error('worker output differs from the in-process output');
      },
      describe: (f) => f,
    });
  try {
    await pass(); // warm-up: thread start, JIT
    const timing: Timing = { seconds: [] };
    for (let r = 0; r < REPEATS; r++) {
      const t0 = performance.now();
      await pass();
      timing.seconds.push((performance.now() - t0) / 1000);
    }
    return timing;
  } finally {
    await pool.close();
  }
}

/** bench_numpy.py on one core (taskset when present) with one BLAS thread. */
function python(listFile: string, extra: string[]): Timing | string {
  const pin = spawnSync('taskset', ['--version']).status === 0 ? ['taskset', '-c', '0'] : [];
  const args = [...pin, 'python3', join(here, 'bench_numpy.py'), '--list', listFile, '--repeats', String(REPEATS), ...extra];
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  // Tuning overrides of OpenBLAS meant for other software would skew the comparison.
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', env });
  if (r.status !== 0) return (r.stderr || r.stdout || '').trim().split('\n').pop() ?? 'failed';
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Timing;
}

function listFiles(): { files: string[]; source: string } {
  const dir = process.env.RAVDESS_DIR;
  if (!dir) {
    const files = generateWavs(Math.min(CLIPS, 120));
    return { files, source: `${files.length} generated WAVs (set RAVDESS_DIR for the real corpus)` };
  }
  const files = (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => /(^|\/)03-01-[^/]*\.wav$/.test(f))
    .map((f) => join(dir, f))
    .sort()
    .slice(0, CLIPS);
  if (files.length === 0) throw new Error(`no WAVs found under ${dir}`);
  return { files, source: `${files.length} real RAVDESS clips` };
}

async function main(): Promise<void> {
  const { files, source } = listFiles();
  const listFile = join(tmp, 'files.txt');
  writeFileSync(listFile, files.join('\n') + '\n');
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`${source}; ${REPEATS} timed repeats (median); window ${OFFSET}+${DURATION} s at ${SR} Hz; n_fft 1024, win 512, hop 256, 128 mels`);
  console.log(`${availableParallelism()} cores (${cpu}); node ${process.version}`);

  const one = oursInProcess(files);
  const rssOne = process.resourceUsage().maxRSS / 1024;
  const many = await oursWorkers(files, one.first);
  const rssMany = process.resourceUsage().maxRSS / 1024;
  const dump = join(tmp, 'first.npy');
  const np = python(listFile, ['--dump', dump]);
  const hasLibrosa = spawnSync('python3', ['-c', 'import librosa'], { encoding: 'utf8' }).status === 0;
  const lr = hasLibrosa ? python(listFile, ['--librosa']) : 'not importable (../shared/tools/setup-librosa.sh builds it offline and prints the PYTHONPATH)';
  const librosaVersion = hasLibrosa ? execFileSync('python3', ['-c', 'import librosa; print(librosa.__version__)'], { encoding: 'utf8' }).trim() : '';
  const npVersion = execFileSync('python3', ['-c', 'import numpy, scipy; print(f"NumPy {numpy.__version__}, SciPy {scipy.__version__}")'], { encoding: 'utf8' }).trim();

  const rate = (secs: number[] | undefined) => (secs ? median(secs.map((s) => files.length / s)) : NaN);
  const libCpu = typeof lr === 'string' ? NaN : rate(lr.cpu_seconds);
  const libWall = typeof lr === 'string' ? NaN : rate(lr.seconds);
  const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
  const x = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : '-');
  const rows: string[][] = [];
  const add = (name: string, t: Timing, rss: number, perCore: boolean) => {
    const wall = rate(t.seconds);
    const c = rate(t.cpu_seconds);
    rows.push([name, f1(wall), f1(c), x(perCore ? c / libCpu : NaN), x(wall / libWall), `${rss.toFixed(0)} MiB`]);
  };
  add('ours, 1 thread (wasm SIMD kernel)', one.timing, rssOne, true);
  add(`ours, ${WORKERS} worker threads`, many, rssMany, false);
  if (typeof np === 'string') rows.push([`NumPy/SciPy: failed: ${np}`, '-', '-', '-', '-', '-']);
  else add(`${npVersion}, tight, 1 core`, np, np.max_rss_mib ?? NaN, true);
  if (typeof lr === 'string') rows.push([`librosa: ${lr}`, '-', '-', '-', '-', '-']);
  else add(`librosa ${librosaVersion} (melspectrogram + power_to_db), 1 core`, lr, lr.max_rss_mib ?? NaN, true);
  console.log('');
  console.log('| run | clips/s (wall) | clips/s (CPU time) | vs librosa, per core (CPU) | vs librosa (wall) | peak RSS |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log('');
  console.log(`${WORKERS} workers vs 1 thread (wall): ${x(rate(many.seconds) / rate(one.timing.seconds))}`);
  if (typeof np !== 'string') {
    const ref = decodeNpy(readFileSync(dump)).data;
    let e = 0;
    for (let i = 0; i < ref.length; i++) e = Math.max(e, Math.abs(ref[i]! - one.first[i]!));
    console.log(`same maths check (first clip): max |dB(ours) - dB(NumPy)| = ${e.toExponential(2)} dB`);
  }
}

try {
  await main();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
