#!/usr/bin/env bash
# FID of a generator trained on the Wesnoth unit sprites, in the feature space of a classifier
# trained on the same sprites at 3x64x64 (docs/classifier.md): draws N samples as a folder of PNGs
# (2,000 at a time, the k-th 2,000 from --seed k + 1, as the figures of docs/evaluation.md) and
# scores them against the sprites' held-out test split and training split.
# Usage: scripts/sprite_fid.sh <generator.aigc> [N (10000)] [classifier weights] [build dir]
# The classifier (default out/sprite-classifier/classifier-wesnoth-3x64.bin) comes from
#   <build>/examples/train_classifier --data /usr/share/games/wesnoth/1.16/data/core/images/units \
#     --image-size 64 --channels 3 --epochs 30 --seed 0 --threads 2 \
#     --weights out/sprite-classifier/classifier-wesnoth-3x64.bin
set -euo pipefail
model="$1"
n="${2:-10000}"
weights="${3:-out/sprite-classifier/classifier-wesnoth-3x64.bin}"
build="${4:-build/dev}"
samples="$(dirname "$model")/sprite-fid-samples"
rm -rf "$samples" "$samples.part"
mkdir -p "$samples"
for ((k = 0; k * 2000 < n; ++k)); do
  count=$((n - k * 2000 < 2000 ? n - k * 2000 : 2000))
  "$build/examples/generate" --model "$model" --n "$count" --seed "$((k + 1))" --format folder \
    --out "$samples.part"
  for f in "$samples.part"/*.png; do mv "$f" "$samples/$k-$(basename "$f")"; done
  rmdir "$samples.part"
done
"$build/examples/evaluate" "$samples" --classifier "$weights" --reference both \
  --csv "$(dirname "$model")/sprite-fid.csv"
