// Public API of @ser/audio: pure DSP, no file system access, no stage knowledge.
export * from './wav-read.ts';
export * from './wav-write.ts';
export * from './resample.ts';
export * from './segment.ts';
export * from './awgn.ts';
export * from './fft.ts';
export * from './stft.ts';
export * from './mel.ts';
export * from './db.ts';
export * from './logmel.ts';
