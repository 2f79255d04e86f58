// Which files of node_modules the GPU host needs: the runtime dependency closure of our packages
// (packages/*: dependencies + installed optionalDependencies, recursively, node resolution) minus
// what Node never loads there: source maps, type declarations, docs, browser bundles of tfjs, and
// the `webgpu` package's Dawn builds for other platforms. The @ser/* workspace links and the
// node_modules/.bin links into kept packages are kept as links (they point into packages/, which
// travels with the repository anyway).
// Usage: tsx scripts/device/src/select-modules.ts [root] > list   (one path per line, relative to root)
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import fg from 'fast-glob';

interface Pkg { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; name?: string }
const readPkg = (dir: string): Pkg => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Pkg;

/** Node resolution of package `name` from a package at `fromDir` (nested node_modules first). */
export function resolvePackage(name: string, fromDir: string, root: string): string | undefined {
  for (let d = fromDir; ; d = dirname(d)) {
    const cand = join(d, 'node_modules', name);
    if (existsSync(join(cand, 'package.json'))) return cand;
    if (resolve(d) === resolve(root) || dirname(d) === d) return undefined;
  }
}

/** Package dirs (relative to root, under node_modules) in the runtime closure of packages/*. */
export function packageClosure(root: string): string[] {
  const seen = new Set<string>();
  const queue: string[] = [root, ...fg.sync('packages/*/package.json', { cwd: root }).map((p) => join(root, dirname(p)))];
  while (queue.length) {
    const dir = queue.pop()!;
    const pkg = readPkg(dir);
    const names = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})];
    for (const n of names) {
      if (n.startsWith('@types/')) continue;
      const real = dir.startsWith(join(root, 'packages')) ? root : dir; // workspace packages resolve from the root
      const at = resolvePackage(n, real, root);
      if (!at) continue; // an optional dependency not installed (tfjs-node, fsevents, other platforms)
      const rel = relative(root, at);
      if (seen.has(rel)) continue;
      seen.add(rel);
      if (lstatSync(at).isSymbolicLink()) continue; // @ser/* -> packages/*, queued above
      queue.push(at);
    }
  }
  return [...seen].sort();
}

/** True for files of a kept package that the host never loads. */
export function dropFile(pkgRel: string, fileRel: string): boolean {
  if (/\.(map|d\.ts|d\.mts|d\.cts|md|markdown|html|tsbuildinfo)$/i.test(fileRel) && !/^license/i.test(fileRel)) return true;
  if (/(^|\/)(test|tests|__tests__|docs?|example|examples|src)\//.test(fileRel) && pkgRel.includes('@tensorflow')) return true;
  if (pkgRel.startsWith(`node_modules${sep}@tensorflow${sep}`)) {
    // Node loads `main` = dist/<name>.node.js; the wasm backend also reads dist/*.wasm.
    if (fileRel === 'package.json' || /^LICENSE/i.test(fileRel)) return false;
    return !(/^dist\/[^/]+\.node\.js$/.test(fileRel) || /^dist\/[^/]+\.wasm$/.test(fileRel));
  }
  if (pkgRel === join('node_modules', 'webgpu')) return fileRel.startsWith('dist/') && !fileRel.startsWith('dist/linux-x64/');
  return false;
}

/** Every path (files and links) to pack, relative to root. */
export function selectFiles(root: string): string[] {
  const pkgs = packageClosure(root);
  // Every workspace link (node_modules/@ser/* -> packages/*), also those no package depends on
  // (@ser/pipeline: its bin runs the stages).
  const ws = join(root, 'node_modules', '@ser');
  if (existsSync(ws)) for (const n of readdirSync(ws)) if (!pkgs.includes(join('node_modules', '@ser', n))) pkgs.push(join('node_modules', '@ser', n));
  const out: string[] = [];
  for (const p of pkgs) {
    const abs = join(root, p);
    if (lstatSync(abs).isSymbolicLink()) {
      out.push(p);
      continue;
    }
    const nestedSkip = pkgs.filter((q) => q !== p && q.startsWith(p + sep)).map((q) => relative(p, q).split(sep).join('/') + '/**');
    for (const f of fg.sync('**', { cwd: abs, dot: true, onlyFiles: true, followSymbolicLinks: false, ignore: ['node_modules/**', ...nestedSkip] })) {
      if (!dropFile(p, f)) out.push(join(p, f));
    }
  }
  // .bin links whose target is kept (or is one of our packages' bins).
  const bin = join(root, 'node_modules', '.bin');
  if (existsSync(bin)) {
    const kept = new Set(out);
    for (const name of readdirSync(bin)) {
      const link = join(bin, name);
      if (!lstatSync(link).isSymbolicLink()) continue;
      const target = relative(root, resolve(bin, readlinkSync(link)));
      const ours = target.startsWith(join('node_modules', '@ser') + sep);
      if (ours || kept.has(target)) out.push(relative(root, link));
    }
  }
  return out.sort();
}

/** Bytes of the selected regular files (links count 0). */
export function selectedBytes(root: string, files: string[]): number {
  return files.reduce((s, f) => s + (lstatSync(join(root, f)).isSymbolicLink() ? 0 : statSync(join(root, f)).size), 0);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = resolve(process.argv[2] ?? '.');
  const files = selectFiles(root);
  process.stdout.write(files.join('\n') + '\n');
  console.error(`select-modules: ${files.length} paths, ${(selectedBytes(root, files) / 2 ** 20).toFixed(1)} MiB uncompressed`);
}
