// One WAV file -> mono audio at the target rate, as data: the work ingest's rows share out to
// worker threads (ingest.workers). Errors come back as a message, not a throw, because with
// `on_error: skip` a bad file is a result (the stage decides, in file order, what to do with it).
import { readFileSync } from 'node:fs';
import { decodeClip, type ClipInfo } from './core.ts';

export interface DecodeTask {
  path: string;
  sampleRate: number; // Hz
}

export type DecodeOutcome = { audio: Float32Array; info: ClipInfo } | { error: string };

/** Reads and decodes `task.path` (resampled to task.sampleRate); a failure becomes `{ error }`. */
export function decodeFile(task: DecodeTask): DecodeOutcome {
  try {
    return decodeClip(readFileSync(task.path), task.path, task.sampleRate);
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}
