// Save/load a LayersModel as tfjs's model.json + weights.bin in a directory, with Node fs.
// Bytes are deterministic: the topology is JSON of the layer configs, weights in manifest order.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tf } from './tf.ts';
import './layers.ts'; // registers the custom layer classes before any load

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** Writes `dir/model.json` and `dir/weights.bin` (creates `dir`; each file written via a temp + rename). */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(a.weightData ?? new ArrayBuffer(0)));
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: a.weightSpecs ?? [] }],
      };
      await atomicWrite(join(dir, WEIGHTS_BIN), weights);
      await atomicWrite(join(dir, MODEL_JSON), `${JSON.stringify(json, null, 1)}\n`);
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    }),
  );
}

async function atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** Loads a model saved by `saveModel` (or any tfjs layers model.json with one weights file). */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const jsonPath = join(dir, MODEL_JSON);
  let parsed: { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  try {
    parsed = JSON.parse(await readFile(jsonPath, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read model ${jsonPath}: ${(e as Error).message}`);
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of parsed.weightsManifest ?? []) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(await readFile(join(dir, p)));
  }
  const total = buffers.reduce((a, b) => a + b.byteLength, 0);
  const data = new Uint8Array(total);
  let o = 0;
  for (const b of buffers) {
    data.set(b, o);
    o += b.byteLength;
  }
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: parsed.modelTopology, weightSpecs: specs, weightData: data.buffer }));
}
