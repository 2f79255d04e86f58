// A features worker thread (features.workers > 1): log-mel of the rows the stage sends, with one
// LogMelExtractor built from workerData (the stage's LogMelConfig). Same computation as the
// stage's in-process path (logMelOfRow).
import { workerData } from 'node:worker_threads';
import { LogMelExtractor, type LogMelConfig } from '@ser/audio';
import { serveTasks } from '@ser/stage-kit';
import { logMelOfRow } from './core.ts';

const extractor = new LogMelExtractor(workerData as LogMelConfig);
serveTasks((message) => {
  const feat = logMelOfRow(extractor, message);
  // The output buffer goes back to the stage, which sends it out again with a later row.
  return { result: feat, transfer: [feat.buffer as ArrayBuffer] };
});
