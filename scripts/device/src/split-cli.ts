// Usage: tsx scripts/device/src/split-cli.ts <file> <outDir> <prefix> <partMiB> [metaJson]
import { splitFile, MIB } from './parts.ts';

const [file, outDir, prefix, mib, meta] = process.argv.slice(2);
if (!file || !outDir || !prefix || !mib) {
  console.error('split-cli: <file> <outDir> <prefix> <partMiB> [metaJson]');
  process.exit(1);
}
const m = splitFile(file, outDir, prefix, Number(mib) * MIB, meta ? (JSON.parse(meta) as Record<string, unknown>) : undefined);
console.log(`${m.name}: ${(m.bytes / MIB).toFixed(2)} MiB in ${m.parts.length} part(s) of <= ${mib} MiB`);
