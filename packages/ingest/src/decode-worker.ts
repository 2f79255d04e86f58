// An ingest worker thread (ingest.workers > 1): decodes and resamples the files the stage sends,
// with the same function as the in-process path (decodeFile).
import { serveTasks } from '@ser/stage-kit';
import { decodeFile, type DecodeTask } from './decode.ts';

serveTasks((message) => {
  const outcome = decodeFile(message as DecodeTask);
  return { result: outcome, transfer: 'audio' in outcome ? [outcome.audio.buffer as ArrayBuffer] : [] };
});
