// ser-generate --out <dir>: write the synthetic RAVDESS-shaped demo corpus (params `generate.*`).
import { loadStageParams, log, parseArgs, progress, runCli } from '@ser/stage-kit';
import { generateOptionsFrom, writeCorpus } from './stage.ts';

await runCli(async (argv) => {
  const args = parseArgs(argv, { out: { type: 'string', required: true, arg: 'dir', desc: 'corpus folder to write (Actor_XX/*.wav)' } }, {
    prog: 'ser-generate',
    summary: 'Writes the synthetic RAVDESS-shaped demo corpus (params generate.*): RAVDESS file names, RIFF quirks, some stereo files.',
    examples: ['ser-generate --out artifacts/demo/generate/corpus --profile demo'],
  });
  const opts = generateOptionsFrom(loadStageParams({ argv }));
  const out = String(args.out);
  log(`generate: seed ${opts.seed}, ${opts.actors} actors x ${opts.clipsPerActor} clips, ${opts.sampleRate} Hz -> ${out}`);
  const s = await writeCorpus(out, opts, (d, t) => progress(d, t, 'generate'));
  log(`generate: ${s.files} files, ${(s.bytes / 1e6).toFixed(1)} MB in ${s.seconds.toFixed(1)} s; stereo: ${s.stereo.join(', ') || 'none'}`);
});
