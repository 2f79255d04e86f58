// The benchmark's unit of work, shared by the in-process run and the worker threads: one WAV ->
// decode -> the 0.5 s + 3 s window -> 128-band log-mel at 48 kHz.
import { readFileSync } from 'node:fs';
import { LogMelExtractor, decodeWav, segmentWindow, type LogMelConfig } from '@ser/audio';

export const SR = 48000;
export const OFFSET = 0.5; // s
export const DURATION = 3.0; // s
export const LOGMEL: LogMelConfig = { sampleRate: SR, nFft: 1024, winLength: 512, hopLength: 256, nMels: 128, fmin: 0, fmax: SR / 2, ref: 'max', amin: 1e-10, topDb: 80 };

/** Log-mel [128, 563] of the window of one 48 kHz WAV file. */
export function clipLogMel(path: string, ex: LogMelExtractor): Float32Array {
  const d = decodeWav(readFileSync(path), path);
  if (d.sampleRate !== SR) throw new Error(`${path}: ${d.sampleRate} Hz, expected ${SR}`);
  return ex.extract(segmentWindow(d.mono, SR, OFFSET, DURATION));
}
