#!/usr/bin/env bash
# A whole lab on one machine, end to end (docs/LAB.md; CI runs it): one Redis, one S3-API store,
# a "laptop" clone that pushes the demo and submits a grid of 4 tiny demo experiments, and two
# "worker" clones that drain the queue, one of them killed (-9, with its runs) mid-job. Then:
# every experiment finished exactly once with metrics, and a fresh clone that pulls the demo
# runs no stage.
#
# Needs: the demo computed in this checkout (`npx nx run pipeline:demo`), its lock committed at
# HEAD, and redis-server (Debian: apt-get install redis-server). The S3-API store is the test
# server the remote tests use (@20minutes/s3rver, a dev dependency); a real lab uses its bucket.
#
#   bash scripts/lab-demo.sh        # env: LAB_DIR (default: a new temp folder), KEEP_LAB=1 keeps it
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LAB=${LAB_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/ser-lab.XXXXXX")}
mkdir -p "$LAB"
SER="node $ROOT/packages/pipeline/bin/ser-pipeline.mjs"
PIDS=()
GROUPS_TO_KILL=()

cleanup() {
  for g in "${GROUPS_TO_KILL[@]}"; do kill -9 -- "-$g" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${KEEP_LAB:-0}" = 1 ]; then echo "lab kept in $LAB"; else rm -rf "$LAB"; fi
}
trap cleanup EXIT

say() { printf '\n--- %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
free_port() { node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local until=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do [ "$SECONDS" -lt "$until" ] || fail "timed out waiting for $what"; sleep 0.5; done
}
# A clone of $1 at $2 sharing this checkout's installed packages (as another machine's npm ci would).
clone() { git clone -q "$1" "$2"; ln -s "$ROOT/node_modules" "$2/node_modules"; }

[ -f "$ROOT/pipeline.demo.lock" ] || fail "no pipeline.demo.lock"
command -v redis-server >/dev/null || fail "redis-server not found (Debian: apt-get install redis-server)"

say "servers: Redis and an S3-API store on localhost"
RP=$(free_port)
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no >"$LAB/redis.log" 2>&1 &
PIDS+=($!)
REDIS=redis://127.0.0.1:$RP
wait_for 20 "redis-server on port $RP" redis-cli -p "$RP" ping
# --openssl-legacy-provider: s3rver's continuation tokens (listings over 1000 keys) use DES.
node --openssl-legacy-provider "$ROOT/packages/pipeline/test/s3rver-main.mjs" "$LAB/s3" lab >"$LAB/s3.port" 2>"$LAB/s3.log" &
PIDS+=($!)
wait_for 60 "the S3-API server" grep -q . "$LAB/s3.port"
S3=http://127.0.0.1:$(head -1 "$LAB/s3.port")
# The test server's fixed credentials, where any S3 client looks: the AWS environment.
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
echo "Redis $REDIS, S3 $S3 (bucket lab)"

say "laptop: the clone that ran the demo adds the remote, commits it, pushes the demo"
clone "$ROOT" "$LAB/laptop"
mkdir -p "$LAB/laptop/.pipeline"
ln -s "$ROOT/.pipeline/cache" "$LAB/laptop/.pipeline/cache"
ln -s "$ROOT/.pipeline/runs" "$LAB/laptop/.pipeline/runs"
cd "$LAB/laptop"
$SER remote add lab s3://lab/ser --endpoint "$S3" --force-path-style --default
git add .pipeline/config.yaml
git -c user.name=lab -c user.email=lab@localhost commit -q -m "lab: the shared remote"
$SER push --profile demo

say "laptop: a grid of 4 tiny demo experiments on the Redis queue"
$SER exp run --profile demo -S train.max_epochs=1 -S train.steps_per_epoch=4 -S train.lr=0.02,0.05 --seeds 1,2 --redis "$REDIS"

say "two workers, each in its own clone (no cache, no outs); worker 1 is killed mid-job"
for w in w1 w2; do clone "$LAB/laptop" "$LAB/$w"; done
(cd "$LAB/w1" && exec setsid $SER worker --redis "$REDIS" --stall-timeout 5) >"$LAB/w1.log" 2>&1 &
W1=$!
GROUPS_TO_KILL+=("$W1")
(cd "$LAB/w2" && exec setsid $SER worker --redis "$REDIS" --stall-timeout 5 --exit-when-empty) >"$LAB/w2.log" 2>&1 &
W2=$!
GROUPS_TO_KILL+=("$W2")
# Mid-job: once worker 1 has started training an experiment.
wait_for 600 "worker 1 to start training" grep -q '\[train\] ' "$LAB/w1.log"
VICTIM=$(grep -o '^\[[^]]*\] worker ' "$LAB/w1.log" | tail -1 | sed 's/^\[\([^]]*\)\].*/\1/')
kill -9 -- "-$W1"
echo "killed worker 1 (pid $W1, and its runs) while it ran $VICTIM:"
grep "^\[$VICTIM\]" "$LAB/w1.log" | tail -3
wait "$W2" || { cat "$LAB/w2.log"; fail "worker 2 exited with an error"; }
grep -E '^worker: ' "$LAB/w2.log"

say "laptop: exp show lists the 4 experiments, from the queue"
$SER exp show --profile demo --redis "$REDIS"
$SER exp show --profile demo --redis "$REDIS" --json 2>/dev/null >"$LAB/show.json"
node -e '
const rows = require(process.argv[1]);
const bad = rows.filter((r) => r.status !== "done" || typeof r.metrics.accuracy !== "number");
if (rows.length !== 4 || bad.length) { console.error("FAIL: expected 4 done experiments with an accuracy, got", JSON.stringify(rows)); process.exit(1); }
' "$LAB/show.json"
echo "the killed job's log, both attempts:"
$SER exp log "$VICTIM" --redis "$REDIS" | grep -E 'attempt|fetch from|push to|exp .*: done'
[ "$($SER exp log "$VICTIM" --redis "$REDIS" | grep -c ': attempt ')" = 2 ] || fail "$VICTIM: expected 2 attempts"

say "a fresh clone pulls the demo; repro runs nothing"
clone "$LAB/laptop" "$LAB/fresh"
cd "$LAB/fresh"
$SER pull --profile demo
$SER repro --profile demo | tee "$LAB/repro.log"
grep -q '^repro (profile demo): 0 ran, ' "$LAB/repro.log" || fail "repro in the fresh clone ran a stage"
$SER status --check --profile demo
say "lab: passed"
