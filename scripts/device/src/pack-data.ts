// Packs a RAVDESS-style folder of WAVs into .device/data: the analysis windows only (data-codec.ts),
// xz-compressed, split into parts < 60 MiB with a manifest.
// Usage: tsx scripts/device/src/pack-data.ts --data-dir DIR [--out-dir .device/data] [--part-mib 56]
//          [--offset 0.5] [--duration 3.0] [--limit N]
import { mkdirSync, readFileSync, rmSync, writeSync, openSync, closeSync, statSync, renameSync, existsSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import fg from 'fast-glob';
import { clipFromWav, encodeClip, streamHeader, DEFAULT_WINDOW, type Window } from './data-codec.ts';
import { splitFile, MIB, type PartsManifest } from './parts.ts';
import { xzCompress } from './xz.ts';

export interface PackDataOptions { dataDir: string; outDir: string; partBytes: number; window: Window; limit?: number; prefix?: string; xzPreset?: number }

/** Writes the parts; returns the manifest (meta: clips, rawBytes, window). */
export function packData(o: PackDataOptions): PartsManifest {
  if (!existsSync(o.dataDir)) throw new Error(`data dir not found: ${o.dataDir}`);
  let files = fg.sync('**/*.wav', { cwd: o.dataDir, caseSensitiveMatch: false }).sort();
  if (o.limit !== undefined) files = files.slice(0, o.limit);
  if (files.length === 0) throw new Error(`no .wav files under ${o.dataDir}`);
  const prefix = o.prefix ?? 'ravdess';
  const tmp = `${resolve(o.outDir)}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const raw = join(tmp, `${prefix}.serc`);
  const fd = openSync(raw, 'w');
  let stereo = 0;
  try {
    writeSync(fd, streamHeader(files.length));
    for (const f of files) {
      const clip = clipFromWav(readFileSync(join(o.dataDir, f)), f.split(sep).join('/'), o.window);
      if (clip.channels.length > 1) stereo++;
      writeSync(fd, encodeClip(clip));
    }
  } finally {
    closeSync(fd);
  }
  const rawBytes = statSync(raw).size;
  xzCompress(raw, `${raw}.xz`, o.xzPreset ?? 6);
  rmSync(raw);
  const m = splitFile(`${raw}.xz`, tmp, prefix, o.partBytes, {
    kind: 'serclip-xz', clips: files.length, stereo, rawBytes,
    offsetS: o.window.offsetS, durationS: o.window.durationS, marginFrames: o.window.marginFrames,
  });
  rmSync(`${raw}.xz`);
  // Replace the out dir's parts of this prefix only when everything is written.
  mkdirSync(o.outDir, { recursive: true });
  for (const f of fg.sync(`${prefix}.*`, { cwd: o.outDir })) rmSync(join(o.outDir, f));
  for (const f of fg.sync('*', { cwd: tmp })) renameSync(join(tmp, f), join(o.outDir, f));
  rmSync(tmp, { recursive: true, force: true });
  return m;
}

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const dataDir = flag(argv, 'data-dir') ?? process.env['RAVDESS_DIR'];
  if (!dataDir) {
    console.error('pack-data: --data-dir DIR (or RAVDESS_DIR) is required');
    process.exit(1);
  }
  const t0 = Date.now();
  try {
    const m = packData({
      dataDir,
      outDir: flag(argv, 'out-dir') ?? '.device/data',
      partBytes: Number(flag(argv, 'part-mib') ?? 56) * MIB,
      window: { ...DEFAULT_WINDOW, offsetS: Number(flag(argv, 'offset') ?? 0.5), durationS: Number(flag(argv, 'duration') ?? 3.0) },
      ...(flag(argv, 'limit') ? { limit: Number(flag(argv, 'limit')) } : {}),
    });
    const meta = m.meta as { clips: number; rawBytes: number; stereo: number };
    console.log(`${meta.clips} clips (${meta.stereo} stereo), raw ${(meta.rawBytes / MIB).toFixed(1)} MiB -> xz ${(m.bytes / MIB).toFixed(1)} MiB in ${m.parts.length} part(s) [${((Date.now() - t0) / 1000).toFixed(0)} s]`);
    for (const p of m.parts) console.log(`  ${p.file}  ${(p.bytes / MIB).toFixed(2)} MiB  ${p.sha256.slice(0, 12)}`);
  } catch (e) {
    console.error(`pack-data: ${(e as Error).message}`);
    process.exit(1);
  }
}
