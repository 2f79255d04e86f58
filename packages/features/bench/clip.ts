// The benchmark's unit of work, shared by the in-process run and the worker threads: one WAV ->
// decode -> the 0.5 s + 3 s window -> 128-band log-mel at 48 kHz.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { LogMelExtractor, decodeWavWindow, type LogMelConfig } from '@ser/audio';

export const SR = 48000;
export const OFFSET = 0.5; // s
export const DURATION = 3.0; // s
export const LOGMEL: LogMelConfig = { sampleRate: SR, nFft: 1024, winLength: 512, hopLength: 256, nMels: 128, fmin: 0, fmax: SR / 2, ref: 'max', amin: 1e-10, topDb: 80 };

// Per thread, reused from clip to clip (as the Python contenders reuse theirs): the file's bytes
// and the decoded window. A fresh buffer per clip costs page faults, not decoding.
let fileBuffer = new Uint8Array(1 << 20);
let windowBuffer: Float32Array | undefined;

/** The whole file, read into the reused buffer (a view on it, valid until the next call). */
function readWhole(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (fileBuffer.length < size) fileBuffer = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const got = readSync(fd, fileBuffer, at, size - at, at);
      if (got === 0) break;
      at += got;
    }
    return fileBuffer.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}

/** A worker's task: the file, and the output buffer to fill and send back. */
export interface ClipTask {
  path: string;
  out: Float32Array;
}

/**
 * Log-mel [128, 563] of the window of one 48 kHz WAV file (only the window's frames are decoded),
 * into `out` when given (the in-process run reuses one; a worker's result is moved to the caller).
 */
export function clipLogMel(path: string, ex: LogMelExtractor, out?: Float32Array): Float32Array {
  const w = decodeWavWindow(readWhole(path), path, OFFSET, DURATION, windowBuffer);
  if (w.sampleRate !== SR) throw new Error(`${path}: ${w.sampleRate} Hz, expected ${SR}`);
  windowBuffer = w.samples;
  return ex.extract(w.samples, out);
}
