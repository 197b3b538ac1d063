#!/usr/bin/env bash
# Kill test: trains the VAE example with a checkpoint after every step and SIGKILLs it at random
# moments, N times (default 25), resuming each time from the newest checkpoint. After every kill,
# every checkpoint left in the folder must load and verify (vae --verify: magic, version, CRC,
# every name and shape). At the end the run is resumed to the next epoch boundary and its last
# checkpoint compared byte for byte with an uninterrupted run's, and its CSV logs (continued across
# the kills) with the uninterrupted run's, but for the wall-time column.
# Usage: scripts/kill_test.sh [kills]   (AIGC_VAE: a built vae example; else it is built in
# AIGC_KILL_BUILD, default build/kill)
set -euo pipefail
cd "$(dirname "$0")/.."
kills="${1:-25}"
build="${AIGC_KILL_BUILD:-build/kill}"
vae="${AIGC_VAE:-}"  # a built vae example, or empty to build one
if [ -z "$vae" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DAIGC_NATIVE=ON -DAIGC_BUILD_EXAMPLES=ON \
        -DAIGC_BUILD_TESTS=OFF > /dev/null
  cmake --build "$build" --target vae -j"$(nproc)" > /dev/null
  vae="$build/examples/vae"
fi
work="$(mktemp -d /tmp/aigc-kill.XXXXXX)"
trap 'rm -rf "$work"' EXIT
flags=(--limit 2048 --batch-size 128 --hidden 400 --threads 1 --seed 5)
ck="$work/run/checkpoints"
verified=0 torn=0 failures=0
for i in $(seq 1 "$kills"); do
  resume=()
  [ -d "$ck" ] && [ -n "$(ls "$ck"/vae-*.aigc 2>/dev/null)" ] && resume=(--resume "$ck")
  "$vae" "${flags[@]}" --out "$work/run" --epochs 100000 --checkpoint-every 1 --keep 3 \
         "${resume[@]}" > "$work/log.$i" 2>&1 &
  pid=$!
  # Once training has begun (a new checkpoint appeared), a random moment within the next second.
  before="$(ls "$ck"/vae-*.aigc 2> /dev/null | tail -1 || true)"
  for _ in $(seq 1 600); do
    now="$(ls "$ck"/vae-*.aigc 2> /dev/null | tail -1 || true)"
    [ -n "$now" ] && [ "$now" != "$before" ] && break
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
  done
  sleep "$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.3f", rand() }')"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  during=no
  if ls "$ck"/*.tmp > /dev/null 2>&1; then during=yes; torn=$((torn + 1)); fi
  n=0
  for f in "$ck"/vae-*.aigc; do
    [ -e "$f" ] || continue
    if "$vae" "${flags[@]}" --verify "$f" > "$work/verify.out" 2>&1; then
      n=$((n + 1))
    else
      failures=$((failures + 1))
      echo "kill $i: $f FAILED to verify: $(cat "$work/verify.out")" >&2
    fi
  done
  verified=$((verified + n))
  newest="$(ls "$ck"/vae-*.aigc 2>/dev/null | tail -1 || true)"
  echo "kill $i: killed during a checkpoint write: $during; $n checkpoint(s) verified, newest $(basename "${newest:-none}")"
done
# Finish the epoch in progress from the newest checkpoint, and compare with a straight run.
step="$(ls "$ck"/vae-*.aigc | tail -1 | sed -E 's/.*vae-0*([0-9]+)\.aigc/\1/')"
epochs=$(( step / 16 + 1 ))
"$vae" "${flags[@]}" --out "$work/run" --epochs "$epochs" --resume "$ck" > "$work/log.final" 2>&1
"$vae" "${flags[@]}" --out "$work/straight" --epochs "$epochs" > "$work/log.straight" 2>&1
last="$(printf 'vae-%012d.aigc' $((epochs * 16)))"
same=no
cmp -s "$ck/$last" "$work/straight/checkpoints/$last" && same=yes
no_seconds() { cut -d, -f1-5 "$1"; }  # metrics.csv: epoch,train_loss,test_loss,bce,kl,seconds
logs=no
cmp -s "$work/run/steps.csv" "$work/straight/steps.csv" &&
  cmp -s <(no_seconds "$work/run/metrics.csv") <(no_seconds "$work/straight/metrics.csv") && logs=yes
echo "kill test: $kills kills, $torn during a checkpoint write (temporary file left), $verified checkpoint loads verified, $failures failed; resumed to step $((epochs * 16)): checkpoint identical to an uninterrupted run's: $same; steps.csv ($(($(wc -l < "$work/straight/steps.csv") - 1)) rows) and metrics.csv identical: $logs"
[ "$failures" -eq 0 ] && [ "$same" = yes ] && [ "$logs" = yes ]
