// Classify WAV files, and audio already in memory, with a model trained by the pipeline.
//   npx tsx packages/predict/examples/classify.ts artifacts/demo/train/model clip.wav [more.wav ...]
import { loadClassifier } from '@ser/predict';

const [modelDir, ...wavs] = process.argv.slice(2);
if (!modelDir || wavs.length === 0) throw new Error('usage: classify.ts <model dir> <file.wav ...>');

const clf = await loadClassifier(modelDir); // backend auto; { backend: 'cpu' } to choose
for (const note of clf.notes) console.error(`note: ${note}`); // e.g. trained on synthetic audio

for (const wav of wavs) {
  // The training window (segment.offset, segment.duration) of the clip:
  const one = await clf.predictFile(wav);
  for (const w of one.warnings) console.error(`warning: ${wav}: ${w}`); // e.g. shorter than the window
  console.log(`${wav}: ${one.emotion} ${(one.confidence * 100).toFixed(1)}%`);
  // The whole clip in windows (hop: half the window unless given); the answer is their mean:
  const all = await clf.predictFile(wav, { windows: true });
  console.log(`${wav}: ${all.emotion} over ${all.windows!.length} windows`);
  for (const w of all.windows!) console.log(`  ${w.start_s.toFixed(2)}-${w.end_s.toFixed(2)} s: ${w.emotion} ${(w.probabilities[w.emotion]! * 100).toFixed(1)}%`);
}

// Mono samples in memory at any rate (resampled to the model's):
const rate = 22050;
const hum = Float32Array.from({ length: 2 * rate }, (_, i) => 0.2 * Math.sin((2 * Math.PI * 220 * i) / rate));
const p = await clf.predictSamples(hum, rate, { windows: true, hop: 0.5 });
console.log(`hum: ${p.emotion}, probabilities ${JSON.stringify(p.probabilities)}`);
clf.dispose();
