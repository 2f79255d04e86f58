// Rebuilds the WAVs from .device/data parts (checks every part's sha256 first).
// Usage: tsx scripts/device/src/unpack-data.ts [--in-dir .device/data] [--prefix ravdess] --out-dir DIR
import { mkdirSync, readFileSync, rmSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { decodeStream, wavFromClip } from './data-codec.ts';
import { joinParts, readManifest } from './parts.ts';
import { xzDecompress } from './xz.ts';

/** Verifies the parts, writes `<outDir>/<name>.wav` for every clip; returns the clip count. */
export function unpackData(inDir: string, outDir: string, prefix = 'ravdess'): number {
  const m = readManifest(join(inDir, `${prefix}.manifest.json`));
  const xz = joinParts(inDir, m);
  const tmp = `${resolve(outDir)}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'stream.xz'), xz);
  xzDecompress(join(tmp, 'stream.xz'), join(tmp, 'stream'));
  rmSync(join(tmp, 'stream.xz'));
  const stream = readFileSync(join(tmp, 'stream'));
  rmSync(join(tmp, 'stream'));
  let n = 0;
  for (const clip of decodeStream(stream)) {
    const path = join(tmp, clip.name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, wavFromClip(clip));
    n++;
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(dirname(resolve(outDir)), { recursive: true });
  renameSync(tmp, outDir);
  return n;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const get = (k: string) => (argv.indexOf(`--${k}`) >= 0 ? argv[argv.indexOf(`--${k}`) + 1] : undefined);
  const outDir = get('out-dir');
  if (!outDir) {
    console.error('unpack-data: --out-dir DIR is required');
    process.exit(1);
  }
  try {
    const inDir = get('in-dir') ?? '.device/data';
    if (!existsSync(inDir)) throw new Error(`in dir not found: ${inDir}`);
    const n = unpackData(inDir, outDir, get('prefix') ?? 'ravdess');
    console.log(`unpacked ${n} clips into ${outDir}`);
  } catch (e) {
    console.error(`unpack-data: ${(e as Error).message}`);
    process.exit(1);
  }
}
