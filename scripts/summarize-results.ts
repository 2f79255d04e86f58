// Summarises the seeds of one profile recorded under results/<profile>/seed-<n>/: mean and sample
// standard deviation of test accuracy and macro F1, each seed's figures, per-emotion counts
// (summed over seeds, next to the paper's Table II), intensity and gender, and the training
// curves as an SVG. Writes results/<profile>/summary.json, summary.md and curves.svg.
//
//   npx tsx scripts/summarize-results.ts <profile>
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const EMOTIONS = ['neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised'];
/** Table II of the paper (correct / total per emotion, 120/147 in all). */
const PAPER: Record<string, [number, number]> = {
  neutral: [7, 10], calm: [20, 20], happy: [19, 20], sad: [12, 20], angry: [18, 20], fearful: [15, 19], disgust: [13, 18], surprised: [16, 20],
};

interface Tally { correct: number; total: number }
interface Evaluate {
  accuracy: number;
  correct: number;
  total: number;
  macro: { f1: number };
  per_emotion: Record<string, Tally>;
  by_intensity: Record<string, Tally>;
  by_gender: Record<string, Tally>;
}
interface HistoryRow { epoch: number; loss: number; acc: number; val_loss: number; val_acc: number }

function fail(msg: string): never {
  process.stderr.write(`summarize-results: ${msg}\n`);
  process.exit(1);
}

const profile = process.argv[2] ?? fail('usage: summarize-results <profile>');
const dir = join('results', profile);
if (!existsSync(dir)) fail(`${dir} does not exist: record runs first (scripts/seeds.sh or scripts/record-results.ts)`);
const seedDirs = readdirSync(dir).filter((d) => /^seed-\d+$/.test(d)).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
if (seedDirs.length === 0) fail(`${dir} has no seed-<n> folders`);
const read = <T>(d: string, f: string): T => JSON.parse(readFileSync(join(dir, d, f), 'utf8')) as T;
const runs = seedDirs.map((d) => ({
  seed: Number(d.slice(5)),
  evaluate: read<Evaluate>(d, 'evaluate-metrics.json'),
  history: read<{ epochs: HistoryRow[] }>(d, 'history.json').epochs,
  run: read<{ commit: string; wall_time_s: number; train_time_s?: number; backend: string; machine?: { cpu: string; cores: number } }>(d, 'run.json'),
}));

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Sample standard deviation (n - 1); 0 for one value. */
const std = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const sum = (f: (e: Evaluate) => Tally): Tally =>
  runs.reduce((t, r) => ({ correct: t.correct + f(r.evaluate).correct, total: t.total + f(r.evaluate).total }), { correct: 0, total: 0 });

const acc = runs.map((r) => r.evaluate.accuracy);
const f1 = runs.map((r) => r.evaluate.macro.f1);
const summary = {
  profile,
  seeds: runs.map((r) => r.seed),
  accuracy: { mean: mean(acc), std: std(acc) },
  macro_f1: { mean: mean(f1), std: std(f1) },
  per_seed: runs.map((r) => ({
    seed: r.seed,
    accuracy: r.evaluate.accuracy,
    correct: r.evaluate.correct,
    total: r.evaluate.total,
    macro_f1: r.evaluate.macro.f1,
    best_epoch: r.history.reduce((b, h) => (h.val_loss < b.val_loss ? h : b)).epoch,
    epochs: r.history.length,
    wall_time_s: r.run.wall_time_s,
    train_time_s: r.run.train_time_s ?? null, // the train stage alone, when recorded
    commit: r.run.commit,
    backend: r.run.backend,
  })),
  per_emotion: Object.fromEntries(EMOTIONS.map((e) => [e, sum((x) => x.per_emotion[e]!)])),
  by_intensity: { normal: sum((x) => x.by_intensity['normal']!), strong: sum((x) => x.by_intensity['strong']!) },
  by_gender: { male: sum((x) => x.by_gender['male']!), female: sum((x) => x.by_gender['female']!) },
};
writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

const tallyPct = (t: Tally) => `${pct(t.correct / t.total)} (${t.correct}/${t.total})`;
const md = [
  `# ${profile}: ${runs.length} seed(s)`,
  '',
  `Test accuracy **${pct(summary.accuracy.mean)} ± ${pct(summary.accuracy.std)}** (mean ± sample std over seeds ${summary.seeds.join(', ')}), ` +
    `macro F1 ${summary.macro_f1.mean.toFixed(3)} ± ${summary.macro_f1.std.toFixed(3)}.`,
  '',
  '| seed | test accuracy | macro F1 | best epoch / epochs | train stage (s) | wall (s) | commit |',
  '|---|---|---|---|---|---|---|',
  ...summary.per_seed.map(
    (s) =>
      `| ${s.seed} | ${pct(s.accuracy)} (${s.correct}/${s.total}) | ${s.macro_f1.toFixed(3)} | ${s.best_epoch} / ${s.epochs} | ` +
      `${s.train_time_s === null ? '-' : Math.round(s.train_time_s)} | ${s.wall_time_s} | ${s.commit.slice(0, 10)} |`,
  ),
  '',
  `Per emotion, correct/total summed over the ${runs.length} seeds, and the paper's Table II (one run):`,
  '',
  `| emotion | paper | ${profile} (all seeds) |`,
  '|---|---|---|',
  ...EMOTIONS.map((e) => `| ${e} | ${PAPER[e]![0]}/${PAPER[e]![1]} | ${summary.per_emotion[e]!.correct}/${summary.per_emotion[e]!.total} |`),
  '',
  `Intensity: normal ${tallyPct(summary.by_intensity.normal)}, strong ${tallyPct(summary.by_intensity.strong)}. ` +
    `Gender: male ${tallyPct(summary.by_gender.male)}, female ${tallyPct(summary.by_gender.female)}.`,
  '',
  '![training curves](curves.svg)',
  '',
];
writeFileSync(join(dir, 'summary.md'), md.join('\n'));
writeFileSync(join(dir, 'curves.svg'), curvesSvg(runs.map((r) => ({ seed: r.seed, history: r.history }))));
process.stdout.write(`${dir}: summary.json, summary.md, curves.svg; accuracy ${pct(summary.accuracy.mean)} ± ${pct(summary.accuracy.std)} over ${runs.length} seed(s)\n`);

/** Two panels: loss (train dashed, val solid) and accuracy (train dashed, val solid), one colour per seed. */
function curvesSvg(series: { seed: number; history: HistoryRow[] }[]): string {
  const W = 360;
  const H = 240;
  const pad = { l: 44, r: 10, t: 24, b: 30 };
  const colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
  const maxEpoch = Math.max(...series.map((s) => s.history.length));
  const panel = (x0: number, title: string, keys: [keyof HistoryRow, keyof HistoryRow], lo: number, hi: number) => {
    const sx = (e: number) => x0 + pad.l + ((e - 1) / Math.max(1, maxEpoch - 1)) * (W - pad.l - pad.r);
    const sy = (v: number) => pad.t + (1 - (v - lo) / (hi - lo)) * (H - pad.t - pad.b);
    const out = [`<text x="${x0 + W / 2}" y="16" text-anchor="middle" font-size="13">${title}</text>`];
    for (let k = 0; k <= 4; k++) {
      const v = lo + ((hi - lo) * k) / 4;
      out.push(`<line x1="${x0 + pad.l}" x2="${x0 + W - pad.r}" y1="${sy(v)}" y2="${sy(v)}" stroke="#ddd"/>`);
      out.push(`<text x="${x0 + pad.l - 4}" y="${sy(v) + 4}" text-anchor="end" font-size="10">${v.toFixed(2)}</text>`);
    }
    out.push(`<text x="${x0 + W / 2}" y="${H - 6}" text-anchor="middle" font-size="11">epoch (1-${maxEpoch})</text>`);
    series.forEach((s, i) => {
      keys.forEach((key, j) => {
        const pts = s.history.map((h) => `${sx(h.epoch).toFixed(1)},${sy(Math.min(hi, Math.max(lo, h[key] as number))).toFixed(1)}`).join(' ');
        out.push(`<polyline fill="none" stroke="${colours[i % colours.length]}" stroke-width="1.5"${j === 0 ? ' stroke-dasharray="4 3"' : ''} points="${pts}"/>`);
      });
    });
    return out.join('\n');
  };
  const maxLoss = Math.ceil(Math.max(...series.flatMap((s) => s.history.flatMap((h) => [h.loss, h.val_loss]).filter(Number.isFinite))) * 2) / 2;
  const legend = series
    .map((s, i) => `<text x="${2 * W + 8}" y="${40 + 16 * i}" font-size="11" fill="${colours[i % colours.length]}">seed ${s.seed}</text>`)
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W + 80}" height="${H}" font-family="sans-serif">`,
    '<rect width="100%" height="100%" fill="white"/>',
    panel(0, 'loss (dashed: train, solid: val)', ['loss', 'val_loss'], 0, maxLoss),
    panel(W, 'accuracy (dashed: train, solid: val)', ['acc', 'val_acc'], 0, 1),
    legend,
    `<text x="${2 * W + 8}" y="${40 + 16 * series.length + 8}" font-size="10">dashed: train</text>`,
    '</svg>',
    '',
  ].join('\n');
}
