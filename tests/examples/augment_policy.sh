#!/usr/bin/env bash
# --augment-policy picks DiffAugment's transforms: naming all three is the default (the same
# checkpoint, byte for byte), translation alone trains another model.
# Usage: augment_policy.sh <example binary> <checkpoint prefix> [extra flags...]
set -euo pipefail
exe="$1" prefix="$2"
shift 2
work="$(mktemp -d /tmp/aigc-augment-policy.XXXXXX)"
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/idx_data.sh"
idx_split "$work/data" train 16
idx_split "$work/data" t10k 8
run() {  # run <name> [flags...]: one epoch with DiffAugment
  local name="$1"
  shift
  "$exe" --data "$work/data" --batch-size 8 --epochs 1 --threads 1 --diffaugment \
    --out "$work/$name" "$@" > "$work/$name.log" 2>&1 || { cat "$work/$name.log"; exit 1; }
}
run default "$@"
run all "$@" --augment-policy color,translation,cutout
run translation "$@" --augment-policy translation
last="checkpoints/$(printf '%s-%012d.aigc' "$prefix" 2)"
failures=0
if cmp -s "$work/default/$last" "$work/all/$last"; then
  echo "$prefix: --augment-policy color,translation,cutout is the default"
else
  echo "$prefix: naming the default policy changed the checkpoint"; failures=1
fi
if cmp -s "$work/default/$last" "$work/translation/$last"; then
  echo "$prefix: --augment-policy translation trained the same model as the default"; failures=1
else
  echo "$prefix: --augment-policy translation trains another model"
fi
exit "$failures"
