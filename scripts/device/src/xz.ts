// xz through the system's `xz`, else Python's lzma (the GPU host always has python3; xz may be absent).
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

function run(cmd: string, args: string[], outFile: string, what: string): void {
  const fd = openSync(outFile, 'w');
  try {
    const r = spawnSync(cmd, args, { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${what} failed (${cmd} exit ${r.status ?? r.signal}): ${(r.stderr ?? '').trim() || r.error?.message}`);
  } finally {
    closeSync(fd);
  }
}

/** src -> dst (.xz), preset 0-9, threads = xz -T. */
export function xzCompress(src: string, dst: string, preset = 6, threads = 2): void {
  if (has('xz', ['--version'])) return run('xz', [`-${preset}`, `-T${threads}`, '-c', src], dst, `xz of ${src}`);
  run('python3', ['-c', `import lzma,shutil,sys\nwith open(sys.argv[1],'rb') as i, lzma.open(sys.stdout.buffer,'wb',preset=${preset}) as o: shutil.copyfileobj(i,o,1<<24)`, src], dst, `lzma of ${src}`);
}

/** src (.xz) -> dst. */
export function xzDecompress(src: string, dst: string): void {
  if (has('xz', ['--version'])) return run('xz', ['-dc', src], dst, `xz -d of ${src}`);
  run('python3', ['-c', `import lzma,shutil,sys\nwith lzma.open(sys.argv[1],'rb') as i: shutil.copyfileobj(i,sys.stdout.buffer,1<<24)`, src], dst, `lzma -d of ${src}`);
}
