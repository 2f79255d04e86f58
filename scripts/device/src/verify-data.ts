// Checks a corpus pack against the original WAVs: unpacks it into a temp folder, then for every
// clip compares ingest (decodeClip) + segment (segmentWindow) of the rebuilt WAV with the original's.
// Usage: tsx scripts/device/src/verify-data.ts --data-dir ORIGINAL [--in-dir .device/data] [--offset 0.5] [--duration 3.0] [--sample-rate 48000]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fg from 'fast-glob';
import { segmentWindow } from '@ser/audio';
import { decodeClip } from '@ser/ingest';
import { unpackData } from './unpack-data.ts';

const argv = process.argv.slice(2);
const get = (k: string, d?: string) => (argv.includes(`--${k}`) ? argv[argv.indexOf(`--${k}`) + 1] : d);
const orig = get('data-dir');
if (!orig) {
  console.error('verify-data: --data-dir ORIGINAL is required');
  process.exit(1);
}
const sr = Number(get('sample-rate', '48000'));
const offset = Number(get('offset', '0.5'));
const duration = Number(get('duration', '3.0'));
const tmp = mkdtempSync(join(tmpdir(), 'verify-data-'));
try {
  const t0 = Date.now();
  const n = unpackData(get('in-dir', '.device/data')!, join(tmp, 'out'));
  const names = fg.sync('**/*.wav', { cwd: orig, caseSensitiveMatch: false }).sort();
  let same = 0;
  const bad: string[] = [];
  for (const f of names) {
    const seg = (dir: string) => segmentWindow(decodeClip(readFileSync(join(dir, f)), f, sr).audio, sr, offset, duration);
    const a = seg(orig);
    const b = seg(join(tmp, 'out'));
    if (Buffer.from(a.buffer).equals(Buffer.from(b.buffer))) same++;
    else bad.push(f);
  }
  console.log(`unpacked ${n} clips; ${same}/${names.length} segments bit-identical to the originals' [${((Date.now() - t0) / 1000).toFixed(0)} s]`);
  if (bad.length || n !== names.length) {
    console.error(`verify-data: differ: ${bad.slice(0, 10).join(', ')}${bad.length > 10 ? ' ...' : ''}`);
    process.exitCode = 1;
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
