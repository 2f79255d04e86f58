// Throughput of ingest's per-file work with resampling (decode + 48 -> 16 kHz, the stage's own
// decodeFile): one thread (wall and CPU time) and N worker threads (wall, the stage's pool and
// worker entry), on the same clips; peak RSS. Real corpus when RAVDESS_DIR is set, else generated
// 48 kHz WAVs.
//
//   npm run bench -w packages/ingest     # env: BENCH_CLIPS (240), BENCH_REPEATS (3), BENCH_WORKERS (auto), BENCH_RATE (16000)
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '@ser/audio';
import { orderedPool, workersFromEnv } from '@ser/stage-kit';
import { decodeFile, type DecodeOutcome, type DecodeTask } from '../src/decode.ts';

const CLIPS = Number(process.env.BENCH_CLIPS ?? 240);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const WORKERS = workersFromEnv('BENCH_WORKERS');
const RATE = Number(process.env.BENCH_RATE ?? 16000);
const tmp = mkdtempSync(join(tmpdir(), 'ser-ingest-bench-'));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function listFiles(): string[] {
  const dir = process.env.RAVDESS_DIR;
  if (dir) {
    return (readdirSync(dir, { recursive: true }) as string[])
      .filter((f) => /(^|\/)03-01-[^/]*\.wav$/.test(f))
      .map((f) => join(dir, f))
      .sort()
      .slice(0, CLIPS);
  }
  return Array.from({ length: Math.min(CLIPS, 60) }, (_, i) => {
    const x = Float32Array.from({ length: 48000 * 3.7 }, (_, t) => 0.3 * Math.sin((2 * Math.PI * (150 + i) * t) / 48000));
    const path = join(tmp, `gen-${i}.wav`);
    writeFileSync(path, encodeWav([x], { sampleRate: 48000 }));
    return path;
  });
}

async function main(): Promise<void> {
  const files = listFiles();
  const tasks: DecodeTask[] = files.map((path) => ({ path, sampleRate: RATE }));
  console.log(`${files.length} ${process.env.RAVDESS_DIR ? 'real RAVDESS' : 'generated'} clips -> ${RATE} Hz; ${REPEATS} timed repeats (median)`);
  console.log(`${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}); node ${process.version}`);
  const pool = (workers: number) => orderedPool<DecodeOutcome>({ workers, entry: new URL('../src/decode-worker.mjs', import.meta.url), inline: (t) => decodeFile(t as DecodeTask) });
  const results: { name: string; wall: number; cpu: number; rss: number }[] = [];
  let firstBytes: Buffer | null = null;
  for (const workers of [1, WORKERS]) {
    const p = pool(workers);
    const pass = () =>
      p.map(tasks, {
        task: (t) => ({ message: t }),
        onResult: (o, _t, i) => {
          if ('error' in o) throw new Error(o.error);
          if (i !== 0) return;
          const b = Buffer.from(o.audio.buffer, o.audio.byteOffset, o.audio.byteLength);
          if (firstBytes === null) firstBytes = Buffer.from(b);
          else if (!firstBytes.equals(b)) throw new Error(`${workers} workers: first clip differs from the one-thread run`);
        },
        describe: (t) => t.path,
      });
    try {
      await pass(); // warm-up: thread start, JIT
      const walls: number[] = [];
      const cpu: number[] = [];
      for (let r = 0; r < REPEATS; r++) {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        await pass();
        const c = process.cpuUsage(c0);
        walls.push(files.length / ((performance.now() - t0) / 1000));
        cpu.push(files.length / ((c.user + c.system) / 1e6));
      }
      results.push({ name: workers === 1 ? '1 thread (in-process)' : `${workers} worker threads`, wall: median(walls), cpu: median(cpu), rss: process.resourceUsage().maxRSS / 1024 });
    } finally {
      await p.close();
    }
  }
  console.log('');
  console.log('| run | clips/s (wall) | clips/s (CPU time, all threads) | peak RSS |');
  console.log('|---|---|---|---|');
  for (const r of results) console.log(`| ${r.name} | ${r.wall.toFixed(1)} | ${r.cpu.toFixed(1)} | ${r.rss.toFixed(0)} MiB |`);
  console.log('');
  console.log(`${WORKERS} workers vs 1 thread (wall): ${(results[1]!.wall / results[0]!.wall).toFixed(2)}x; outputs of the first clip byte-identical`);
}

try {
  await main();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
