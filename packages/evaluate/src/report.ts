// report.html: this evaluation's plots and headline metrics in one offline page (@ser/report:
// vega inlined, nothing fetched). The same files and fields pipeline.yaml declares for
// `ser-pipeline plots show`; written by the stage so that every run carries its own picture.
// Deterministic: no clock.
import { plotSpec, renderReportHtml, type PlotDef, type Section } from '@ser/report';

export interface ReportInputs {
  profile: string;
  accuracy: number | null;
  correct: number;
  total: number;
  macroF1: number;
  testLoss: number;
  /** confusion.json, per_emotion.json, by_intensity.json, by_gender.json as written. */
  files: { confusion: unknown; perEmotion: unknown; byIntensity: unknown; byGender: unknown };
}

/** Each plot: the file it draws (in the evaluate dir), how, and its data's key in `files`. */
export const REPORT_PLOTS: { file: string; data: keyof ReportInputs['files']; def: PlotDef }[] = [
  { file: 'confusion.json', data: 'confusion', def: { template: 'confusion', title: 'Confusion matrix (test)', xLabel: 'predicted emotion', yLabel: 'true emotion' } },
  { file: 'per_emotion.json', data: 'perEmotion', def: { template: 'bar', x: 'emotion', y: ['recall', 'f1'], title: 'Recall and F1 per emotion (test)' } },
  { file: 'by_intensity.json', data: 'byIntensity', def: { template: 'bar', x: 'emotion', y: ['accuracy'], group: 'intensity', title: 'Accuracy by emotion and intensity (test)' } },
  { file: 'by_gender.json', data: 'byGender', def: { template: 'bar', x: 'emotion', y: ['accuracy'], group: 'gender', title: 'Accuracy by emotion and gender (test)' } },
];

const round = (x: number | null) => (x === null ? null : +x.toFixed(4));

export function renderEvaluateReport(r: ReportInputs): string {
  const charts: Section[] = REPORT_PLOTS.map((p) => ({ title: p.def.title!, note: `evaluate/${p.file}`, spec: plotSpec(p.def, [{ run: 'test', data: r.files[p.data] }]) }));
  const summary: Section = {
    title: 'Test metrics',
    note: 'evaluate/metrics.json',
    table: {
      columns: ['metric', 'value'],
      rows: [
        ['accuracy', round(r.accuracy)],
        ['correct / total', `${r.correct} / ${r.total}`],
        ['macro F1', round(r.macroF1)],
        ['test loss', round(r.testLoss)],
      ],
    },
  };
  return renderReportHtml({ title: `Evaluation report (profile ${r.profile})`, sections: [summary, ...charts] });
}
