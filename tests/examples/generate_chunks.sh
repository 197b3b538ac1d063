#!/usr/bin/env bash
# generate runs the model on 256 codes at a time: 300 samples (two passes, 256 + 44) start with
# the same 100 images, byte for byte, as 100 samples from the same seed (one pass), as an IDX file
# and as a folder of PNGs; the IDX file holds 300 images.
# Usage: generate_chunks.sh <dcgan binary> <generate binary>
set -euo pipefail
dcgan="$1" generate="$2"
work="$(mktemp -d /tmp/aigc-generate-chunks.XXXXXX)"
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/idx_data.sh"
idx_split "$work/data" train 16
idx_split "$work/data" t10k 8
"$dcgan" --data "$work/data" --latent 8 --features 8 --batch-size 8 --epochs 1 --threads 1 \
  --fid-samples 10 --out "$work/train" > "$work/log" 2>&1 || { cat "$work/log"; exit 1; }
model="$work/train/generator.aigc"
for n in 100 300; do
  "$generate" --model "$model" --n "$n" --seed 4 --threads 1 --out "$work/s$n.idx.gz" > /dev/null
  "$generate" --model "$model" --n "$n" --seed 4 --threads 1 --out "$work/f$n" > /dev/null
done
failures=0
gzip -dc "$work/s300.idx.gz" > "$work/s300.idx"
gzip -dc "$work/s100.idx.gz" > "$work/s100.idx"
# The images start after the 16-byte header of an n x 28 x 28 file.
if [ "$(stat -c %s "$work/s300.idx")" -ne $((16 + 300 * 784)) ]; then
  echo "generate: s300.idx.gz does not hold 300 images"; failures=1
elif cmp -s -i 16 -n $((100 * 784)) "$work/s300.idx" "$work/s100.idx"; then
  echo "generate: the first 100 of 300 samples equal 100 samples of the same seed (IDX)"
else
  echo "generate: the first 100 of 300 samples differ from 100 samples of the same seed"; failures=1
fi
for i in 000000 000050 000099; do
  if ! cmp -s "$work/f100/$i.png" "$work/f300/$i.png"; then
    echo "generate: $i.png differs between --n 100 and --n 300"; failures=1
  fi
done
[ "$(ls "$work/f300" | wc -l)" -eq 300 ] || { echo "generate: f300 does not hold 300 PNGs"; failures=1; }
[ "$failures" -eq 0 ] && echo "generate: PNG folders agree too (300 files)"
exit "$failures"
