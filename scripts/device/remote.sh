#!/usr/bin/env bash
# Runs ON the GPU host, in the repository root of the copied working tree, as root.
# Usage: bash scripts/device/remote.sh MODE [MODE ...] [--seeds 1,2,3,4,5] [--max-epochs N] [--seed-timeout-s S] [--loss-steps 40]
#   stash       copy the .device/data parts copied with this transfer to /tmp/ser-parts (no Node needed)
#   setup       stash, then unpack the runtime (.device/rt parts, or the copy left in /tmp by an earlier
#               run on this host), install the Vulkan/EGL loaders, unpack the corpus
#               once all its parts are in /tmp/ser-parts
#   probe       node, nvidia-smi, Vulkan loader, WebGPU adapter info, tfjs webgpu backend + a matmul check  -> $OUT/probe.json
#   bench       samples/s of a paper-size training step: tfjs webgpu vs PyTorch CUDA (same net)     -> $OUT/bench.json
#   loss-curve  demo-size net, fixed batch, --loss-steps SGD steps on webgpu and on wasm, compared     -> $OUT/loss-curve.json
#   paper       pipeline with params.yaml on the real corpus, train.backend webgpu, one run per seed -> $OUT/paper.json
# Everything is logged to $OUT/remote.log. Modes run in the order given; a failing mode is logged and
# the next one still runs; the exit status is that of the last failure (0 if none).
set -uo pipefail
repo=$(pwd)
OUT=${OUT:-$repo/.device/out}
mkdir -p "$OUT"
# SER_TMP moves these (a dry run off the host); SER_NO_DEBS=1 skips installing the loaders into /.
RT=${SER_TMP:-/tmp}/ser-rt            # node, node_modules.tar.xz, debs (kept between runs on the host)
PARTS=${SER_TMP:-/tmp}/ser-parts      # data parts gathered over several transfers
DATA=${SER_TMP:-/tmp}/ser-data        # rebuilt WAVs: $DATA/ravdess/Actor_XX/*.wav
seeds=1,2,3,4,5
max_epochs=
loss_steps=40
seed_timeout_s=
modes=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) seeds=$2; shift 2 ;;
    --max-epochs) max_epochs=$2; shift 2 ;;
    --loss-steps) loss_steps=$2; shift 2 ;;
    --seed-timeout-s) seed_timeout_s=$2; shift 2 ;;
    stash|setup|probe|bench|loss-curve|paper) modes+=("$1"); shift ;;
    *) echo "remote.sh: unknown argument '$1' (modes: stash setup probe bench loss-curve paper)" >&2; exit 2 ;;
  esac
done
[ ${#modes[@]} -gt 0 ] || { echo "remote.sh: no mode given" >&2; exit 2; }
exec 3>&1 4>&2
exec > >(tee -a "$OUT/remote.log") 2>&1
tee_pid=$!
say() { echo "[remote $(date -u +%H:%M:%S)] $*"; }

unxz_to() { # unxz_to SRC DST: xz, else python3's lzma
  if command -v xz >/dev/null; then xz -dc "$1" > "$2"
  else python3 -c 'import lzma,shutil,sys
with lzma.open(sys.argv[1]) as i, open(sys.argv[2],"wb") as o: shutil.copyfileobj(i,o,1<<24)' "$1" "$2"; fi
}

check_sums() { # check_sums DIR PREFIX: every part listed in PREFIX.SHA256SUMS that is in DIR
  (cd "$1" && sha256sum -c --quiet "$2.SHA256SUMS") || { say "checksum mismatch in $1 ($2 parts): a part is corrupt or from another pack"; return 1; }
}

do_stash() {
  mkdir -p "$PARTS"
  if ls .device/data/ravdess.part* >/dev/null 2>&1; then
    cp .device/data/ravdess.manifest.json .device/data/ravdess.SHA256SUMS "$PARTS"/ 2>/dev/null || true
    for p in .device/data/ravdess.part*; do
      want=$(grep " $(basename "$p")\$" .device/data/ravdess.SHA256SUMS | cut -d' ' -f1)
      got=$(sha256sum "$p" | cut -d' ' -f1)
      [ "$want" = "$got" ] || { say "data part $p is corrupt (sha256 $got, expected $want)"; return 1; }
      cp "$p" "$PARTS"/
    done
  fi
  say "data parts in $PARTS: $(cd "$PARTS" && ls ravdess.part* 2>/dev/null | tr '\n' ' ')"
}

env_setup() {
  export PATH="$RT/bin:$repo/node_modules/.bin:$PATH"
  [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -f /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ] && export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  export NODE_OPTIONS="--max-old-space-size=16384"
  return 0
}

do_setup() {
  do_stash || return 1
  local stamp
  if [ -f .device/rt/runtime.SHA256SUMS ]; then
    stamp=$(sha256sum .device/rt/runtime.SHA256SUMS | cut -d' ' -f1)
    if [ "$(cat "$RT/.stamp" 2>/dev/null)" != "$stamp" ]; then
      check_sums .device/rt runtime || return 1
      rm -rf "$RT"; mkdir -p "$RT/bin"
      cat $(ls .device/rt/runtime.part* | sort) | tar -x -C "$RT" || { say "runtime tar failed"; return 1; }
      unxz_to "$RT/node.xz" "$RT/bin/node" && chmod +x "$RT/bin/node" && rm "$RT/node.xz"
      echo "$stamp" > "$RT/.stamp"
    fi
  fi
  [ -x "$RT/bin/node" ] || { say "no runtime: copy .device/rt with this transfer (it was never sent, or an earlier copy in $RT is gone)"; return 1; }
  if [ "$(cat node_modules/.ser-rt-stamp 2>/dev/null)" != "$(cat "$RT/.stamp")" ]; then
    unxz_to "$RT/node_modules.tar.xz" "$RT/nm.tar" && tar -xf "$RT/nm.tar" -C "$repo" && rm "$RT/nm.tar" || { say "node_modules unpack failed"; return 1; }
    cp "$RT/.stamp" node_modules/.ser-rt-stamp
  fi
  if [ "${SER_NO_DEBS:-0}" != 1 ] && ! ldconfig -p | grep -q 'libvulkan.so.1'; then
    for f in "$RT"/debs/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  env_setup
  say "node $(node --version); $(ldconfig -p | grep -c libvulkan) libvulkan entries"
  # The corpus, once all its parts are here.
  if [ -f "$PARTS/ravdess.manifest.json" ] && [ ! -f "$DATA/.ok" ]; then
    missing=$(node -e 'const m=require(process.argv[1]);const fs=require("fs");console.log(m.parts.filter(p=>!fs.existsSync(process.argv[2]+"/"+p.file)).map(p=>p.file).join(" "))' "$PARTS/ravdess.manifest.json" "$PARTS")
    if [ -n "$missing" ]; then say "corpus not complete yet, missing: $missing"
    else
      node node_modules/tsx/dist/cli.mjs scripts/device/src/unpack-data.ts --in-dir "$PARTS" --out-dir "$DATA/ravdess" && touch "$DATA/.ok"
    fi
  fi
  [ -f "$DATA/.ok" ] && say "corpus: $(find "$DATA/ravdess" -name '*.wav' | wc -l) WAVs in $DATA/ravdess"
  return 0
}

tsx_run() { node "$repo/node_modules/tsx/dist/cli.mjs" "$@"; }

do_probe() { env_setup; tsx_run scripts/device/src/probe.ts > "$OUT/probe.json"; local rc=$?; cat "$OUT/probe.json"; return $rc; }
do_bench() { env_setup; tsx_run scripts/device/src/gpu-bench.ts --out "$OUT/bench.json"; }
do_loss_curve() { env_setup; tsx_run scripts/device/src/loss-curve.ts --steps "$loss_steps" --out "$OUT/loss-curve.json"; }

do_paper() {
  env_setup
  [ -f "$DATA/.ok" ] || { say "paper: the corpus is not unpacked (run setup with all data parts first)"; return 1; }
  local args=(--seeds "$seeds" --data-dir "$DATA/ravdess" --out "$OUT/paper.json")
  [ -n "$max_epochs" ] && args+=(--max-epochs "$max_epochs")
  [ -n "$seed_timeout_s" ] && args+=(--seed-timeout-s "$seed_timeout_s")
  tsx_run scripts/device/src/paper.ts "${args[@]}"
}

status=0
for m in "${modes[@]}"; do
  say "== $m"
  t0=$(date +%s)
  case "$m" in
    stash) do_stash ;;
    setup) do_setup ;;
    probe) do_probe ;;
    bench) do_bench ;;
    loss-curve) do_loss_curve ;;
    paper) do_paper ;;
  esac
  rc=$?
  say "== $m: exit $rc in $(( $(date +%s) - t0 )) s"
  [ $rc -eq 0 ] || status=$rc
done
# Let tee write the end of the log before $OUT is collected.
exec 1>&3 2>&4
wait "$tee_pid" 2>/dev/null
exit $status
