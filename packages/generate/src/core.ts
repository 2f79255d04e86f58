// Pure core of the generate stage: which clips a corpus has, their RAVDESS names and paths, and
// each clip's WAV bytes. No file system access (stage.ts writes the files).

import { encodeWav } from '@ser/audio';
import { ravdessChunks } from './chunks.ts';
import { Prng } from './rng.ts';
import { synthesizeClip, type ClipSpec } from './synth.ts';

/** RAVDESS: 24 actors, 60 speech clips each. */
export const MAX_ACTORS = 24;
export const CLIPS_PER_ACTOR = 60;

/** Options of a generated corpus (the `generate` params, validated by stage.ts). */
export interface CorpusOptions {
  seed: number;
  /** Actors 1..actors (1..24). */
  actors: number;
  /** First `clipsPerActor` clips (1..60) of the per-actor order of `actorClips`. */
  clipsPerActor: number;
  /** How many files of the corpus are stereo (chosen by seed). RAVDESS has 5. */
  stereoFiles: number;
  /** Hz; RAVDESS is 48000. */
  sampleRate: number;
}

export const DEFAULT_OPTIONS: Omit<CorpusOptions, 'seed' | 'actors'> = { clipsPerActor: 60, stereoFiles: 5, sampleRate: 48000 };

/** The 60 clips of one actor, ordered so that every prefix is as balanced over emotions as
 *  possible: slot by slot (intensity, statement, repetition), one clip per emotion that has the
 *  slot (neutral has normal intensity only: 4 clips; the others 8). */
export function actorClips(actor: number): ClipSpec[] {
  const out: ClipSpec[] = [];
  for (const intensity of [1, 2])
    for (const repetition of [1, 2])
      for (const statement of [1, 2])
        for (let emotion = 1; emotion <= 8; emotion++) {
          if (emotion === 1 && intensity === 2) continue;
          out.push({ actor, emotion, intensity, statement, repetition });
        }
  return out;
}

/** All clips of a corpus, actor by actor. */
export function corpusClips(actors: number, clipsPerActor: number): ClipSpec[] {
  const out: ClipSpec[] = [];
  for (let a = 1; a <= actors; a++) out.push(...actorClips(a).slice(0, clipsPerActor));
  return out;
}

const two = (n: number): string => String(n).padStart(2, '0');

/** RAVDESS file stem: modality 03 (audio-only), vocal channel 01 (speech), emotion, intensity,
 *  statement, repetition, actor, e.g. `03-01-05-02-01-01-12`. */
export function ravdessStem(c: ClipSpec): string {
  return ['03', '01', two(c.emotion), two(c.intensity), two(c.statement), two(c.repetition), two(c.actor)].join('-');
}

/** Path of a clip inside the corpus folder: `Actor_XX/<stem>.wav`. */
export function clipPath(c: ClipSpec): string {
  return `Actor_${two(c.actor)}/${ravdessStem(c)}.wav`;
}

/** Stems of the `count` stereo files, drawn without replacement from `clips` by `seed`. */
export function stereoStems(seed: number, clips: ClipSpec[], count: number): Set<string> {
  const stems = clips.map(ravdessStem);
  const rng = new Prng(`${seed}|stereo`);
  const k = Math.min(count, stems.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng.next() * (stems.length - i));
    [stems[i], stems[j]] = [stems[j]!, stems[i]!];
  }
  return new Set(stems.slice(0, k));
}

/** Second channel of a stereo file: the first slightly attenuated plus its own noise floor,
 *  so the channel mean is close to (not equal to) the mono signal. */
function rightChannel(left: Float32Array, key: string): Float32Array {
  const rng = new Prng(key);
  const r = new Float32Array(left.length);
  const floor = 10 ** (-70 / 20) * Math.sqrt(12);
  for (let i = 0; i < left.length; i++) r[i] = 0.94 * left[i]! + floor * (rng.next() - 0.5);
  return r;
}

/** The WAV file bytes of one clip: 16-bit PCM, RAVDESS chunk layout (`data` payload at byte
 *  4096; `LIST`, `bext`, `_PMX` after it), mono or stereo. `take` numbers the file within the
 *  corpus (only used for chunk timestamps). */
export function clipWav(opts: Pick<CorpusOptions, 'seed' | 'sampleRate'>, clip: ClipSpec, stereo: boolean, take: number): Uint8Array {
  const mono = synthesizeClip(opts.seed, clip, opts.sampleRate);
  const stem = ravdessStem(clip);
  const channels = stereo ? [mono, rightChannel(mono, `${opts.seed}|right|${stem}`)] : [mono];
  return encodeWav(channels, { sampleRate: opts.sampleRate, format: 'pcm16', chunks: ravdessChunks(stem, clip.actor, take, opts.sampleRate, channels.length) });
}

export type { ClipSpec } from './synth.ts';
