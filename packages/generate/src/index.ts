// Public API of @ser/generate: the synthetic RAVDESS-shaped demo corpus.
export {
  MAX_ACTORS,
  CLIPS_PER_ACTOR,
  DEFAULT_OPTIONS,
  type CorpusOptions,
  type ClipSpec,
  actorClips,
  corpusClips,
  ravdessStem,
  clipPath,
  stereoStems,
  clipWav,
} from './core.ts';
export { synthesizeClip, utteranceParams, type UtteranceParams } from './synth.ts';
export { voiceFor, EMOTION_NAMES, EMOTION_PROFILES, STATEMENTS, intensityScale, type Voice, type EmotionProfile } from './profiles.ts';
export { fllrSize, fllrChunk, listInfoChunk, bextChunk, pmxChunk, ravdessChunks } from './chunks.ts';
export { Prng, hashKey } from './rng.ts';
export { generateOptionsFrom, writeCorpus, runGenerate, type GenerateSummary } from './stage.ts';
