// Loads the engine fast: an esbuild bundle in dist/ (rebuilt when any src/*.ts is newer), else tsx.
// tsx alone costs ~0.25 s of startup; the bundle keeps a no-op `repro` well under 0.3 s.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const pkg = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const src = path.join(pkg, 'src');
const dist = path.join(pkg, 'dist');
const ENTRIES = ['cli', 'index'];

// The bundle holds the engine and the workspace package it imports (@ser/report).
const BUNDLED_SRC = [src, path.join(pkg, '..', 'report', 'src')];

function newestSrc() {
  let t = 0;
  for (const dir of BUNDLED_SRC) for (const f of fs.readdirSync(dir)) t = Math.max(t, fs.statSync(path.join(dir, f)).mtimeMs);
  return t;
}

function fresh() {
  try {
    const t = newestSrc();
    return ENTRIES.every((e) => fs.statSync(path.join(dist, `${e}.mjs`)).mtimeMs >= t);
  } catch {
    return false;
  }
}

/** Build the bundle into dist/ (entries replaced atomically). */
export async function build() {
  const esbuild = await import('esbuild');
  const tmp = path.join(dist, `.build-${process.pid}`);
  await esbuild.build({
    entryPoints: ENTRIES.map((e) => path.join(src, `${e}.ts`)),
    outdir: tmp,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    splitting: true,
    chunkNames: 'chunk-[hash]',
    logLevel: 'silent',
    // ajv and fast-glob are required lazily at runtime through createRequire, and the S3 SDK is
    // imported only by a command that uses an S3 remote; keep node_modules resolution for them.
    // vega and vega-lite (plots --format svg) load on first use, from node_modules.
    external: ['ajv', 'fast-glob', '@aws-sdk/client-s3', 'vega', 'vega-lite'],
    minify: true,
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  // Chunks first, entries last (rename is atomic; a concurrent reader sees old or new entry files).
  const files = fs.readdirSync(tmp).sort((a, b) => Number(ENTRIES.some((e) => a === `${e}.mjs`)) - Number(ENTRIES.some((e) => b === `${e}.mjs`)));
  for (const f of files) fs.renameSync(path.join(tmp, f), path.join(dist, f));
  fs.rmSync(tmp, { recursive: true, force: true });
}

/** Import the engine entry `cli` or `index`. */
export async function loadEngine(entry) {
  if (process.env.SER_PIPELINE_TSX !== '1') {
    try {
      if (!fresh()) await build();
      return await import(pathToFileURL(path.join(dist, `${entry}.mjs`)).href);
    } catch (e) {
      if (process.env.SER_PIPELINE_DEBUG) console.error('ser-pipeline: bundle unavailable, using tsx:', e);
    }
  }
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(path.join(src, `${entry}.ts`)).href);
}
