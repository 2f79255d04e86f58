import { describe, expect, it } from 'vitest';
import { accuracyBy, accuracyByClassAndGroup, confusionMatrix, formatConfusion, metricsFromConfusion } from '../src/core.ts';

const LABELS = ['neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised'];

/** A confusion matrix with the paper's Table II diagonal and row totals; the errors of each row
 * go to the next class (mod 8), so column sums are known too. */
function tableII(): number[][] {
  const correct = [7, 20, 19, 12, 18, 15, 13, 16];
  const total = [10, 20, 20, 20, 20, 19, 18, 20];
  return correct.map((c, i) => {
    const row = new Array(8).fill(0);
    row[i] = c;
    row[(i + 1) % 8] += total[i]! - c;
    return row;
  });
}

describe('metricsFromConfusion', () => {
  it("reproduces the paper's Table II (120 correct of 147)", () => {
    const m = metricsFromConfusion(tableII(), LABELS);
    expect(m.correct).toBe(120);
    expect(m.total).toBe(147); // the table's totals sum to 147 (20+10+20+20+20+20+19+18)
    expect(m.accuracy).toBeCloseTo(120 / 147, 12);
    const pct = m.per_class.map((c) => Math.round(c.accuracy! * 10000) / 100);
    expect(pct).toEqual([70, 100, 95, 60, 90, 78.95, 72.22, 80]);
    // Precision of "calm": 20 correct; column holds neutral's 3 errors -> 20/23.
    expect(m.per_class[1]!.precision).toBeCloseTo(20 / 23, 12);
    expect(m.per_class[1]!.predicted).toBe(23);
    // F1 of neutral: p = 7/(7+4 surprised errors) = 7/11, r = 0.7
    const p = 7 / 11;
    expect(m.per_class[0]!.f1).toBeCloseTo((2 * p * 0.7) / (p + 0.7), 12);
    // weighted recall == accuracy; macro recall is the mean of the Table II accuracies
    expect(m.weighted.recall).toBeCloseTo(120 / 147, 12);
    expect(m.macro.recall).toBeCloseTo((0.7 + 1 + 0.95 + 0.6 + 0.9 + 15 / 19 + 13 / 18 + 0.8) / 8, 12);
  });

  it('gives 0 precision for a never-predicted class and null accuracy for an empty one', () => {
    const m = metricsFromConfusion([[2, 0], [1, 0]], ['a', 'b']);
    expect(m.per_class[1]!.precision).toBe(0);
    expect(m.per_class[1]!.f1).toBe(0);
    const e = metricsFromConfusion([[0, 0], [0, 3]], ['a', 'b']);
    expect(e.per_class[0]!.accuracy).toBeNull();
    expect(e.accuracy).toBe(1);
  });
});

describe('confusionMatrix and accuracyBy', () => {
  it('counts [true][pred] and groups accuracy by a label', () => {
    const yT = [0, 0, 1, 2, 2, 2];
    const yP = [0, 1, 1, 2, 0, 2];
    expect(confusionMatrix(yT, yP, 3)).toEqual([[1, 1, 0], [0, 1, 0], [1, 0, 2]]);
    const g = ['normal', 'strong', 'strong', 'normal', 'normal', 'strong'];
    expect(accuracyBy(yT, yP, g, ['normal', 'strong'])).toEqual({
      normal: { correct: 2, total: 3, accuracy: 2 / 3 },
      strong: { correct: 2, total: 3, accuracy: 2 / 3 },
    });
    expect(() => confusionMatrix([0, 9], [0, 0], 3)).toThrow(/row 1/);
  });
});

describe('formatConfusion', () => {
  it('prints rows = true emotion, columns = predicted, aligned, with row totals', () => {
    const lines = formatConfusion(tableII(), LABELS);
    expect(lines).toHaveLength(9);
    const header = lines[0]!.split(/\s{2,}/);
    expect(header).toEqual(['true \\ predicted', ...LABELS, 'total']);
    // neutral: 7 right, 3 predicted calm; surprised: 16 right, 4 predicted neutral (next class mod 8).
    expect(lines[1]!.split(/\s+/)).toEqual(['neutral', '7', '3', '0', '0', '0', '0', '0', '0', '10']);
    expect(lines[8]!.split(/\s+/)).toEqual(['surprised', '4', '0', '0', '0', '0', '0', '0', '16', '20']);
    // Every line has the same width and each count ends under the end of its column's label.
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    const end = (l: string, label: string) => lines[0]!.indexOf(label) + label.length;
    expect(lines[8]![end(lines[0]!, 'surprised') - 1]).toBe('6');
    expect(lines[1]![end(lines[0]!, 'neutral') - 1]).toBe('7');
  });
});

describe('accuracyByClassAndGroup', () => {
  it('counts each class within each group, then all classes per group (= accuracyBy)', () => {
    const yT = [0, 0, 1, 1, 1, 2];
    const yP = [0, 1, 1, 1, 0, 2];
    const g = ['strong', 'normal', 'normal', 'strong', 'strong', 'normal'];
    const rows = accuracyByClassAndGroup(yT, yP, g, ['a', 'b', 'c'], ['normal', 'strong']);
    expect(rows).toEqual([
      { label: 'a', group: 'normal', correct: 0, total: 1, accuracy: 0 },
      { label: 'a', group: 'strong', correct: 1, total: 1, accuracy: 1 },
      { label: 'b', group: 'normal', correct: 1, total: 1, accuracy: 1 },
      { label: 'b', group: 'strong', correct: 1, total: 2, accuracy: 0.5 },
      { label: 'c', group: 'normal', correct: 1, total: 1, accuracy: 1 },
      { label: 'c', group: 'strong', correct: 0, total: 0, accuracy: null },
      { label: 'all', group: 'normal', correct: 2, total: 3, accuracy: 2 / 3 },
      { label: 'all', group: 'strong', correct: 2, total: 3, accuracy: 2 / 3 },
    ]);
    const by = accuracyBy(yT, yP, g, ['normal', 'strong']);
    expect(rows.filter((r) => r.label === 'all').map(({ correct, total, accuracy }) => ({ correct, total, accuracy }))).toEqual([by['normal'], by['strong']]);
  });
});
