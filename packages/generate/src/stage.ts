// The generate stage's edge: params -> CorpusOptions, and writing the corpus folder.
// Files are written one by one (memory: one clip) into `<out>.partial-<pid>`, which replaces
// `<out>` only when every file is written, so a failed run leaves no half-written corpus.

import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ParamError, getParam, nullable, num, progress, stageLog, type Params, type StageArgs } from '@ser/stage-kit';
import { CLIPS_PER_ACTOR, DEFAULT_OPTIONS, MAX_ACTORS, clipPath, clipWav, corpusClips, ravdessStem, stereoStems, type CorpusOptions } from './core.ts';

/** Read and check the `generate` params (seed, actors required; clips_per_actor, stereo_files,
 *  sample_rate optional). Bad values throw a ParamError naming the key. */
export function generateOptionsFrom(p: Params): CorpusOptions {
  const seed = getParam(p, 'generate.seed', num({ integer: true, min: 0, max: 2 ** 32 - 1 }));
  const actors = getParam(p, 'generate.actors', num({ integer: true, min: 1, max: MAX_ACTORS }));
  const clipsPerActor =
    getParam(p, 'generate.clips_per_actor', nullable(num({ integer: true, min: 1, max: CLIPS_PER_ACTOR }))) ?? DEFAULT_OPTIONS.clipsPerActor;
  const stereoFiles = getParam(p, 'generate.stereo_files', nullable(num({ integer: true, min: 0 }))) ?? DEFAULT_OPTIONS.stereoFiles;
  const total = actors * clipsPerActor;
  if (stereoFiles > total) {
    throw new ParamError('generate.stereo_files', `params: generate.stereo_files must be <= the number of clips (${total}), got ${stereoFiles}`);
  }
  const sampleRate =
    getParam(p, 'generate.sample_rate', nullable(num({ integer: true, min: 8000, max: 192000 }))) ?? DEFAULT_OPTIONS.sampleRate;
  return { seed, actors, clipsPerActor, stereoFiles, sampleRate };
}

export interface GenerateSummary {
  files: number;
  stereo: string[];
  bytes: number;
  seconds: number;
}

/** Write the corpus under `outDir` (`Actor_XX/<stem>.wav`), replacing it atomically.
 *  `onProgress(done, total)` is called after each file. */
export async function writeCorpus(outDir: string, opts: CorpusOptions, onProgress?: (done: number, total: number) => void): Promise<GenerateSummary> {
  const t0 = performance.now();
  const clips = corpusClips(opts.actors, opts.clipsPerActor);
  const stereo = stereoStems(opts.seed, clips, opts.stereoFiles);
  const tmp = `${outDir.replace(/\/+$/, '')}.partial-${process.pid}`;
  await mkdir(dirname(tmp), { recursive: true });
  await rm(tmp, { recursive: true, force: true });
  let bytes = 0;
  try {
    const made = new Set<string>();
    for (let i = 0; i < clips.length; i++) {
      const c = clips[i]!;
      const rel = clipPath(c);
      const dir = dirname(rel);
      if (!made.has(dir)) {
        await mkdir(join(tmp, dir), { recursive: true });
        made.add(dir);
      }
      const wav = clipWav(opts, c, stereo.has(ravdessStem(c)), i);
      await writeFile(join(tmp, rel), wav);
      bytes += wav.length;
      onProgress?.(i + 1, clips.length);
    }
    await rm(outDir, { recursive: true, force: true });
    await rename(tmp, outDir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return { files: clips.length, stereo: [...stereo].sort(), bytes, seconds: (performance.now() - t0) / 1000 };
}

/** The generate stage: the corpus of the `generate.*` params into `outputs.dir` (no inputs). */
export async function runGenerate(a: StageArgs<never, 'dir'>): Promise<GenerateSummary> {
  const log = stageLog(a);
  const opts = generateOptionsFrom(a.params);
  const out = a.outputs.dir;
  log(`generate: seed ${opts.seed}, ${opts.actors} actors x ${opts.clipsPerActor} clips, ${opts.sampleRate} Hz -> ${out}`);
  const s = await writeCorpus(out, opts, (d, t) => progress(d, t, 'generate'));
  log(`generate: ${s.files} files, ${(s.bytes / 1e6).toFixed(1)} MB in ${s.seconds.toFixed(1)} s; stereo: ${s.stereo.join(', ') || 'none'}`);
  return s;
}
