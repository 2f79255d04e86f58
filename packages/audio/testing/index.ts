// `@ser/audio/testing`: helpers for tests of this package and of the stages that use it.
export * from './wav-bytes.ts';
export * from './reference.ts';
