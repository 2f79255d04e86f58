import { describe, expect, it } from 'vitest';
import { PlotDataError, TEMPLATES, barSpec, confusionSpec, linearSpec, plotSpec, recordsOf, type VegaLiteSpec } from '../src/index.ts';
import { CLASSES, EPOCHS, byIntensity, confusion, history, perClass } from './fixtures.ts';

const values = (s: VegaLiteSpec) => (s.data as { values: Record<string, unknown>[] }).values;
const enc = (s: VegaLiteSpec) => s.encoding as Record<string, Record<string, unknown>>;

describe('recordsOf', () => {
  it('takes a list of records, or the one list an object holds', () => {
    expect(recordsOf(perClass)).toHaveLength(8);
    expect(recordsOf(history)).toHaveLength(EPOCHS);
  });
  it('names what it expected', () => {
    expect(() => recordsOf({ a: 1 })).toThrow(/expected a list of records, or an object holding one/);
    expect(() => recordsOf([1, 2])).toThrow(/list of records/);
    expect(() => recordsOf({ train: [{ a: 1 }], val: [{ a: 2 }] })).toThrow(/found 2 \(train, val\)/);
  });
});

describe('linearSpec', () => {
  const def = { template: 'linear' as const, x: 'epoch', y: ['loss', 'val_loss'], title: 'Loss' };

  it('one point per epoch and series, a colour per series, lines with points', () => {
    const s = linearSpec(def, [{ run: 'workspace', data: history }]);
    expect(values(s)).toHaveLength(EPOCHS * 2);
    expect(values(s)[1]).toEqual({ run: 'workspace', x: 1, series: 'val_loss', value: 2.1 });
    expect(s.mark).toMatchObject({ type: 'line', point: true });
    expect(enc(s).color).toMatchObject({ field: 'series', sort: ['loss', 'val_loss'] });
    expect(enc(s).strokeDash).toBeUndefined();
    expect(enc(s).x).toMatchObject({ field: 'x', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } });
    expect(s.title).toBe('Loss');
  });

  it('several runs: overlaid, a colour per run and a dash per series', () => {
    const s = linearSpec(def, [{ run: 'a', data: history }, { run: 'b', data: history }]);
    expect(values(s)).toHaveLength(2 * EPOCHS * 2);
    expect(enc(s).color).toMatchObject({ field: 'run', sort: ['a', 'b'] });
    expect(enc(s).strokeDash).toMatchObject({ field: 'series' });
  });

  it('skips values that are not numbers instead of drawing them as 0', () => {
    const rows = [{ epoch: 1, loss: 1 }, { epoch: 2, loss: null }, { epoch: 3, loss: 0.5 }];
    expect(values(linearSpec({ template: 'linear', x: 'epoch', y: ['loss'] }, [{ run: 'w', data: rows }])).map((v) => v.x)).toEqual([1, 3]);
  });

  it('a field the rows do not have: named, with the fields they have', () => {
    expect(() => linearSpec({ ...def, y: ['loss', 'val_los'] }, [{ run: 'HEAD', data: history }])).toThrow(
      new PlotDataError("y field 'val_los' is not in the rows of run 'HEAD' (fields: epoch, loss, acc, val_loss, val_acc, lr)"),
    );
  });
});

describe('confusionSpec', () => {
  it('one cell per entry, rows = actual, with its count as text (white on the darker half)', () => {
    const s = confusionSpec({ template: 'confusion' }, [{ run: 'w', data: confusion }]);
    expect(values(s)).toHaveLength(64);
    expect(values(s)[0]).toEqual({ run: 'w', actual: 'neutral', predicted: 'neutral', count: 2 });
    expect(values(s)[8 * 7 + 7]).toEqual({ run: 'w', actual: 'surprised', predicted: 'surprised', count: 9 });
    const layer = s.layer as { mark: { type: string }; encoding: Record<string, Record<string, unknown>> }[];
    expect(layer.map((l) => l.mark.type)).toEqual(['rect', 'text']);
    expect(layer[1]!.encoding.color).toEqual({ condition: { test: 'datum.count > 4.5', value: 'white' }, value: 'black' });
    expect(enc(s).x).toMatchObject({ field: 'predicted', sort: CLASSES });
    expect(enc(s).y).toMatchObject({ field: 'actual', sort: CLASSES });
  });

  it('several runs: one matrix per run, side by side', () => {
    const s = confusionSpec({ template: 'confusion' }, [{ run: 'a', data: confusion }, { run: 'b', data: confusion }]);
    expect(values(s)).toHaveLength(128);
    expect(s.facet).toEqual({ column: { field: 'run', type: 'nominal', title: null, sort: ['a', 'b'] } });
  });

  it('a matrix that does not match its labels is named', () => {
    expect(() => confusionSpec({ template: 'confusion' }, [{ run: 'w', data: { labels: ['a', 'b'], matrix: [[1, 2]] } }])).toThrow(/run 'w': expected .*got 2 labels and a matrix of 1 rows/);
    expect(() => confusionSpec({ template: 'confusion' }, [{ run: 'w', data: [] }])).toThrow(PlotDataError);
  });
});

describe('barSpec', () => {
  it('several y fields: side-by-side bars per category, in the file order', () => {
    const s = barSpec({ template: 'bar', x: 'emotion', y: ['recall', 'f1'] }, [{ run: 'w', data: perClass }]);
    expect(values(s)).toHaveLength(16);
    expect(enc(s).x).toMatchObject({ field: 'x', type: 'nominal', sort: CLASSES });
    expect(enc(s).xOffset).toMatchObject({ field: 'series', sort: ['recall', 'f1'] });
  });

  it('group: one series per value of the group field', () => {
    const s = barSpec({ template: 'bar', x: 'emotion', y: ['accuracy'], group: 'intensity' }, [{ run: 'w', data: byIntensity }]);
    expect(values(s)).toHaveLength(18);
    expect(enc(s).xOffset).toMatchObject({ field: 'series', sort: ['normal', 'strong'] });
    expect(enc(s).color).toMatchObject({ title: 'intensity' });
    expect((enc(s).x!.sort as string[]).at(-1)).toBe('all');
  });

  it('several runs: a colour per run, a row per series', () => {
    const s = barSpec({ template: 'bar', x: 'emotion', y: ['recall', 'f1'] }, [{ run: 'a', data: perClass }, { run: 'b', data: perClass }]);
    expect(values(s)).toHaveLength(32);
    expect(enc(s).xOffset).toMatchObject({ field: 'run' });
    expect(enc(s).row).toMatchObject({ field: 'series' });
  });

  it('group with several y fields is refused', () => {
    expect(() => barSpec({ template: 'bar', x: 'emotion', y: ['recall', 'f1'], group: 'intensity' }, [{ run: 'w', data: byIntensity }])).toThrow(/group 'intensity' needs exactly one y field, got 2/);
  });
});

describe('plotSpec', () => {
  it('dispatches on the template; an unknown one or no run is an error', () => {
    expect(TEMPLATES).toEqual(['linear', 'confusion', 'bar']);
    expect(plotSpec({ template: 'confusion' }, [{ run: 'w', data: confusion }]).layer).toBeDefined();
    expect(() => plotSpec({ template: 'pie' as never }, [{ run: 'w', data: perClass }])).toThrow(/unknown template 'pie' \(linear, confusion, bar\)/);
    expect(() => plotSpec({ template: 'bar', x: 'emotion', y: ['f1'] }, [])).toThrow(/no run/);
  });
});
