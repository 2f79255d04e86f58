// Pure classification metrics: confusion matrix -> accuracy (Eq. 12), Table II rows,
// precision/recall/F1 with macro and weighted averages, and accuracy by a grouping label.

/** Counts of one slice: correct predictions, samples, and their ratio (null when total is 0). */
export interface Tally {
  correct: number;
  total: number;
  accuracy: number | null;
}

export interface ClassMetrics extends Tally {
  label: string; // class name, e.g. "happy"
  index: number; // class index 0..C-1
  predicted: number; // how many samples were predicted as this class (column sum)
  precision: number; // TP / predicted (0 when nothing was predicted, as sklearn's zero_division=0)
  recall: number; // TP / total (= Table II's accuracy; 0 when total is 0)
  f1: number; // harmonic mean of precision and recall (0 when both are 0)
}

export interface Averages {
  precision: number;
  recall: number;
  f1: number;
}

export interface ConfusionMetrics {
  accuracy: number | null; // Eq. 12: trace / sum, in [0, 1]
  correct: number;
  total: number;
  per_class: ClassMetrics[];
  macro: Averages; // unweighted mean over classes
  weighted: Averages; // mean weighted by each class's support (total)
  confusion: number[][]; // [true][predicted] counts
}

/** `confusion[t][p]` counts samples of true class t predicted as p (C x C). */
export function confusionMatrix(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, numClasses: number): number[][] {
  if (yTrue.length !== yPred.length) throw new Error(`yTrue has ${yTrue.length} entries, yPred ${yPred.length}`);
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i]!;
    const p = yPred[i]!;
    if (!(t >= 0 && t < numClasses && p >= 0 && p < numClasses)) throw new Error(`class index out of range at row ${i}: true ${t}, predicted ${p}`);
    m[t]![p]!++;
  }
  return m;
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);

export function metricsFromConfusion(confusion: number[][], labels: readonly string[]): ConfusionMetrics {
  const C = confusion.length;
  if (labels.length !== C || confusion.some((r) => r.length !== C)) throw new Error(`confusion must be ${labels.length}x${labels.length}`);
  const colSum = (j: number) => confusion.reduce((s, r) => s + r[j]!, 0);
  const per_class: ClassMetrics[] = confusion.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    const correct = row[i]!;
    const predicted = colSum(i);
    const precision = ratio(correct, predicted);
    const recall = ratio(correct, total);
    return {
      label: labels[i]!,
      index: i,
      correct,
      total,
      accuracy: total > 0 ? correct / total : null,
      predicted,
      precision,
      recall,
      f1: ratio(2 * precision * recall, precision + recall),
    };
  });
  const total = per_class.reduce((s, c) => s + c.total, 0);
  const correct = per_class.reduce((s, c) => s + c.correct, 0);
  const avg = (w: (c: ClassMetrics) => number): Averages => {
    const W = per_class.reduce((s, c) => s + w(c), 0);
    const mean = (f: (c: ClassMetrics) => number) => ratio(per_class.reduce((s, c) => s + w(c) * f(c), 0), W);
    return { precision: mean((c) => c.precision), recall: mean((c) => c.recall), f1: mean((c) => c.f1) };
  };
  return {
    accuracy: total > 0 ? correct / total : null,
    correct,
    total,
    per_class,
    macro: avg(() => 1),
    weighted: avg((c) => c.total),
    confusion: confusion.map((r) => [...r]),
  };
}

/** Accuracy per value of a grouping label (e.g. intensity or gender), keys in `order` first. */
export function accuracyBy(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  group: ArrayLike<string>,
  order: readonly string[] = [],
): Record<string, Tally> {
  const acc = new Map<string, { correct: number; total: number }>();
  for (const k of order) acc.set(k, { correct: 0, total: 0 });
  for (let i = 0; i < yTrue.length; i++) {
    const k = group[i]!;
    const t = acc.get(k) ?? { correct: 0, total: 0 };
    t.total++;
    if (yTrue[i] === yPred[i]) t.correct++;
    acc.set(k, t);
  }
  const out: Record<string, Tally> = {};
  for (const [k, t] of acc) out[k] = { ...t, accuracy: t.total > 0 ? t.correct / t.total : null };
  return out;
}

/** Counts of one class within one value of a grouping label. */
export interface ClassGroupTally extends Tally {
  label: string; // class name, or 'all' for every class of the group
  group: string; // value of the grouping label, e.g. "strong"
}

/**
 * Accuracy per class within each value of a grouping label (the paper's Figs. 6 and 7: per
 * emotion, normal vs strong intensity, male vs female): one row per (class, group) in `labels`
 * order and then the class 'all' (the same as `accuracyBy`); groups in `order` first.
 */
export function accuracyByClassAndGroup(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  group: ArrayLike<string>,
  labels: readonly string[],
  order: readonly string[] = [],
): ClassGroupTally[] {
  const groups = [...new Set([...order, ...Array.from(group)])];
  const rows: ClassGroupTally[] = [];
  for (const [c, label] of [...labels.map((l, i) => [i, l] as const), [-1, 'all'] as const]) {
    for (const g of groups) {
      let correct = 0;
      let total = 0;
      for (let i = 0; i < yTrue.length; i++) {
        if (group[i] !== g || (c >= 0 && yTrue[i] !== c)) continue;
        total++;
        if (yTrue[i] === yPred[i]) correct++;
      }
      rows.push({ label, group: g, correct, total, accuracy: total > 0 ? correct / total : null });
    }
  }
  return rows;
}

/** RAVDESS intensity code -> name (1 normal, 2 strong). */
export const intensityName = (code: number): string => (code === 1 ? 'normal' : code === 2 ? 'strong' : `intensity_${code}`);

/**
 * The confusion matrix as aligned text lines for the log: a header of predicted labels, then one
 * row per true label with its counts and row total (rows: true, columns: predicted).
 */
export function formatConfusion(confusion: number[][], labels: readonly string[]): string[] {
  const corner = 'true \\ predicted';
  const totals = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  const rowWidth = Math.max(corner.length, ...labels.map((l) => l.length));
  const colWidths = labels.map((l, j) => Math.max(l.length, ...confusion.map((row) => String(row[j] ?? 0).length)));
  const totalWidth = Math.max('total'.length, ...totals.map((t) => String(t).length));
  const line = (head: string, cells: string[], total: string) =>
    [head.padEnd(rowWidth), ...cells.map((c, j) => c.padStart(colWidths[j]!)), total.padStart(totalWidth)].join('  ');
  return [line(corner, [...labels], 'total'), ...labels.map((l, i) => line(l, labels.map((_, j) => String(confusion[i]?.[j] ?? 0)), String(totals[i])))];
}
