// A benchmark worker thread: clipLogMel for the paths the benchmark sends.
import { LogMelExtractor } from '@ser/audio';
import { serveTasks } from '@ser/stage-kit';
import { LOGMEL, clipLogMel, type ClipTask } from './clip.ts';

const ex = new LogMelExtractor(LOGMEL);
serveTasks((message) => {
  const { path, out } = message as ClipTask;
  const y = clipLogMel(path, ex, out);
  return { result: y, transfer: [y.buffer as ArrayBuffer] };
});
