// The `model` stage (only this file and cli.ts): params -> seeded untrained model + summary.json
// in outputs.dir. The rest of the package is the model library train, evaluate and predict use.
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { arr, getParam, num, str, stageLog, type Params, type StageArgs, writeJsonAtomic, ParamError } from '@ser/stage-kit';
import { tf } from './tf.ts';
import { buildModel, countParams, inputFrames, layerSummary, type InputShape, type ModelConfig } from './core.ts';
import { saveModel } from './io.ts';

const posInt = num({ min: 1, integer: true });

/** Reads and checks `model.*` (ParamError names the offending key). */
export function modelConfigFrom(p: Params): ModelConfig {
  const size2 = (key: string): [number, number] => getParam(p, key, arr(posInt, { length: 2 })) as [number, number];
  const cfg: ModelConfig = {
    channels: getParam(p, 'model.channels', arr(posInt, { minLength: 1 })),
    pool: { kind: getParam(p, 'model.pool.kind', str({ oneOf: ['max', 'avg'] })) as 'max' | 'avg', size: size2('model.pool.size') },
    dropout: getParam(p, 'model.dropout', num({ min: 0, max: 0.99 })),
    cnn_dim: getParam(p, 'model.cnn_dim', posInt),
    transformer_pool: size2('model.transformer_pool'),
    transformer_layers: getParam(p, 'model.transformer_layers', num({ min: 0, integer: true })),
    d_model: getParam(p, 'model.d_model', posInt),
    heads: getParam(p, 'model.heads', posInt),
    ffn_dim: getParam(p, 'model.ffn_dim', posInt),
    transformer_dropout: getParam(p, 'model.transformer_dropout', num({ min: 0, max: 0.99 })),
    positional_encoding: getParam(p, 'model.positional_encoding', str({ oneOf: ['sinusoidal', 'learned', 'none'] })) as ModelConfig['positional_encoding'],
    attention_dim: getParam(p, 'model.attention_dim', posInt),
  };
  if (cfg.d_model % cfg.heads !== 0) {
    throw new ParamError('model.heads', `params: model.heads (${cfg.heads}) must divide model.d_model (${cfg.d_model})`);
  }
  return cfg;
}

/** Input shape [n_mels, frames] from the feature params the model depends on. */
export function inputShapeFrom(p: Params): InputShape {
  const sr = getParam(p, 'ingest.sample_rate', posInt);
  const duration = getParam(p, 'segment.duration', num({ min: 1e-3 }));
  const hop = getParam(p, 'features.hop_length', posInt);
  const nMels = getParam(p, 'features.n_mels', posInt);
  return { nMels, frames: inputFrames(duration, sr, hop) };
}

/** Checks that every pooling keeps at least one cell (a too-small input is a param problem). */
function checkSizes(cfg: ModelConfig, input: InputShape): void {
  let [m, t] = [input.nMels, input.frames];
  for (let i = 0; i < cfg.channels.length; i++) {
    m = Math.floor(m / cfg.pool.size[0]);
    t = Math.floor(t / cfg.pool.size[1]);
  }
  if (m < 1 || t < 1) {
    throw new ParamError('model.pool.size', `params: model.pool.size ${JSON.stringify(cfg.pool.size)} x ${cfg.channels.length} blocks pools the ${input.nMels}x${input.frames} input to nothing`);
  }
  if (Math.floor(input.nMels / cfg.transformer_pool[0]) < 1 || Math.floor(input.frames / cfg.transformer_pool[1]) < 1) {
    throw new ParamError('model.transformer_pool', `params: model.transformer_pool is larger than the ${input.nMels}x${input.frames} input`);
  }
}

export interface ModelSummary {
  params: { total: number; trainable: number };
  input: InputShape;
  seed: number;
  config: ModelConfig;
  layers: ReturnType<typeof layerSummary>;
}

/**
 * The model stage (no inputs): builds the seeded model from params and writes
 * `outputs.dir`/{model.json, weights.bin, summary.json}. Written into a sibling temp dir first and
 * renamed, so a failure leaves no half-written folder.
 */
export async function runModel(a: StageArgs<never, 'dir'>): Promise<ModelSummary> {
  const { params: p } = a;
  const { dir: outDir } = a.outputs;
  const log = stageLog(a);
  const cfg = modelConfigFrom(p);
  const input = inputShapeFrom(p);
  const seed = getParam(p, 'seed', num({ integer: true, min: 0 }));
  checkSizes(cfg, input);
  await tf.setBackend('cpu'); // initial values are drawn in JS; cpu avoids loading wasm for a build
  const model = buildModel(cfg, input, seed);
  const params = countParams(model);
  log(`model: input ${input.nMels} mels x ${input.frames} frames, ${params.total} parameters (${params.trainable} trainable)`);
  const summary: ModelSummary = { params, input, seed, config: cfg, layers: layerSummary(model) };
  const tmp = join(dirname(outDir), `.${basename(outDir)}.tmp-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  try {
    await mkdir(tmp, { recursive: true });
    await saveModel(model, tmp);
    await writeJsonAtomic(join(tmp, 'summary.json'), summary);
    await rm(outDir, { recursive: true, force: true });
    await rename(tmp, outDir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    model.dispose();
  }
  return summary;
}
