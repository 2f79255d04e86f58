// Throughput of decode + 0.5-3.5 s window + 128-band log-mel at 48 kHz, in one run and on the same
// clips: ours on one thread (wall and CPU time), ours on N worker threads (wall), a NumPy/SciPy
// version written to be fast (bench_numpy.py) and librosa itself when importable, both on one core
// with one BLAS thread; the ratios and peak RSS. Real corpus when RAVDESS_DIR is set, else
// generated WAVs. librosa: `../shared/tools/setup-librosa.sh` builds an offline librosa 0.11 and
// prints the PYTHONPATH to export.
//
//   npm run bench -w packages/features     # env: BENCH_CLIPS (240), BENCH_REPEATS (3), BENCH_CHUNK (48), BENCH_WORKERS (auto), BENCH_TRACE=1
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as audio from '@ser/audio';
import { LogMelExtractor } from '@ser/audio';
import { orderedPool, workersFromEnv } from '@ser/stage-kit';
import { decodeNpy } from '../src/npy.ts';
import { DURATION, LOGMEL, OFFSET, SR, clipLogMel, type ClipTask } from './clip.ts';

const CLIPS = Number(process.env.BENCH_CLIPS ?? 240);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const CHUNK = Number(process.env.BENCH_CHUNK ?? 48); // clips per round
const WORKERS = workersFromEnv('BENCH_WORKERS');
const TRACE = process.env.BENCH_TRACE === '1'; // print every round's figure (to see a disturbed run)
const here = new URL('.', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'ser-bench-'));

/** The q-quantile of xs (linear interpolation between order statistics). */
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = q * (s.length - 1);
  const lo = Math.floor(at);
  return s[lo]! + (at - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]!) - s[lo]!);
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

/** One timed run over a chunk of the files: wall seconds, and the process's CPU seconds where measured. */
interface Pass {
  seconds: number;
  cpu_seconds?: number;
}

/** A contender: runs files[a..b) when asked, so that the runs of all contenders can be interleaved. */
interface Contender {
  name: string;
  pass(a: number, b: number): Promise<Pass>;
  close(): Promise<void>;
}

/** Ours on this thread (the warm-up pass runs here); also returns the first clip's log-mel. */
function oursInProcess(files: string[]): { contender: Contender; first: Float32Array } {
  const ex = new LogMelExtractor(LOGMEL);
  const first = clipLogMel(files[0]!, ex).slice();
  for (const f of files) clipLogMel(f, ex); // warm-up (JIT, kernel memory)
  const out = new Float32Array(first.length); // reused from clip to clip, as in the features stage
  const pass = async (a: number, b: number): Promise<Pass> => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = a; i < b; i++) clipLogMel(files[i]!, ex, out);
    const c = process.cpuUsage(c0);
    return { seconds: (performance.now() - t0) / 1000, cpu_seconds: (c.user + c.system) / 1e6 };
  };
  return { contender: { name: 'ours, 1 thread (wasm SIMD kernel)', pass, close: async () => {} }, first };
}

/**
 * Ours on N worker threads (stage-kit's orderedPool), after a warm-up pass. As in the features
 * stage, each clip's output buffer goes to a worker and comes back with the result, to be reused.
 */
async function oursWorkers(files: string[], first: Float32Array): Promise<Contender> {
  const ex = new LogMelExtractor(LOGMEL);
  const spare: Float32Array[] = [];
  const pool = orderedPool<Float32Array>({
    workers: WORKERS,
    entry: new URL('./clip-worker.mjs', import.meta.url),
    inline: (t) => clipLogMel((t as ClipTask).path, ex, (t as ClipTask).out),
  });
  const run = (chunk: string[]) =>
    pool.map(chunk, {
      task: (path) => {
        const out = spare.pop() ?? new Float32Array(first.length);
        return { message: { path, out } satisfies ClipTask, transfer: [out.buffer as ArrayBuffer] };
      },
      onResult: (y, f) => {
        if (f === files[0] && !Buffer.from(y.buffer, y.byteOffset, y.byteLength).equals(Buffer.from(first.buffer))) throw new Error('worker output differs from the in-process output');
        spare.push(y);
      },
      describe: (f) => f,
    });
  await run(files); // warm-up: thread start, JIT
  const pass = async (a: number, b: number): Promise<Pass> => {
    const t0 = performance.now();
    await run(files.slice(a, b));
    return { seconds: (performance.now() - t0) / 1000 };
  };
  return { name: `ours, ${WORKERS} worker threads`, pass, close: () => pool.close() };
}

/**
 * bench_numpy.py as a server (one chunk per 'run A B' line) on one core (taskset when present) with one
 * BLAS thread, after its warm-up pass. `peakRss()` is known once it is closed.
 */
async function python(name: string, listFile: string, extra: string[]): Promise<Contender & { peakRss(): number }> {
  const pin = spawnSync('taskset', ['--version']).status === 0 ? ['taskset', '-c', '0'] : [];
  const args = [...pin, 'python3', join(here, 'bench_numpy.py'), '--list', listFile, ...extra];
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  // Tuning overrides of OpenBLAS meant for other software would skew the comparison.
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const child = spawn(args[0]!, args.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, number | boolean>> => {
    const r = await lines.next();
    if (r.done) throw new Error(`${name}: bench_numpy.py ended: ${stderr.trim().split('\n').pop() ?? 'no output'}`);
    return JSON.parse(r.value) as Record<string, number | boolean>;
  };
  await next(); // {"ready": true}
  let rss = NaN;
  return {
    name,
    pass: async (a, b) => {
      child.stdin.write(`run ${a} ${b}\n`);
      return (await next()) as unknown as Pass;
    },
    close: async () => {
      child.stdin.end();
      rss = (await next())['max_rss_mib'] as number;
    },
    peakRss: () => rss,
  };
}

/**
 * The CPU model, with its family/model numbers and widest vector extension where /proc/cpuinfo
 * says (a VM's model name alone, e.g. "AMD EPYC", does not tell its generations apart, and NumPy's
 * speed depends on AVX-512 while wasm SIMD is 128-bit everywhere).
 */
function cpuName(): string {
  const name = cpus()[0]?.model ?? 'unknown CPU';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (k: string) => new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm').exec(info)?.[1];
    const flags = field('flags') ?? '';
    const simd = /\bavx512f\b/.test(flags) ? 'AVX-512' : /\bavx2\b/.test(flags) ? 'AVX2' : 'SSE';
    return `${name}, family ${field('cpu family') ?? '?'} model ${field('model') ?? '?'}, ${simd}`;
  } catch {
    return name;
  }
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
  const cpu = cpuName();
  console.log(`${source}; ${REPEATS} passes in rounds of ${CHUNK} clips, every run timed on each round in turn; window ${OFFSET}+${DURATION} s at ${SR} Hz; n_fft 1024, win 512, hop 256, 128 mels`);
  console.log(`${availableParallelism()} cores (${cpu}); node ${process.version}`);

  const { contender: one, first } = oursInProcess(files);
  const rssOne = process.resourceUsage().maxRSS / 1024;
  const many = await oursWorkers(files, first);
  const rssMany = process.resourceUsage().maxRSS / 1024;
  const dump = join(tmp, 'first.npy');
  const npVersion = execFileSync('python3', ['-c', 'import numpy, scipy; print(f"NumPy {numpy.__version__}, SciPy {scipy.__version__}")'], { encoding: 'utf8' }).trim();
  const np = await python(`${npVersion}, tight, 1 core`, listFile, ['--dump', dump]);
  const hasLibrosa = spawnSync('python3', ['-c', 'import librosa'], { encoding: 'utf8' }).status === 0;
  const librosaVersion = hasLibrosa ? execFileSync('python3', ['-c', 'import librosa; print(librosa.__version__)'], { encoding: 'utf8' }).trim() : '';
  const lr = hasLibrosa ? await python(`librosa ${librosaVersion} (melspectrogram + power_to_db), 1 core`, listFile, ['--librosa']) : undefined;

  // Interleaved rounds: the machine's speed drifts within seconds, so the clips are cut into
  // chunks of CHUNK, every contender runs each chunk in turn (in a rotating order), and each ratio
  // is taken within a round; REPEATS passes over all the chunks.
  const contenders = [one, many, np, ...(lr ? [lr] : [])];
  const passes = new Map<Contender, Pass[]>(contenders.map((c) => [c, []]));
  let round = 0;
  for (let rep = 0; rep < REPEATS; rep++) {
    for (let a = 0; a < files.length; a += CHUNK, round++) {
      for (let k = 0; k < contenders.length; k++) {
        const c = contenders[(round + k) % contenders.length]!;
        const b = Math.min(files.length, a + CHUNK);
        const p = await c.pass(a, b);
        passes.get(c)!.push(p);
        if (TRACE) console.log(`round ${round}: ${c.name}: ${((b - a) / p.seconds).toFixed(1)} clips/s`);
      }
    }
  }
  // Scaling over worker threads as the stage sees it: whole passes (no chunk boundaries, where a
  // worker waits for the other's last clip), 1 thread and N workers in turn.
  const scaling: number[] = [];
  for (let rep = 0; rep < REPEATS; rep++) {
    const single = await one.pass(0, files.length);
    scaling.push(single.seconds / (await many.pass(0, files.length)).seconds);
  }
  for (const c of contenders) await c.close();

  type Key = 'seconds' | 'cpu_seconds';
  // Throughput over all rounds: clips / summed seconds.
  const rate = (c: Contender, key: Key): number => {
    const ps = passes.get(c)!;
    return ps.some((p) => p[key] === undefined) ? NaN : (REPEATS * files.length) / ps.reduce((t, p) => t + p[key]!, 0);
  };
  // Per-round ratios of a's throughput to b's (the same clips, seconds apart).
  const ratios = (a: Contender, ka: Key, b: Contender, kb: Key): number[] => {
    const pb = passes.get(b)!;
    return passes.get(a)!.map((p, i) => (p[ka] === undefined || pb[i]![kb] === undefined ? NaN : pb[i]![kb]! / p[ka]!));
  };
  const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
  const x = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : '-');
  // "1.35x (1.28-1.41)": the median of the per-round ratios and their middle half.
  const spread = (vs: number[]) => (vs.every(Number.isFinite) ? `${x(quantile(vs, 0.5))} (${quantile(vs, 0.25).toFixed(2)}-${quantile(vs, 0.75).toFixed(2)})` : '-');
  const rows: string[][] = [];
  const add = (c: Contender, rss: number, perCore: boolean) => {
    rows.push([
      c.name,
      f1(rate(c, 'seconds')),
      f1(rate(c, 'cpu_seconds')),
      lr && perCore ? spread(ratios(c, 'cpu_seconds', lr, 'cpu_seconds')) : '-',
      lr ? spread(ratios(c, 'seconds', lr, 'seconds')) : '-',
      `${rss.toFixed(0)} MiB`,
    ]);
  };
  add(one, rssOne, true);
  add(many, rssMany, false);
  add(np, np.peakRss(), true);
  if (lr) add(lr, lr.peakRss(), true);
  else rows.push(['librosa: not importable (../shared/tools/setup-librosa.sh builds it offline and prints the PYTHONPATH)', '-', '-', '-', '-', '-']);
  console.log('');
  console.log('| run | clips/s (wall) | clips/s (CPU time) | vs librosa, per core (CPU): per-round median (middle half) | vs librosa (wall), per round | peak RSS |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log('');
  console.log(`${WORKERS} workers vs 1 thread (wall), whole passes in turn: ${spread(scaling)}; in the rounds above: ${spread(ratios(many, 'seconds', one, 'seconds'))}`);
  const ref = decodeNpy(readFileSync(dump)).data;
  let e = 0;
  for (let i = 0; i < ref.length; i++) e = Math.max(e, Math.abs(ref[i]! - first[i]!));
  console.log(`same maths check (first clip): max |dB(ours) - dB(NumPy)| = ${e.toExponential(2)} dB`);
}

try {
  await main();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
