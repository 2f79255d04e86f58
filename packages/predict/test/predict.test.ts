// ser-predict and @ser/predict's API on generated WAVs with a tiny saved model: labels and
// probabilities, the pipeline's log-mel path, windows, short clips, folders, non-WAV inputs
// checked before the model loads, and what the model's provenance makes it say.
import { spawnSync } from 'node:child_process';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav, encodeWav, resample, segmentWindow } from '@ser/audio';
import { computeLogMel, featureParamsFrom } from '@ser/features';
import { EMOTIONS, tf } from '@ser/model';
import { loadClassifier, type Classifier } from '../src/classifier.ts';
import { clipInputs, parsePredictArgs, windowStarts } from '../src/core.ts';
import { notWavProblem } from '../src/formats.ts';
import { runPredict } from '../src/predict.ts';
import { ensureDir, FEATURES, tinyPreprocess, tone, writeTinyModel } from './fixture.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const BIN = resolve(import.meta.dirname, '../bin/ser-predict.mjs');
const EXAMPLE = resolve(import.meta.dirname, '../examples/classify.ts');
let dir: string;
let model: string;
let wavs: string;
let clf: Classifier;

const args = (over: Partial<Parameters<typeof runPredict>[0]>) => ({
  inputs: [], model, json: true, backend: 'cpu', windows: false, hop: null, strict: false, help: false, ...over,
});
async function predict(over: Partial<Parameters<typeof runPredict>[0]>) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runPredict(args(over), { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err, json: over.json === false ? null : JSON.parse(out.join('\n') || 'null') };
}
const cli = (...argv: string[]) => spawnSync(process.execPath, [BIN, ...argv, '--backend', 'cpu'], { encoding: 'utf8' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ser-predict-'));
  model = await writeTinyModel(join(dir, 'model'), 'synthetic', 'demo');
  wavs = await ensureDir(join(dir, 'wav'));
  // 44.1 kHz stereo: exercises mono mixing and resampling to 16 kHz.
  await writeFile(join(wavs, 'a.wav'), encodeWav([tone(440, 44100, 1), tone(660, 44100, 1)], { sampleRate: 44100 }));
  await writeFile(join(wavs, 'b.wav'), encodeWav([tone(1200, 16000, 0.8)], { sampleRate: 16000, format: 'float32' }));
  await writeFile(join(dir, 'short.wav'), encodeWav([tone(300, 16000, 0.2)], { sampleRate: 16000 }));
  await writeFile(join(dir, 'silence.wav'), encodeWav([new Float32Array(16000)], { sampleRate: 16000 }));
  await writeFile(join(dir, 'bad.wav'), new TextEncoder().encode('this is not a RIFF file at all'));
  await writeFile(join(dir, 'x.mp3'), Uint8Array.from([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfb]));
  await writeFile(join(dir, 'y.flac'), new TextEncoder().encode('fLaC\0\0\0\x22 some more bytes'));
  await writeFile(join(wavs, 'notes.txt'), 'not audio');
  await tf.setBackend('cpu');
  clf = await loadClassifier(model, { backend: 'cpu' });
});
afterAll(async () => {
  clf?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('ser-predict', () => {
  it('labels good WAVs, reports bad and missing files by name, and exits 1', async () => {
    const files = [join(wavs, 'a.wav'), join(dir, 'bad.wav'), join(dir, 'missing.wav'), join(wavs, 'b.wav')];
    const r = await predict({ inputs: files });
    expect(r.code).toBe(1);
    expect(r.json.map((x: { file: string }) => x.file)).toEqual(files);
    for (const i of [0, 3]) {
      expect(EMOTIONS).toContain(r.json[i].emotion);
      const ps = Object.values(r.json[i].probabilities) as number[];
      expect(Object.keys(r.json[i].probabilities)).toEqual([...EMOTIONS]);
      expect(ps.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(r.json[i].confidence).toBe(Math.max(...ps));
    }
    expect(r.json[0].duration_s).toBeCloseTo(1, 6);
    expect(r.json[1].error).toMatch(/bad\.wav: not a WAV file \(no RIFF\/WAVE header\)/);
    expect(r.json[2].error).toMatch(/missing\.wav: cannot read \(ENOENT\)/);
    expect(r.err.filter((l) => l.startsWith('error:'))).toHaveLength(2);
  });

  it('checks every input before the model loads, and names MP3/FLAC with the ffmpeg command', async () => {
    const mp3 = join(dir, 'x.mp3');
    const flac = join(dir, 'y.flac');
    expect(notWavProblem(await readFile(mp3), mp3)).toBe(`${mp3}: MP3 is not supported, convert to WAV (e.g. ffmpeg -i ${mp3} ${join(dir, 'x.wav')})`);
    // A broken model dir: the input errors come first, and with no usable input it is never read.
    const none = await predict({ inputs: [mp3, flac], model: join(dir, 'no-model') });
    expect(none.code).toBe(1);
    expect(none.err).toEqual([
      `error: ${mp3}: MP3 is not supported, convert to WAV (e.g. ffmpeg -i ${mp3} ${join(dir, 'x.wav')})`,
      `error: ${flac}: FLAC is not supported, convert to WAV (e.g. ffmpeg -i ${flac} ${join(dir, 'y.wav')})`,
    ]);
    const some = await predict({ inputs: [mp3, join(wavs, 'a.wav')], model: join(dir, 'no-model') });
    expect(some.code).toBe(2);
    expect(some.err[0]).toMatch(/x\.mp3: MP3 is not supported/);
    expect(some.err[1]).toMatch(/no-model: no model\.json/);
  });

  it('takes the WAVs of a folder in name order and says how many', async () => {
    const r = await predict({ inputs: [wavs] });
    expect(r.code).toBe(0);
    expect(r.json.map((x: { file: string }) => x.file)).toEqual([join(wavs, 'a.wav'), join(wavs, 'b.wav')]);
    expect(r.err).toContain(`${wavs}: 2 WAV files (1 other file skipped)`);
    const empty = await predict({ inputs: [await ensureDir(join(dir, 'empty'))] });
    expect(empty.code).toBe(1);
    expect(empty.json[0].error).toMatch(/empty: no \.wav files in this folder/);
  });

  it('warns when a clip is shorter than offset + duration, and refuses it with --strict', async () => {
    const short = join(dir, 'short.wav');
    const r = await predict({ inputs: [short] });
    expect(r.code).toBe(0);
    // 0.2 s with the window at 0.5 s: the model saw only padding, as it would for silence.
    expect(r.json[0].probabilities).toEqual((await clf.predictFile(join(dir, 'silence.wav'))).probabilities);
    const warning = `${short}: 0.2 s is shorter than the model's window (0.5 s + 0.1 s = 0.6 s): the window starts after the clip ends and holds no audio: the prediction describes silence; --windows reads it from 0 s without padding`;
    expect(r.err).toContain(`warning: ${warning}`);
    expect(r.json[0].warnings).toEqual([warning.slice(short.length + 2)]);
    const strict = await predict({ inputs: [short, join(wavs, 'a.wav')], strict: true });
    expect(strict.code).toBe(1);
    expect(strict.json[0].error).toBe(`${warning} (refused: --strict)`);
    expect(EMOTIONS).toContain(strict.json[1].emotion);
    // With windows, a 0.2 s clip holds two 0.1 s windows: no warning.
    expect((await predict({ inputs: [short], windows: true, strict: true })).code).toBe(0);
  });

  it('--windows: windows over the whole clip, the answer is their mean, each window in --json', async () => {
    const b = join(wavs, 'b.wav'); // 0.8 s
    const r = await predict({ inputs: [b], windows: true, hop: 0.3 });
    const res = r.json[0];
    expect(res.windows.map((w: { start_s: number; end_s: number }) => [w.start_s, w.end_s])).toEqual([[0, 0.1], [0.3, 0.4], [0.6, 0.7], [0.7, 0.8]]);
    for (const e of EMOTIONS) {
      const mean = res.windows.reduce((s: number, w: { probabilities: Record<string, number> }) => s + w.probabilities[e]!, 0) / 4;
      expect(res.probabilities[e]).toBeCloseTo(mean, 6);
    }
    // Each window is the model on exactly that slice of the clip.
    const audio = decodeWav(await readFile(b), b).mono;
    const third = await clf.predictSamples(audio.slice(9600, 11200), 16000, { windows: true });
    expect(res.windows[2].probabilities).toEqual(third.probabilities);
    // Default hop: half the window (0.05 s): 0.8 s -> 15 windows.
    expect((await clf.predictFile(b, { windows: true })).windows).toHaveLength(15);
  });

  it('says where the model came from; a synthetic model says so on every run', async () => {
    const a = join(wavs, 'a.wav');
    const syn = cli(a, '--model', model);
    expect(syn.status).toBe(0);
    expect(syn.stdout).toMatch(new RegExp(`a\\.wav: (${EMOTIONS.join('|')}) \\d+\\.\\d%`));
    expect(syn.stderr).toMatch(/model: .*: data: synthetic, profile demo, params sha256 [0-9a-f]{12}\n/);
    expect(syn.stderr).toContain('note: this model was trained on synthetic audio (profile demo); its predictions on real speech are meaningless\n');
    const rav = cli(a, '--model', await writeTinyModel(join(dir, 'ravdess-model'), 'ravdess', 'ravdess-cpu'), '--json');
    expect(rav.stderr).toMatch(/data: ravdess, profile ravdess-cpu/);
    expect(rav.stderr).not.toMatch(/note:/);
    const old = cli(a, '--model', await writeTinyModel(join(dir, 'old-model'), null));
    expect(old.stderr).toMatch(/note: .*old-model\/provenance\.json is missing .*: where its training data came from is unknown/);
  });

  it('feeds the model the same log-mel as the pipeline path (resample -> segment -> features)', async () => {
    const bytes = await readFile(join(wavs, 'a.wav'));
    const audio = resample(decodeWav(bytes, 'a.wav').mono, 44100, 16000);
    const want = computeLogMel(segmentWindow(audio, 16000, 0.5, 0.1), 16000, featureParamsFrom({ features: FEATURES }));
    const got = clipInputs(audio, tinyPreprocess());
    expect(got.starts).toEqual([8000]);
    expect(got.inputs).toEqual(want);
  });

  it('parses flags; --hop needs --windows and a positive number', () => {
    expect(parsePredictArgs(['x.wav', '--json', '--model', 'm', 'dir', '--backend=cpu', '--windows', '--hop', '0.5', '--strict'])).toEqual({
      inputs: ['x.wav', 'dir'], model: 'm', json: true, backend: 'cpu', windows: true, hop: 0.5, strict: true, help: false,
    });
    expect(() => parsePredictArgs(['--nope'])).toThrow(/unknown flag --nope/);
    expect(() => parsePredictArgs(['x.wav', '--hop', '1'])).toThrow(/--hop needs --windows/);
    expect(() => parsePredictArgs(['x.wav', '--windows', '--hop', '0'])).toThrow(/--hop needs a number of seconds > 0, got '0'/);
    expect(windowStarts(10, 4, 3)).toEqual([0, 3, 6]);
    expect(windowStarts(11, 4, 3)).toEqual([0, 3, 6, 7]);
    expect(windowStarts(3, 4, 3)).toEqual([0]);
  });
});

describe('README example (examples/classify.ts)', () => {
  it('runs against a tiny model and agrees with ser-predict --json', async () => {
    const a = join(wavs, 'a.wav');
    const r = spawnSync(process.execPath, ['--import', 'tsx', EXAMPLE, model, a], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toContain('note: this model was trained on synthetic audio (profile demo)');
    expect(r.status).toBe(0);
    const json = (await predict({ inputs: [a] })).json[0];
    const windowed = (await predict({ inputs: [a], windows: true })).json[0];
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`${a}: ${json.emotion} ${(json.confidence * 100).toFixed(1)}%`);
    expect(lines[1]).toBe(`${a}: ${windowed.emotion} over ${windowed.windows.length} windows`);
    expect(lines).toHaveLength(2 + windowed.windows.length + 1);
    expect(lines.at(-1)).toMatch(/^hum: \w+, probabilities \{"neutral":/);
  });

  it('is the code shown in README.md', async () => {
    const readme = await readFile(resolve(import.meta.dirname, '../README.md'), 'utf8');
    const example = await readFile(EXAMPLE, 'utf8');
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
  });
});
