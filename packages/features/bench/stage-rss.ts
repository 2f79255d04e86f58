// Peak RSS (and wall time) of `ser-features stage` on a full-size input: by default generated
// augment-like files with RSS_CLIPS rows (1440: 1152 train / 144 val / 144 test) of 3 s at 48 kHz,
// or an existing augment folder with RSS_IN_DIR. Uses /usr/bin/time -v (GNU time).
//
//   npm run bench:rss -w packages/features            # env: RSS_CLIPS, RSS_IN_DIR
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TensorFileWriter, type TensorSchema } from '@ser/tensor-io';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'packages/features/bin/ser-features.mjs');
const SR = 48000;
const SAMPLES = 3 * SR;
const CLIPS = Number(process.env.RSS_CLIPS ?? 1440);
const PARAMS = { features: { n_fft: 1024, win_length: 512, hop_length: 256, n_mels: 128, fmin: 0, fmax: null, ref: 'max', amin: 1e-10, top_db: 80, scaler: 'per_element' } };

async function makeInputs(dir: string): Promise<void> {
  const schema: TensorSchema = {
    columns: [{ name: 'id', type: 'utf8' }, { name: 'actor', type: 'int32' }, { name: 'emotion', type: 'int32' }],
    shape: [SAMPLES],
    metadata: { sample_rate: String(SR), segment_offset: '0.5', segment_duration: '3' },
  };
  // 16 distinct base signals, scaled per row: cheap to make, realistic spectra.
  const bases = Array.from({ length: 16 }, (_, b) => {
    const x = new Float32Array(SAMPLES);
    let s = b + 1;
    for (let i = 0; i < SAMPLES; i++) {
      s = (s * 1103515245 + 12345) % 2147483648;
      x[i] = 0.2 * Math.sin((2 * Math.PI * (110 + 20 * b) * i) / SR) + 0.02 * (s / 2147483648 - 0.5);
    }
    return x;
  });
  const nTrain = Math.round(CLIPS * 0.8);
  const nVal = Math.round(CLIPS * 0.1);
  const counts: Record<string, number> = { train: nTrain, val: nVal, test: CLIPS - nTrain - nVal };
  let k = 0;
  for (const [split, n] of Object.entries(counts)) {
    const w = await TensorFileWriter.open(join(dir, `${split}.arrow`), schema);
    for (let i = 0; i < n; i++, k++) {
      const x = bases[k % 16]!.map((v) => v * (0.5 + (k % 7) / 7));
      await w.write({ labels: { id: `${split}-${i}`, actor: 1 + (k % 24), emotion: k % 8 }, tensor: x });
    }
    await w.close();
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'ser-rss-'));
try {
  // npm runs scripts in the package folder; a relative RSS_IN_DIR is relative to where npm was called.
  let inDir = process.env.RSS_IN_DIR ? resolve(process.env.INIT_CWD ?? process.cwd(), process.env.RSS_IN_DIR) : undefined;
  if (!inDir) {
    inDir = join(tmp, 'augment');
    const t0 = Date.now();
    await makeInputs(inDir);
    console.log(`generated ${CLIPS} rows of ${SAMPLES} samples in ${inDir} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  const inBytes = ['train', 'val', 'test'].reduce((a, s) => a + (existsSync(join(inDir!, `${s}.arrow`)) ? statSync(join(inDir!, `${s}.arrow`)).size : 0), 0);
  const outDir = join(tmp, 'features');
  const env = { ...process.env, PIPELINE_PARAMS: process.env.RSS_IN_DIR ? '' : JSON.stringify(PARAMS) };
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, BIN, 'stage', '--in-dir', inDir, '--out-dir', outDir], { encoding: 'utf8', env, cwd: ROOT });
  if (r.status !== 0) throw new Error(`ser-features stage failed:\n${r.stderr}`);
  const field = (name: string) => new RegExp(`${name}: (.*)`).exec(r.stderr)?.[1]?.trim();
  const rssKb = Number(field('Maximum resident set size \\(kbytes\\)'));
  console.log(r.stdout.trim().split('\n').pop());
  console.log(`input ${(inBytes / 2 ** 20).toFixed(0)} MiB; peak RSS ${(rssKb / 1024).toFixed(0)} MiB; wall ${field('Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)')}; user ${field('User time \\(seconds\\)')} s`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
