// The transfers that carry the packs to the GPU host and run everything, built from the manifests:
// which paths each transfer carries (at most 8, under the 64 MiB per-transfer limit together with the
// working tree), its command (at most 2,000 characters) and its timeout. docs/GPU.md shows the output.
// Usage: tsx scripts/device/src/plan.ts [--json] [--max-epochs N] [--seed-timeout-s S] [--seeds 1,2,3,4,5]
import { execSync } from 'node:child_process';
import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readManifest, MIB, type PartsManifest } from './parts.ts';

export const CALL_LIMIT_BYTES = 64 * MIB; // one transfer: the working tree + the pack files it carries
export const MAX_CARRY = 8;
export const MAX_COMMAND = 2000;
export const SAFETY_BYTES = 1 * MIB;

export interface DeviceCall { carry: string[]; command: string; timeout_s: number; bytes: number; what: string }
export interface PlanOptions { repoBytes: number; seeds?: number[]; maxEpochs?: number; seedTimeoutS?: number }

const REMOTE = 'bash scripts/device/remote.sh';

/** The paper-mode arguments of remote.sh. */
export function paperArgs(o: PlanOptions): string {
  return [
    'paper',
    `--seeds ${(o.seeds ?? [1, 2, 3, 4, 5]).join(',')}`,
    ...(o.maxEpochs !== undefined ? [`--max-epochs ${o.maxEpochs}`] : []),
    ...(o.seedTimeoutS !== undefined ? [`--seed-timeout-s ${o.seedTimeoutS}`] : []),
  ].join(' ');
}

/**
 * Call 1 carries the runtime (plus data parts that still fit) and runs setup, probe, bench and
 * loss-curve; the next transfers carry the remaining data parts (first fit); the last one, by which
 * time every part is on the host, also unpacks the corpus and runs the paper configuration.
 */
export function planCalls(rt: PartsManifest, data: PartsManifest | undefined, o: PlanOptions): DeviceCall[] {
  const cap = CALL_LIMIT_BYTES - o.repoBytes - SAFETY_BYTES;
  const rtBytes = rt.parts.reduce((s, p) => s + p.bytes, 0) + 8192; // + manifest and sums
  if (rtBytes > cap) throw new Error(`runtime parts (${(rtBytes / MIB).toFixed(1)} MiB) do not fit one transfer (${(cap / MIB).toFixed(1)} MiB free beside the ${(o.repoBytes / MIB).toFixed(1)} MiB working tree)`);
  const dataMeta = ['.device/data/ravdess.manifest.json', '.device/data/ravdess.SHA256SUMS'];
  const calls: DeviceCall[] = [{ carry: ['.device/rt'], command: `${REMOTE} setup probe bench loss-curve`, timeout_s: 480, bytes: o.repoBytes + rtBytes, what: 'runtime; probe, bench, loss curve' }];
  if (data) {
    // First fit, in part order: a part goes into the first transfer with room (bytes and carry slots).
    for (const p of data.parts) {
      if (o.repoBytes + p.bytes + 2 * 8192 > CALL_LIMIT_BYTES - SAFETY_BYTES) throw new Error(`data part ${p.file} (${(p.bytes / MIB).toFixed(1)} MiB) is larger than one transfer can carry`);
      const fits = (c: DeviceCall) =>
        c.bytes + p.bytes + (c.carry.includes(dataMeta[0]!) ? 0 : 8192) <= CALL_LIMIT_BYTES - SAFETY_BYTES &&
        c.carry.length + (c.carry.includes(dataMeta[0]!) ? 0 : dataMeta.length) + 1 <= MAX_CARRY;
      let cur = calls.find(fits);
      if (!cur) {
        cur = { carry: [], command: `${REMOTE} setup`, timeout_s: 180, bytes: o.repoBytes, what: 'data parts' };
        calls.push(cur);
      }
      if (!cur.carry.includes(dataMeta[0]!)) {
        cur.carry.push(...dataMeta);
        cur.bytes += 8192;
      }
      cur.carry.push(`.device/data/${p.file}`);
      cur.bytes += p.bytes;
    }
    const last = calls[calls.length - 1]!;
    last.command = `${last === calls[0] ? `${REMOTE} setup probe bench loss-curve` : `${REMOTE} setup`} ${paperArgs(o)}`;
    last.timeout_s = 600;
    last.what += '; corpus unpacked; paper configuration';
  }
  for (const c of calls) {
    if (c.carry.length > MAX_CARRY) throw new Error(`a call carries ${c.carry.length} paths (> ${MAX_CARRY})`);
    if (c.command.length > MAX_COMMAND) throw new Error(`a command is ${c.command.length} characters (> ${MAX_COMMAND})`);
  }
  return calls;
}

/** Bytes of what a transfer sends besides the pack files: tracked + untracked-not-ignored files. */
export function workingTreeBytes(root: string): number {
  const out = execSync('git ls-files -z -co --exclude-standard', { cwd: root, maxBuffer: 1 << 26 });
  let n = 0;
  for (const f of out.toString('utf8').split('\0')) {
    if (!f) continue;
    const p = join(root, f);
    if (existsSync(p)) n += lstatSync(p).size;
  }
  return n;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const argv = process.argv.slice(2);
  const get = (k: string) => (argv.includes(`--${k}`) ? argv[argv.indexOf(`--${k}`) + 1] : undefined);
  try {
    const rt = readManifest(join(root, '.device/rt/runtime.manifest.json'));
    const dataPath = join(root, '.device/data/ravdess.manifest.json');
    const data = existsSync(dataPath) ? readManifest(dataPath) : undefined;
    const repoBytes = workingTreeBytes(root);
    const calls = planCalls(rt, data, {
      repoBytes,
      ...(get('seeds') ? { seeds: get('seeds')!.split(',').map(Number) } : {}),
      ...(get('max-epochs') ? { maxEpochs: Number(get('max-epochs')) } : {}),
      ...(get('seed-timeout-s') ? { seedTimeoutS: Number(get('seed-timeout-s')) } : {}),
    });
    if (argv.includes('--json')) console.log(JSON.stringify(calls, null, 2));
    else {
      console.log(`working tree ${(repoBytes / MIB).toFixed(2)} MiB; ${calls.length} device call(s)${data ? '' : ' (no data pack: run pack-data first)'}`);
      calls.forEach((c, i) => {
        console.log(`\n${i + 1}. ${c.what}  (~${(c.bytes / MIB).toFixed(1)} MiB sent)`);
        console.log(`   carry: ${JSON.stringify(c.carry)}`);
        console.log(`   timeout_s: ${c.timeout_s}`);
        console.log(`   command: ${c.command}`);
      });
    }
  } catch (e) {
    console.error(`plan: ${(e as Error).message}`);
    process.exit(1);
  }
}
