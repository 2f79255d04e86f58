#!/usr/bin/env bash
# Builds .device/rt/: what the GPU host (x86-64 Linux, CUDA, no Node, no registries) needs to run the
# webgpu training path: this machine's node (stripped, xz), the node_modules closure of packages/*
# (select-modules.ts, tar.xz) and the Vulkan/EGL loader .debs (Debian amd64). All three go into one
# tar, split into parts < 60 MiB (default 56 MiB) with runtime.manifest.json and runtime.SHA256SUMS.
# Usage: scripts/device/pack.sh [--part-mib 56] [--skip-debs]      (run from anywhere; ~2-4 min)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
part_mib=56
skip_debs=0
while [ $# -gt 0 ]; do
  case "$1" in
    --part-mib) part_mib=$2; shift 2 ;;
    --skip-debs) skip_debs=1; shift ;;
    *) echo "pack.sh: unknown flag $1 (expected --part-mib N, --skip-debs)" >&2; exit 1 ;;
  esac
done
cd "$root"
out=.device/rt
work=.device/rt.tmp
rm -rf "$work"; mkdir -p "$work/payload/debs"

# 1. node: must be an x86-64 ELF (the host's processor); stripped of debug info, then checked.
node_bin=$(readlink -f "$(command -v node)")
if ! file -L "$node_bin" | grep -q 'ELF 64-bit.*x86-64'; then
  echo "pack.sh: $node_bin is not an x86-64 ELF ($(file -bL "$node_bin")): the host cannot run it" >&2; exit 1
fi
strip -o "$work/node" "$node_bin"
"$work/node" --version >/dev/null
echo "node $("$work/node" --version): $(du -m "$node_bin" | cut -f1) MiB -> stripped $(du -m "$work/node" | cut -f1) MiB"
xz -9e -T2 -c "$work/node" > "$work/payload/node.xz"
rm "$work/node"

# 2. node_modules closure.
npx --no-install tsx scripts/device/src/select-modules.ts "$root" > "$work/modules.list"
tar -C "$root" -cf - --no-recursion -T "$work/modules.list" | xz -9 -T2 -c > "$work/payload/node_modules.tar.xz"

# 3. Vulkan/EGL loaders (Debian amd64 .debs; `dpkg -x` into / on the host, no package manager needed).
if [ "$skip_debs" = 0 ]; then
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  mkdir -p /tmp/amd64/partial
  apt-get $o update >/dev/null 2>&1 || echo "pack.sh: apt-get update failed; trying the cached lists" >&2
  (cd "$work/payload/debs" && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null 2>&1) \
    || { echo "pack.sh: apt-get download of the Vulkan/EGL loaders failed (re-run, or --skip-debs)" >&2; exit 1; }
fi

# 4. One tar of the payload, split into parts with sha256s.
tar -C "$work/payload" -cf "$work/runtime.tar" .
npx --no-install tsx scripts/device/src/split-cli.ts "$work/runtime.tar" "$work" runtime "$part_mib" \
  "{\"node\":\"$("$node_bin" --version)\",\"modules\":$(wc -l < "$work/modules.list")}"
rm "$work/runtime.tar"
rm -rf "$out"; mkdir -p "$out"
mv "$work"/runtime.* "$out"/
echo "payload:"
ls -l "$work/payload" "$work/payload/debs" | awk 'NF>5 && $1 !~ /^d/ {printf "  %-45s %8.2f MiB\n", $NF, $5/1048576}'
rm -rf "$work"
echo "parts in $out:"
ls -l "$out" | awk 'NF>5 {printf "  %-30s %8.2f MiB\n", $NF, $5/1048576}'
