// Procedural voiced-speech synthesizer (Klatt-style cascade formant synthesis).
//
// source: Rosenberg glottal pulses (derivative of flow, so lip radiation is included) with
//         per-period jitter and shimmer, plus aspiration noise gated by the glottal opening
//         (breathiness), through a one-pole low-pass (spectral tilt);
// tract:  five cascaded two-pole resonators (unity DC gain) whose F1..F3 glide between phone
//         targets (one-pole smoothing = coarticulation), F4/F5 fixed per voice, plus a
//         high-frequency bypass branch for the band above F5;
// noise:  frication (bursts, /s/, /z/, /ð/) through a peak-normalized resonator, added in parallel;
// prosody: declination, pitch accents on stressed syllables, final rise/fall, slow drift and
//         tremor; syllable amplitudes with stress and declination.
// Control tracks run at 1 ms blocks; the inner loop is per sample with no allocation.

import { EMOTION_PROFILES, PHONES, STATEMENTS, intensityScale, voiceFor, type Voice } from './profiles.ts';
import { Prng } from './rng.ts';

/** One RAVDESS clip's identity. emotion 1..8, intensity 1|2 (neutral: 1 only), statement 1|2,
 *  repetition 1|2, actor 1..24. */
export interface ClipSpec {
  actor: number;
  emotion: number;
  intensity: number;
  statement: number;
  repetition: number;
}

/** Effective synthesis parameters of one clip (voice x emotion x intensity x take). */
export interface UtteranceParams {
  f0: number; // Hz
  rangeSt: number; // semitones
  rate: number; // syllables/s
  levelDb: number; // dB relative to the nominal speech RMS
  jitter: number;
  shimmer: number;
  darkness: number;
  breath: number;
  openQuotient: number;
  tremorSt: number;
  formantScale: number;
  f1Raise: number;
  pauseProb: number;
  finalSt: number;
}

const NOMINAL_RMS_DBFS = -24; // speech-region RMS of a neutral clip at level 0 dB
const FRIC_GAIN = 9; // frication level relative to the voiced path (tuned: /s/ ~ 12 dB under vowels)
const ASP_GAIN = 2; // aspiration noise relative to the glottal pulse
const HF_GAIN = 0.15; // level of the high-frequency bypass branch (see the render loop)
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/** Combine voice, emotion profile and take/repetition variation into clip parameters.
 *  Neutral (code 1) has no emotion effect; strong intensity scales effects by 1.7; the actor's
 *  expressiveness scales them too. `take` is shared by both repetitions, `rep` is per repetition. */
export function utteranceParams(voice: Voice, clip: ClipSpec, take: Prng, rep: Prng): UtteranceParams {
  const prof = EMOTION_PROFILES[clip.emotion - 1]!;
  const k = clip.emotion === 1 ? 0 : intensityScale(clip.intensity) * voice.expressiveness;
  return {
    f0: voice.f0 * 2 ** ((prof.f0St * k + 0.6 * take.normal() + 0.25 * rep.normal()) / 12),
    rangeSt: voice.rangeSt * prof.rangeMul ** k * Math.exp(0.12 * take.normal() + 0.05 * rep.normal()),
    rate: voice.rate * prof.rateMul ** k * Math.exp(0.05 * take.normal() + 0.03 * rep.normal()),
    levelDb: voice.levelDb + prof.energyDb * k + 0.8 * take.normal() + 0.4 * rep.normal(),
    jitter: voice.jitter * prof.jitterMul ** k,
    shimmer: voice.shimmer * prof.shimmerMul ** k,
    darkness: clamp(voice.darkness + prof.darkness * k + 0.03 * take.normal(), 0.02, 0.9),
    breath: voice.breath * prof.breathMul ** k * Math.exp(0.1 * take.normal()),
    openQuotient: clamp(voice.openQuotient + prof.openQuotient * k, 0.35, 0.85),
    tremorSt: prof.tremorSt * k,
    formantScale: voice.formantScale * prof.formantMul ** k,
    f1Raise: prof.f1Raise * k,
    pauseProb: clamp(voice.pauseProb * prof.pauseMul ** k, 0, 0.95),
    finalSt: prof.finalSt * k,
  };
}

interface Segment {
  start: number; // s from the file start
  end: number;
  av: number;
  af: number;
  fricHz: number;
  asp: number;
  formants: [number, number, number];
  syllable: number;
  stress: number;
}

/** Plan the phone segments of a statement: durations from the rate, stress, final lengthening,
 *  an optional phrase pause after the 4th syllable. Times start at 0. */
function planSegments(statement: number, u: UtteranceParams, take: Prng, rep: Prng): { segs: Segment[]; dur: number } {
  const sylls = STATEMENTS[statement === 2 ? 2 : 1];
  const timeScale = 4.4 / u.rate; // phone durations are specified at 4.4 syll/s
  const pause = take.next() < u.pauseProb ? (0.06 + 0.2 * take.next()) * timeScale : 0;
  const segs: Segment[] = [];
  let t = 0;
  sylls.forEach((s, si) => {
    const last = si === sylls.length - 1;
    const gainDb = 3 * s.stress - 1.5 - (2.5 * si) / sylls.length;
    for (const ph of s.phones) {
      const p = PHONES[ph];
      let d = p.dur * timeScale * Math.exp(0.08 * rep.normal());
      if (p.vowel) d *= (0.75 + 0.55 * s.stress) * (last ? 1.6 : 1);
      const g = 10 ** (gainDb / 20);
      segs.push({ start: t, end: t + d, av: p.av * g, af: p.af * g, fricHz: p.fricHz, asp: p.asp * g, formants: p.formants, syllable: si, stress: s.stress });
      t += d;
    }
    if (si === 3 && pause > 0) t += pause;
  });
  return { segs, dur: t };
}

/** Clip timing: leading silence 0.3-1.0 s, speech, trailing silence; total clamped to
 *  [minDur, maxDur] s (RAVDESS: 2.94-5.27 s). Returns the lead (s) and total (s). */
function planTiming(speechDur: number, take: Prng, rep: Prng, minDur = 3.0, maxDur = 5.3): { lead: number; total: number } {
  let lead = clamp(take.uniform(0.3, 1.0) + 0.05 * rep.normal(), 0.3, 1.0);
  const tail = take.uniform(0.7, 1.8) + 0.05 * rep.normal();
  const spread = take.next(); // drawn always, so both repetitions keep the same take stream
  let total = lead + speechDur + tail;
  // Short takes get a longer tail (spread over 0.3 s, not piled up at minDur); long ones are cut.
  if (total < minDur) total = minDur + 0.3 * spread;
  total = Math.min(total, maxDur);
  if (lead + speechDur > total - 0.15) lead = Math.max(0.05, total - 0.15 - speechDur);
  return { lead, total };
}

/** Two-pole resonator coefficients (Klatt): y = a*x + b*y1 + c*y2. `peak`: normalize the gain at
 *  the centre frequency to 1 instead of the DC gain. Writes into `out` at `o`. */
function resonator(f: number, bw: number, fs: number, peak: boolean, out: Float64Array, o: number): void {
  const r = Math.exp((-Math.PI * bw) / fs);
  const c = -r * r;
  const b = 2 * r * Math.cos((2 * Math.PI * f) / fs);
  let a = 1 - b - c;
  if (peak) {
    const w = (2 * Math.PI * f) / fs;
    const re = 1 - b * Math.cos(w) - c * Math.cos(2 * w);
    const im = b * Math.sin(w) + c * Math.sin(2 * w);
    a = Math.hypot(re, im);
  }
  out[o] = a;
  out[o + 1] = b;
  out[o + 2] = c;
}

/** Synthesize one clip as mono samples in [-1, 1] at `sampleRate` Hz (length = total duration).
 *  Deterministic in (seed, clip, sampleRate). */
export function synthesizeClip(seed: number, clip: ClipSpec, sampleRate = 48000): Float32Array {
  const fs = sampleRate;
  const voice = voiceFor(seed, clip.actor);
  const key = `${seed}|${clip.actor}|${clip.emotion}|${clip.intensity}|${clip.statement}`;
  const take = new Prng(`${key}|take`);
  const rep = new Prng(`${key}|rep|${clip.repetition}`);
  const u = utteranceParams(voice, clip, take, rep);
  const { segs, dur: speechDur } = planSegments(clip.statement, u, take, rep);
  const { lead, total } = planTiming(speechDur, take, rep);
  const n = Math.round(total * fs);
  const blk = Math.max(1, Math.round(fs / 1000));
  const nb = Math.ceil(n / blk) + 1;

  // Control targets per block.
  const tAv = new Float32Array(nb);
  const tAf = new Float32Array(nb);
  const tAsp = new Float32Array(nb);
  const tFr = new Float32Array(nb);
  const tF = [new Float32Array(nb).fill(500), new Float32Array(nb).fill(1500), new Float32Array(nb).fill(2500)];
  const tSt = new Float32Array(nb); // pitch, semitones relative to u.f0
  let fricHz = 4000;
  for (const s of segs) {
    const b0 = Math.floor(((lead + s.start) * fs) / blk);
    const b1 = Math.min(nb, Math.floor(((lead + s.end) * fs) / blk));
    if (s.fricHz > 0) fricHz = s.fricHz;
    for (let b = b0; b < b1; b++) {
      tAv[b] = s.av;
      tAf[b] = s.af;
      tAsp[b] = s.asp;
      tFr[b] = fricHz;
      for (let i = 0; i < 3; i++) tF[i]![b] = s.formants[i]!;
    }
  }
  for (let b = 1; b < nb; b++) if (tFr[b] === 0) tFr[b] = tFr[b - 1] || 4000;
  // Pitch contour: declination, accents (raised sine over stressed syllables), final movement,
  // slow drift (three random slow sinusoids) and tremor.
  const sylSpan: [number, number, number][] = [];
  for (const s of segs) {
    const cur = sylSpan[s.syllable];
    if (cur) cur[1] = s.end;
    else sylSpan[s.syllable] = [s.start, s.end, s.stress];
  }
  const drift = [0, 1, 2].map(() => ({ f: take.uniform(0.3, 1.5), ph: take.uniform(0, 2 * Math.PI), a: 0.25 * take.next() }));
  const tremPh = rep.uniform(0, 2 * Math.PI);
  for (let b = 0; b < nb; b++) {
    const t = (b * blk) / fs - lead;
    const x = clamp(t / speechDur, 0, 1);
    let st = u.rangeSt * 0.6 * (0.5 - x);
    for (const [s0, s1, stress] of sylSpan) {
      if (t > s0 && t < s1) st += u.rangeSt * 0.55 * stress * Math.sin((Math.PI * (t - s0)) / (s1 - s0));
    }
    if (x > 0.7) st += u.finalSt * ((x - 0.7) / 0.3) ** 2;
    for (const d of drift) st += d.a * Math.sin(2 * Math.PI * d.f * t + d.ph);
    st += u.tremorSt * Math.sin(2 * Math.PI * 5.5 * t + tremPh);
    tSt[b] = st;
  }
  // Smooth: formants ~15 ms (coarticulation), amplitudes ~6 ms (no clicks).
  const smooth = (a: Float32Array, tau: number): void => {
    const k = Math.exp(-blk / (fs * tau));
    for (let b = 1; b < nb; b++) a[b] = k * a[b - 1]! + (1 - k) * a[b]!;
  };
  for (const f of tF) smooth(f, 0.015);
  smooth(tAv, 0.006);
  smooth(tAf, 0.004);
  smooth(tAsp, 0.006);
  smooth(tFr, 0.01);

  // Render. Resonator coefficients are refreshed per block; states live in locals (hot loop).
  const out = new Float32Array(n);
  const coef = new Float64Array(6 * 3); // F1..F3, frication, F4, F5: (a, b, c) each
  const bw1 = 60 + 80 * u.breath;
  const fmax = 0.45 * fs;
  // F4, F5 fixed per voice (left out above 0.45 fs).
  [3350, 4250].forEach((f, i) => {
    const hz = f * u.formantScale;
    if (hz < fmax) resonator(hz, [200, 260][i]!, fs, false, coef, 12 + 3 * i);
    else coef.set([1, 0, 0], 12 + 3 * i); // identity
  });
  const a4 = coef[12]!, b4 = coef[13]!, c4 = coef[14]!;
  const a5 = coef[15]!, b5 = coef[16]!, c5 = coef[17]!;
  let y11 = 0, y12 = 0, y21 = 0, y22 = 0, y31 = 0, y32 = 0, y41 = 0, y42 = 0, y51 = 0, y52 = 0, yf1 = 0, yf2 = 0;
  let noise = (take.u32() ^ rep.u32()) | 1;
  let phase = 0;
  let period = fs / u.f0;
  // Closing quotient: a tense (bright) voice closes faster, which adds high-frequency energy.
  const cq = 0.15 + 0.4 * u.darkness;
  let tp = period * (1 - cq) * u.openQuotient;
  let tn = period * cq * u.openQuotient;
  let kp = (Math.PI * period) / (2 * tp);
  let kn = (Math.PI * period) / (2 * tn);
  let pulseAmp = 1;
  // Spectral tilt: one-pole low-pass whose cutoff falls with darkness (6.3 kHz bright .. 0.3 kHz
  // dark). Before it, two fixed one-zero/one-pole shelves (+6 dB/oct each over 0.8-6 kHz and
  // 1.5-8 kHz) lift F2..F5 to speech-like levels. An all-pole cascade of five formants falls at
  // -60 dB/oct above F5 (the tract's higher poles are missing), so the band above ~4 kHz comes
  // from a parallel branch (Klatt's bypass): the tilted source high-passed at 3 kHz (2nd order)
  // and low-passed at 5 kHz, at HF_GAIN.
  let tilt = 0;
  const dk = Math.exp((-2 * Math.PI * (300 + 6000 * (1 - u.darkness) ** 2)) / fs);
  const pole = (hz: number): number => Math.exp((-2 * Math.PI * Math.min(hz, fmax)) / fs);
  const zA = pole(800), pA = pole(6000), zB = pole(1500), pB = pole(8000);
  const gA = (1 - pA) / (1 - zA), gB = (1 - pB) / (1 - zB); // unity gain at DC
  const hpP = pole(3000), hpG = (1 + hpP) / 2, lpP = pole(5000);
  let h1x = 0, h1y = 0, h2x = 0, h2y = 0, hl = 0;
  let xA = 0, yA = 0, xB = 0, yB = 0;
  const aspK = ASP_GAIN * u.breath;
  const noiseScale = Math.sqrt(12) / 4294967296;
  let av0 = 0;
  let af0 = 0;
  let as0 = 0;
  for (let b = 0; b * blk < n; b++) {
    resonator(Math.min(fmax, tF[0]![b]! * u.formantScale * (1 + u.f1Raise)), bw1, fs, false, coef, 0);
    resonator(Math.min(fmax, tF[1]![b]! * u.formantScale), 90, fs, false, coef, 3);
    resonator(Math.min(fmax, tF[2]![b]! * u.formantScale), 130, fs, false, coef, 6);
    const fr = Math.min(fmax, tFr[b]!);
    resonator(fr, 0.45 * fr, fs, true, coef, 9);
    const a1 = coef[0]!, b1 = coef[1]!, c1 = coef[2]!;
    const a2 = coef[3]!, b2 = coef[4]!, c2 = coef[5]!;
    const a3 = coef[6]!, b3 = coef[7]!, c3 = coef[8]!;
    const af_ = coef[9]! * FRIC_GAIN, bf = coef[10]!, cf = coef[11]!;
    const av1 = tAv[b]!;
    const af1 = tAf[b]!;
    const as1 = tAsp[b]!;
    const f0b = u.f0 * 2 ** (tSt[b]! / 12);
    const end = Math.min(n, (b + 1) * blk);
    const inv = 1 / blk;
    for (let i = b * blk, j = 0; i < end; i++, j++) {
      const w = j * inv;
      const av = av0 + (av1 - av0) * w;
      const af = af0 + (af1 - af0) * w;
      const asp = as0 + (as1 - as0) * w;
      // Glottal cycle: new period with jitter, new amplitude with shimmer.
      if (phase >= period) {
        phase -= period;
        period = (fs / f0b) * (1 + u.jitter * rep.normal());
        pulseAmp = 1 + u.shimmer * rep.normal();
        tp = period * (1 - cq) * u.openQuotient;
        tn = period * cq * u.openQuotient;
        kp = (Math.PI * period) / (2 * tp);
        kn = (Math.PI * period) / (2 * tn);
      }
      let g = 0;
      let open = 0.35;
      if (phase < tp) {
        g = kp * Math.sin((Math.PI * phase) / tp);
        open = 1;
      } else if (phase < tp + tn) {
        g = -kn * Math.sin((Math.PI * (phase - tp)) / (2 * tn));
        open = 1;
      }
      phase += 1;
      noise ^= noise << 13;
      noise ^= noise >>> 17;
      noise ^= noise << 5;
      const n1 = ((noise >>> 0) - 2147483648) * noiseScale;
      noise ^= noise << 13;
      noise ^= noise >>> 17;
      noise ^= noise << 5;
      const n2 = ((noise >>> 0) - 2147483648) * noiseScale;
      // The +-1e-12 (-240 dB) Nyquist dither keeps the filter states out of subnormal numbers in
      // silences, which would slow the loop down about tenfold.
      const src = av * (pulseAmp * g + aspK * open * n1) + asp * ASP_GAIN * n1 + (i & 1 ? 1e-12 : -1e-12);
      const sA = gA * (src - zA * xA) + pA * yA;
      xA = src;
      yA = sA;
      const sB = gB * (sA - zB * xB) + pB * yB;
      xB = sA;
      yB = sB;
      tilt = (1 - dk) * sB + dk * tilt;
      const h1 = hpG * (tilt - h1x) + hpP * h1y;
      h1x = tilt;
      h1y = h1;
      const h2 = hpG * (h1 - h2x) + hpP * h2y;
      h2x = h1;
      h2y = h2;
      hl = (1 - lpP) * h2 + lpP * hl;
      // Cascade F5 -> F1 (unity DC gain each); frication resonator and HF bypass in parallel.
      const y5 = a5 * tilt + b5 * y51 + c5 * y52;
      y52 = y51; y51 = y5;
      const y4 = a4 * y5 + b4 * y41 + c4 * y42;
      y42 = y41; y41 = y4;
      const y3 = a3 * y4 + b3 * y31 + c3 * y32;
      y32 = y31; y31 = y3;
      const y2 = a2 * y3 + b2 * y21 + c2 * y22;
      y22 = y21; y21 = y2;
      const y1 = a1 * y2 + b1 * y11 + c1 * y12;
      y12 = y11; y11 = y1;
      const yf = af_ * af * n2 + bf * yf1 + cf * yf2;
      yf2 = yf1; yf1 = yf;
      out[i] = y1 + yf + HF_GAIN * hl;
    }
    av0 = av1;
    af0 = af1;
    as0 = as1;
  }

  // Level: speech-region RMS to the clip's target; then a recording noise floor and a soft limiter.
  const s0 = Math.floor(lead * fs);
  const s1 = Math.min(n, Math.ceil((lead + speechDur) * fs));
  let e = 0;
  for (let i = s0; i < s1; i++) e += out[i]! * out[i]!;
  const rms = Math.sqrt(e / Math.max(1, s1 - s0)) || 1;
  const gain = 10 ** ((NOMINAL_RMS_DBFS + u.levelDb) / 20) / rms;
  const floor = 10 ** ((-66 + 6 * rep.next()) / 20) * Math.sqrt(12) * 2; // one-pole LP halves-ish the power
  let lp = 0;
  for (let i = 0; i < n; i++) {
    noise ^= noise << 13;
    noise ^= noise >>> 17;
    noise ^= noise << 5;
    lp = 0.7 * lp + 0.3 * (((noise >>> 0) / 4294967296 - 0.5) * floor);
    let y = out[i]! * gain + lp;
    const m = Math.abs(y);
    if (m > 0.8) y = Math.sign(y) * (0.8 + 0.2 * Math.tanh((m - 0.8) / 0.2));
    out[i] = y;
  }
  return out;
}
