// Voices (per actor), emotion profiles (per RAVDESS emotion code) and the two statements, as data.
// Emotion effects follow the usual findings on acted emotional speech (e.g. Banse & Scherer 1996,
// Juslin & Laukka 2003): high-arousal emotions (angry, happy, fearful, surprised) raise pitch,
// energy and brightness; sad and calm lower them, slow down and add breathiness; fearful adds
// tremor and jitter. Actor variation is deliberately comparable to the emotion differences.

import { EMOTIONS } from '@ser/stage-kit';
import { Prng } from './rng.ts';

/** RAVDESS emotion codes 1..8 (index = code - 1): stage-kit's EMOTIONS, the one list. */
export const EMOTION_NAMES = EMOTIONS;

/** A speaker's voice, fixed per actor. Units in the field comments. */
export interface Voice {
  actor: number;
  male: boolean;
  /** Hz, speaking base pitch. */
  f0: number;
  /** Multiplies all formant frequencies (vocal tract length). */
  formantScale: number;
  /** Relative period perturbation (std), e.g. 0.006 = 0.6 %. */
  jitter: number;
  /** Relative pulse amplitude perturbation (std). */
  shimmer: number;
  /** Aspiration noise level relative to the voiced source. */
  breath: number;
  /** One-pole low-pass coefficient on the source (0 bright .. 0.9 dark): spectral tilt. */
  darkness: number;
  /** Glottal open quotient (fraction of the period the glottis is open). */
  openQuotient: number;
  /** Syllables per second at neutral. */
  rate: number;
  /** dB, recording level offset. */
  levelDb: number;
  /** Semitones, intonation range at neutral. */
  rangeSt: number;
  /** Scales how strongly this actor acts the emotions (0.6..1.4). */
  expressiveness: number;
  /** Probability of a phrase pause at neutral. */
  pauseProb: number;
}

/** Draw actor `actor`'s voice from `seed` (odd actor = male, as RAVDESS). */
export function voiceFor(seed: number, actor: number): Voice {
  const r = new Prng(`${seed}|voice|${actor}`);
  const male = actor % 2 === 1;
  const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
  return {
    actor,
    male,
    f0: male ? clamp(112 * Math.exp(0.13 * r.normal()), 80, 165) : clamp(200 * Math.exp(0.11 * r.normal()), 150, 270),
    formantScale: (male ? 1.0 : 1.15) * Math.exp(0.045 * r.normal()),
    jitter: 0.006 * Math.exp(0.35 * r.normal()),
    shimmer: 0.04 * Math.exp(0.35 * r.normal()),
    breath: (male ? 0.12 : 0.18) * Math.exp(0.45 * r.normal()),
    darkness: clamp(0.45 + 0.1 * r.normal(), 0.2, 0.7),
    openQuotient: clamp((male ? 0.58 : 0.65) + 0.04 * r.normal(), 0.45, 0.78),
    rate: 4.4 * Math.exp(0.1 * r.normal()),
    levelDb: r.uniform(-4, 4),
    rangeSt: 4.5 * Math.exp(0.3 * r.normal()),
    expressiveness: r.uniform(0.6, 1.4),
    pauseProb: r.uniform(0.1, 0.6),
  };
}

/** How an emotion shifts the voice, at normal intensity and expressiveness 1.
 *  Additive fields add (times the effect scale k); `...Mul` fields multiply (raised to k). */
export interface EmotionProfile {
  /** Semitones added to the base pitch. */
  f0St: number;
  rangeMul: number;
  rateMul: number;
  energyDb: number;
  jitterMul: number;
  shimmerMul: number;
  /** Added to `darkness` (negative = brighter, flatter spectral tilt). */
  darkness: number;
  breathMul: number;
  openQuotient: number;
  /** Semitones of 5.5 Hz pitch tremor. */
  tremorSt: number;
  /** Multiplies formant frequencies (smiling raises them). */
  formantMul: number;
  /** Relative F1 raise (jaw opening with vocal effort). */
  f1Raise: number;
  pauseMul: number;
  /** Semitones of pitch rise (+) or fall (-) over the last 30 % of the utterance. */
  finalSt: number;
}

const P = (
  f0St: number, rangeMul: number, rateMul: number, energyDb: number, jitterMul: number, shimmerMul: number,
  darkness: number, breathMul: number, openQuotient: number, tremorSt: number, formantMul: number, f1Raise: number,
  pauseMul: number, finalSt: number,
): EmotionProfile => ({ f0St, rangeMul, rateMul, energyDb, jitterMul, shimmerMul, darkness, breathMul, openQuotient, tremorSt, formantMul, f1Raise, pauseMul, finalSt });

/** Index = RAVDESS emotion code - 1. */
export const EMOTION_PROFILES: readonly EmotionProfile[] = [
  //  f0St rangeM rateM  dB  jitM shimM dark  brM   oq    trem  fmtM  f1   pauseM final
  P(0, 1.0, 1.0, 0, 1.0, 1.0, 0, 1.0, 0, 0, 1.0, 0, 1.0, 0), // neutral
  P(-0.8, 0.75, 0.92, -2, 0.9, 0.9, 0.07, 1.35, 0.03, 0, 0.99, -0.02, 1.2, -0.5), // calm
  P(3, 1.45, 1.06, 3, 1.1, 1.0, -0.1, 0.9, -0.04, 0, 1.04, 0.05, 0.8, 0.5), // happy
  P(-0.5, 0.6, 0.83, -4, 1.4, 1.4, 0.14, 1.9, 0.05, 0.12, 0.98, -0.03, 1.8, -1.0), // sad
  P(4, 1.3, 1.05, 6, 1.3, 1.3, -0.22, 0.6, -0.12, 0, 1.02, 0.05, 0.7, -2.0), // angry
  P(5, 1.0, 1.12, 1, 1.8, 1.5, -0.05, 1.7, 0, 0.4, 1.02, 0.03, 1.0, 0.5), // fearful
  P(-1.2, 1.1, 0.86, 0.5, 1.5, 1.4, 0.03, 1.3, -0.05, 0, 0.97, 0, 1.5, -1.5), // disgust
  P(5, 1.8, 0.96, 3, 1.1, 1.0, -0.1, 1.2, -0.02, 0, 1.03, 0.06, 0.9, 3.0), // surprised
];

/** Effect scale: strong intensity (2) acts 1.7x as strongly as normal (1). */
export function intensityScale(intensity: number): number {
  return intensity === 2 ? 1.7 : 1;
}

/** Phone inventory used by the two statements. */
export type Phone =
  | 'ɪ' | 'ɑ' | 'ɔ' | 'ə' | 'a' // vowels
  | 'k' | 't' | 'd' | 'b' | 'g' | 's' | 'z' | 'ð' | 'ŋ' | 'r';

/** A syllable: phones and stress (0 unstressed .. 1 stressed). */
export interface Syllable {
  phones: Phone[];
  stress: number;
}

/** RAVDESS statements: 1 "Kids are talking by the door", 2 "Dogs are sitting by the door". */
export const STATEMENTS: Record<1 | 2, Syllable[]> = {
  1: [
    { phones: ['k', 'ɪ', 'd', 'z'], stress: 1 },
    { phones: ['ɑ', 'r'], stress: 0 },
    { phones: ['t', 'ɔ'], stress: 0.9 },
    { phones: ['k', 'ɪ', 'ŋ'], stress: 0.1 },
    { phones: ['b', 'a', 'ɪ'], stress: 0.6 },
    { phones: ['ð', 'ə'], stress: 0 },
    { phones: ['d', 'ɔ', 'r'], stress: 1 },
  ],
  2: [
    { phones: ['d', 'ɔ', 'g', 'z'], stress: 1 },
    { phones: ['ɑ', 'r'], stress: 0 },
    { phones: ['s', 'ɪ'], stress: 0.9 },
    { phones: ['t', 'ɪ', 'ŋ'], stress: 0.1 },
    { phones: ['b', 'a', 'ɪ'], stress: 0.6 },
    { phones: ['ð', 'ə'], stress: 0 },
    { phones: ['d', 'ɔ', 'r'], stress: 1 },
  ],
};

/** Acoustic target of a phone. Formants in Hz for an adult male (scaled per voice);
 *  durations in s at rate 1 (scaled by speaking rate). */
export interface PhoneSpec {
  dur: number;
  /** Voicing amplitude 0..1. */
  av: number;
  /** Frication noise amplitude (relative) and its centre frequency, Hz. */
  af: number;
  fricHz: number;
  /** Extra aspiration (noise through the vocal tract), relative. */
  asp: number;
  /** Formant targets F1..F3, Hz. */
  formants: [number, number, number];
  vowel: boolean;
}

const V = (f1: number, f2: number, f3: number, dur = 0.11): PhoneSpec => ({ dur, av: 1, af: 0, fricHz: 0, asp: 0, formants: [f1, f2, f3], vowel: true });
const C = (dur: number, av: number, af: number, fricHz: number, asp: number, formants: [number, number, number]): PhoneSpec => ({ dur, av, af, fricHz, asp, formants, vowel: false });

/** Peterson & Barney style targets; stops are closure+burst folded into one noisy segment. */
export const PHONES: Record<Phone, PhoneSpec> = {
  'ɪ': V(390, 1990, 2550),
  'ɑ': V(730, 1090, 2440),
  'ɔ': V(570, 840, 2410),
  'ə': V(500, 1500, 2500, 0.07),
  'a': V(760, 1250, 2500),
  k: C(0.075, 0, 0.5, 2300, 0.6, [300, 1900, 2500]),
  t: C(0.07, 0, 0.55, 4200, 0.6, [300, 1700, 2600]),
  d: C(0.05, 0.2, 0.25, 3800, 0, [250, 1650, 2600]),
  b: C(0.05, 0.2, 0.2, 1300, 0, [250, 900, 2300]),
  g: C(0.055, 0.2, 0.25, 2100, 0, [250, 1900, 2400]),
  s: C(0.1, 0, 0.45, 6000, 0, [350, 1800, 2600]),
  z: C(0.08, 0.25, 0.25, 5500, 0, [250, 1700, 2600]),
  'ð': C(0.045, 0.4, 0.12, 4800, 0, [300, 1500, 2500]),
  'ŋ': C(0.07, 0.45, 0, 0, 0, [260, 1900, 2500]),
  r: C(0.07, 0.75, 0, 0, 0, [450, 1200, 1650]),
};
