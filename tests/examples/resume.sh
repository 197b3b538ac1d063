#!/usr/bin/env bash
# An example trainer interrupted and resumed ends bitwise where an uninterrupted run ends: the
# last checkpoint is byte for byte the same, and so are the CSV logs (but for a "seconds" column)
# and loss.png.
# The interruption: a run of 2 epochs with a checkpoint every step, whose newest checkpoints are
# then removed, as if it had been killed at step 6 of 8 after logging steps 7 and 8 and epoch 2.
# Usage: resume.sh <example binary> <checkpoint prefix> [extra flags...]
set -euo pipefail
exe="$1" prefix="$2"
shift 2
work="$(mktemp -d /tmp/aigc-resume.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# 64 train and 16 test images of random bytes, random labels 0..9.
. "$(dirname "$0")/idx_data.sh"
idx_split "$work/data" train 64
idx_split "$work/data" t10k 16
flags=(--data "$work/data" --batch-size 16 --threads 1 --seed 3 "$@")

"$exe" "${flags[@]}" --out "$work/straight" --epochs 3 > "$work/straight.log" 2>&1
"$exe" "${flags[@]}" --out "$work/cut" --epochs 2 --checkpoint-every 1 --keep 0 > "$work/cut.log" 2>&1
ck="$work/cut/checkpoints"
for step in 7 8; do rm "$ck/$(printf '%s-%012d.aigc' "$prefix" "$step")"; done
"$exe" "${flags[@]}" --out "$work/cut" --epochs 3 --resume "$ck" > "$work/resumed.log" 2>&1
grep -q "resumed from .*$prefix-000000000006.aigc" "$work/resumed.log" || {
  echo "$prefix: did not resume from step 6:"; cat "$work/resumed.log"; exit 1; }

last="$(printf '%s-%012d.aigc' "$prefix" 12)"
failures=0
if cmp "$work/straight/checkpoints/$last" "$ck/$last"; then
  echo "$prefix: $last of the resumed run is identical to the uninterrupted run's"
else
  failures=$((failures + 1))
fi
# The logs without their "seconds" column (wall time differs from run to run).
no_seconds() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") s = i }
           { out = ""; for (i = 1; i <= NF; i++) if (i != s) out = out (out == "" ? "" : ",") $i; print out }' "$1"
}
for log in steps.csv metrics.csv; do
  [ -e "$work/straight/$log" ] || continue
  rows="$(($(wc -l < "$work/straight/$log") - 1))"
  if diff <(no_seconds "$work/straight/$log") <(no_seconds "$work/cut/$log"); then
    echo "$prefix: $log of the resumed run ($rows rows) is identical to the uninterrupted run's"
  else
    failures=$((failures + 1))
  fi
done
# loss.png of the resumed run is redrawn from the logs it continues: the whole run's curves.
if cmp "$work/straight/loss.png" "$work/cut/loss.png"; then
  echo "$prefix: loss.png of the resumed run is identical to the uninterrupted run's"
else
  failures=$((failures + 1))
fi
[ "$failures" -eq 0 ]
