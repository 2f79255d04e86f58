// Quick learnability check of the synthetic corpus (not a test): a nearest-centroid classifier
// on each clip's mean log-mel spectrum (64 bands, the 0.5-3.5 s window the pipeline uses), with
// z-scored features. Reports leave-one-actor-out and random 80/20 accuracy (chance 12.5 %).
// Clips are synthesized in memory at 16 kHz (the demo's ingest rate) for speed.
// Usage: npx tsx packages/generate/bench/learnability.ts [seed=7] [actors=24]
import { LogMelExtractor, segmentWindow } from '@ser/audio';
import { Prng, corpusClips, synthesizeClip } from '../src/index.ts';

const seed = Number(process.argv[2] ?? 7);
const actors = Number(process.argv[3] ?? 24);
const fs = 16000;
const nMels = 64;
const lm = new LogMelExtractor({ sampleRate: fs, nFft: 1024, winLength: 512, hopLength: 256, nMels, fmin: 0, fmax: fs / 2, ref: 1, amin: 1e-10, topDb: null });
const clips = corpusClips(actors, 60);
const X: Float64Array[] = [];
const t0 = performance.now();
for (const c of clips) {
  const x = segmentWindow(synthesizeClip(seed, c, fs), fs, 0.5, 3.0);
  const m = lm.extract(x);
  const frames = m.length / nMels;
  const v = new Float64Array(nMels);
  for (let b = 0; b < nMels; b++) {
    let s = 0;
    for (let t = 0; t < frames; t++) s += m[b * frames + t]!;
    v[b] = s / frames;
  }
  X.push(v);
}
const y = clips.map((c) => c.emotion - 1);

const confusion = Array.from({ length: 8 }, () => new Array<number>(8).fill(0));

/** Accuracy of nearest centroid (features z-scored on the training rows); adds to `conf`. */
function nearestCentroid(train: number[], test: number[], conf?: number[][]): number {
  const d = nMels;
  const mu = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const i of train) for (let k = 0; k < d; k++) mu[k]! += X[i]![k]! / train.length;
  for (const i of train) for (let k = 0; k < d; k++) sd[k]! += (X[i]![k]! - mu[k]!) ** 2 / train.length;
  for (let k = 0; k < d; k++) sd[k] = Math.sqrt(sd[k]!) || 1;
  const z = (i: number): Float64Array => X[i]!.map((v, k) => (v - mu[k]!) / sd[k]!);
  const cent = Array.from({ length: 8 }, () => new Float64Array(d));
  const cnt = new Array(8).fill(0);
  for (const i of train) {
    const zi = z(i);
    cnt[y[i]!]++;
    for (let k = 0; k < d; k++) cent[y[i]!]![k]! += zi[k]!;
  }
  cent.forEach((c, e) => c.forEach((_, k) => (c[k]! /= cnt[e])));
  let ok = 0;
  for (const i of test) {
    const zi = z(i);
    let best = 0;
    let bestD = Infinity;
    cent.forEach((c, e) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += (zi[k]! - c[k]!) ** 2;
      if (s < bestD) [bestD, best] = [s, e];
    });
    if (best === y[i]) ok++;
    if (conf) conf[y[i]!]![best]!++;
  }
  return ok / test.length;
}

let loao = 0;
for (let a = 1; a <= actors; a++) {
  const tr = clips.flatMap((c, i) => (c.actor !== a ? [i] : []));
  const te = clips.flatMap((c, i) => (c.actor === a ? [i] : []));
  loao += nearestCentroid(tr, te, confusion) / actors;
}
const idx = clips.map((_, i) => i);
const rng = new Prng('learnability-split');
for (let i = idx.length - 1; i > 0; i--) {
  const j = Math.floor(rng.next() * (i + 1));
  [idx[i], idx[j]] = [idx[j]!, idx[i]!];
}
const cut = Math.round(0.8 * idx.length);
const rand = nearestCentroid(idx.slice(0, cut), idx.slice(cut));
console.log(`seed ${seed}, ${clips.length} clips (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
console.log(`nearest centroid on mean log-mel: leave-one-actor-out ${(100 * loao).toFixed(1)} %, random 80/20 ${(100 * rand).toFixed(1)} % (chance 12.5 %)`);
console.log('leave-one-actor-out confusion (rows: true, columns: predicted, % of row):');
const names = ['neu', 'cal', 'hap', 'sad', 'ang', 'fea', 'dis', 'sur'];
console.log('     ' + names.map((n) => n.padStart(5)).join(''));
confusion.forEach((row, e) => {
  const n = row.reduce((a, b) => a + b, 0);
  console.log(names[e]!.padEnd(5) + row.map((v) => ((100 * v) / n).toFixed(0).padStart(5)).join(''));
});
