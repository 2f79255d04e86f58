#!/usr/bin/env bash
# One command, on a machine with the repository, before copying to a GPU host: builds what is missing in .device/
# (the runtime pack; the corpus pack from RAVDESS_DIR or --data-dir) and prints the transfer plan.
# Usage: scripts/device/prepare.sh [--data-dir DIR] [--force] [plan.ts flags: --max-epochs N --seed-timeout-s S --seeds 1,2,3]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
data_dir=${RAVDESS_DIR:-}
force=0
plan_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) data_dir=$2; shift 2 ;;
    --force) force=1; shift ;;
    --max-epochs|--seed-timeout-s|--seeds) plan_args+=("$1" "$2"); shift 2 ;;
    *) echo "prepare.sh: unknown flag $1" >&2; exit 1 ;;
  esac
done
if [ "$force" = 1 ] || [ ! -f .device/rt/runtime.manifest.json ]; then scripts/device/pack.sh; fi
if [ "$force" = 1 ] || [ ! -f .device/data/ravdess.manifest.json ]; then
  [ -n "$data_dir" ] || { echo "prepare.sh: no corpus pack yet: give --data-dir DIR (or RAVDESS_DIR)" >&2; exit 1; }
  npx --no-install tsx scripts/device/src/pack-data.ts --data-dir "$data_dir" --out-dir .device/data
fi
npx --no-install tsx scripts/device/src/plan.ts "${plan_args[@]}"
