#!/usr/bin/env bash
# Runs one profile with several seeds, each in its own git worktree of HEAD, a few at a time, and
# records each run's results under results/<profile>/seed-<n>/ (scripts/record-results.ts).
# Your workspace, params files, lock and artifacts are not touched.
#
#   scripts/seeds.sh <profile> <seed>... [-j N]
#
# -j N: runs at the same time (default 1). Each run trains with the profile's train.workers, so
# with train.workers 1, -j 2 keeps two cores busy. The worktrees are .pipeline/seeds/<profile>-seed-<n>
# (data/, the content cache and the run-cache are linked from this workspace; delete them when
# done); each one's log is run.log there.
# Needs the package code and params committed: the seeds run HEAD.
set -euo pipefail

usage() { echo "usage: scripts/seeds.sh <profile> <seed>... [-j N]" >&2; exit 2; }
[ $# -ge 2 ] || usage
profile=$1; shift
jobs=1
seeds=()
while [ $# -gt 0 ]; do
  case $1 in
    -j) [ $# -ge 2 ] || usage; jobs=$2; shift 2 ;;
    *) [[ $1 =~ ^[0-9]+$ ]] || { echo "seeds.sh: seed '$1' is not a non-negative integer" >&2; exit 2; }; seeds+=("$1"); shift ;;
  esac
done
[ ${#seeds[@]} -gt 0 ] || usage
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "seeds.sh: -j needs a positive integer" >&2; exit 2; }

root=$(git rev-parse --show-toplevel)
cd "$root"
params="params.$profile.yaml"
[ "$profile" != default ] || params=params.yaml
[ -f "$params" ] || { echo "seeds.sh: $params not found (profile '$profile')" >&2; exit 2; }
# The worktrees check out HEAD but run the packages through this workspace's node_modules links:
# the package code here must be HEAD's.
if [ -n "$(git status --porcelain -- packages/*/src packages/*/bin "$params" params.yaml pipeline.yaml)" ]; then
  echo "seeds.sh: uncommitted changes in packages/*/src, packages/*/bin or the params/pipeline files; commit them first (the runs use HEAD)" >&2
  exit 2
fi
commit=$(git rev-parse HEAD)

run_seed() {
  local seed=$1
  local wt=".pipeline/seeds/$profile-seed-$seed"
  if [ ! -d "$wt" ]; then
    git worktree add --detach "$wt" "$commit" >/dev/null
  else
    git -C "$wt" checkout --detach "$commit" >/dev/null 2>&1
  fi
  ln -sfn "$root/node_modules" "$wt/node_modules"
  [ -e data ] && ln -sfn "$root/data" "$wt/data"
  # This workspace's content cache and run-cache, shared (as a queue worker's worktrees do): the
  # upstream stages come from the cache instead of being recomputed, and each seed's outputs
  # land in it, so `repro` here with that seed restores them instead of training again.
  mkdir -p "$wt/.pipeline"
  for d in cache runs; do
    mkdir -p ".pipeline/$d"
    [ -L "$wt/.pipeline/$d" ] || rm -rf "$wt/.pipeline/$d"
    ln -sfn "$root/.pipeline/$d" "$wt/.pipeline/$d"
  done
  # The seed as the profile's top-level `seed:` (replaced, or added).
  if grep -q '^seed:' "$wt/$params"; then
    sed -i "s/^seed:.*/seed: $seed/" "$wt/$params"
  else
    printf '\nseed: %s\n' "$seed" >> "$wt/$params"
  fi
  local start=$SECONDS
  local prof=(--profile "$profile")
  [ "$profile" != default ] || prof=()
  if (cd "$wt" && node packages/pipeline/bin/ser-pipeline.mjs repro "${prof[@]}") > "$wt/run.log" 2>&1; then
    local wall=$((SECONDS - start))
    # The train stage's own time, from the engine's "train: done in S s" line (absent when the
    # run-cache restored it).
    local train_s
    train_s=$(sed -n 's/^train: done in \([0-9.]*\) s.*/\1/p' "$wt/run.log" | tail -1)
    npx tsx scripts/record-results.ts "$profile" --root "$wt" --commit "$commit" --wall-s "$wall" \
      ${train_s:+--train-s "$train_s"} --command "scripts/seeds.sh $profile $seed (ser-pipeline repro ${prof[*]} with seed: $seed)"
  else
    echo "seeds.sh: seed $seed failed; see $wt/run.log" >&2
    return 1
  fi
}

failed=0
pids=()
for seed in "${seeds[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 5; done
  echo "seeds.sh: $profile seed $seed: running (log .pipeline/seeds/$profile-seed-$seed/run.log)"
  run_seed "$seed" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
exit $failed
