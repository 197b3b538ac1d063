#!/usr/bin/env bash
# --train-images N trains on the first N training images only: with 20 of 64 images and batch 8,
# an epoch is 3 steps (not 8), and the trainer says it trains on 20 images.
# Usage: train_images.sh <example binary> <checkpoint prefix> [extra flags...]
set -euo pipefail
exe="$1" prefix="$2"
shift 2
work="$(mktemp -d /tmp/aigc-train-images.XXXXXX)"
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/idx_data.sh"
idx_split "$work/data" train 64
idx_split "$work/data" t10k 16
"$exe" --data "$work/data" --train-images 20 --batch-size 8 --epochs 1 --threads 1 \
  --out "$work/out" "$@" > "$work/log" 2>&1 || { cat "$work/log"; exit 1; }
failures=0
if grep -q " 20 images from " "$work/log"; then
  echo "$prefix: trains on 20 images"
else
  echo "$prefix: the log does not say 20 images:"; cat "$work/log"; failures=1
fi
last="$work/out/checkpoints/$(printf '%s-%012d.aigc' "$prefix" 3)"
if [ -e "$last" ]; then
  echo "$prefix: one epoch of 20 images at batch 8 ends at step 3"
else
  echo "$prefix: no checkpoint at step 3:"; ls "$work/out/checkpoints"; failures=1
fi
exit "$failures"
