// A benchmark worker thread: clipLogMel for the paths the benchmark sends.
import { LogMelExtractor } from '@ser/audio';
import { serveTasks } from '@ser/stage-kit';
import { LOGMEL, clipLogMel } from './clip.ts';

const ex = new LogMelExtractor(LOGMEL);
serveTasks((path) => {
  const y = clipLogMel(path as string, ex);
  return { result: y, transfer: [y.buffer as ArrayBuffer] };
});
