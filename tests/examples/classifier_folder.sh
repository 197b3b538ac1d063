#!/usr/bin/env bash
# train_classifier and evaluate on a folder of colour images (made by make_colour_folder): a
# classifier trained at 3 x 16 x 16 records its shape and data set in its weights file; evaluate
# scores a folder of 16 x 16 RGB PNGs against the folder's held-out and training splits, and
# refuses 12 x 12 PNGs, and RGB PNGs given to a grey classifier, naming both shapes. With the
# DCGAN example as a fourth argument: its colour samples.idx.gz (n x 3 x 16 x 16) is scored too,
# and refused by the grey classifier.
# Usage: classifier_folder.sh <make_colour_folder> <train_classifier> <evaluate> [dcgan]
set -euo pipefail
make="$1" train="$2" evaluate="$3" dcgan="${4:-}"
work="$(mktemp -d /tmp/aigc-classifier-folder.XXXXXX)"
trap 'rm -rf "$work"' EXIT
fail() {
  echo "$1"
  [ -f "$2" ] && cat "$2"
  exit 1
}
"$make" "$work/images" 3 12
"$make" "$work/samples" 1 8 16
"$make" "$work/small" 1 4 12
common=(--epochs 1 --batch-size 8 --threads 1 --log "$work/metrics.csv")
"$train" --data "$work/images" --image-size 16 --channels 3 --weights "$work/rgb.bin" \
  "${common[@]}" > "$work/train.log" 2>&1 || fail "train_classifier failed on a colour folder:" "$work/train.log"
grep -q "of 3x16x16, 3 classes" "$work/train.log" || fail "train_classifier: no 3x16x16, 3 classes:" "$work/train.log"
"$evaluate" "$work/samples/class0" --classifier "$work/rgb.bin" --reference both \
  > "$work/eval.log" 2>&1 || fail "evaluate failed on 16 x 16 RGB PNGs:" "$work/eval.log"
for want in "of 3x16x16 (PNG folder)" "FID vs $work/images test" "FID vs $work/images train" \
  "FID of $work/images test vs train (the floor)"; do
  grep -qF "$want" "$work/eval.log" || fail "evaluate: no '$want' in its output:" "$work/eval.log"
done
# The folder moved: --data names it; a folder of other classes is refused.
mv "$work/images" "$work/moved"
"$evaluate" "$work/samples/class0" --classifier "$work/rgb.bin" --data "$work/moved" \
  > "$work/eval.log" 2>&1 || fail "evaluate failed with --data of the moved folder:" "$work/eval.log"
"$make" "$work/other" 2 4
refused() {  # refused <description> <expected text...> -- <evaluate arguments...>
  local what="$1" wants=()
  shift
  while [ "$1" != -- ]; do wants+=("$1") && shift; done
  shift
  if "$evaluate" "$@" > "$work/refused.log" 2>&1; then
    fail "evaluate accepted $what:" "$work/refused.log"
  fi
  for want in "${wants[@]}"; do
    grep -qF -- "$want" "$work/refused.log" || fail "evaluate ($what): no '$want' in:" "$work/refused.log"
  done
  echo "refused $what: $(tail -1 "$work/refused.log")"
}
refused "12 x 12 PNGs" "3x12x12" "3x16x16" "$work/rgb.bin" -- \
  "$work/small/class0" --classifier "$work/rgb.bin" --data "$work/moved"
if [ -n "$dcgan" ]; then
  "$dcgan" --data "$work/moved" --image-size 16 --channels 3 --epochs 1 --batch-size 8 --threads 1 \
    --latent 8 --features 8 --fid-samples 20 --out "$work/gan" > "$work/gan.log" 2>&1 ||
    fail "dcgan failed on the colour folder:" "$work/gan.log"
  "$evaluate" "$work/gan/samples.idx.gz" --classifier "$work/rgb.bin" --data "$work/moved" \
    > "$work/eval.log" 2>&1 || fail "evaluate failed on the DCGAN's colour samples:" "$work/eval.log"
  grep -qF "20 images of 3x16x16 (IDX)" "$work/eval.log" ||
    fail "evaluate: no '20 images of 3x16x16 (IDX)' in its output:" "$work/eval.log"
fi
refused "a folder of other classes" "2 classes" "3 the classifier" -- \
  "$work/samples/class0" --classifier "$work/rgb.bin" --data "$work/other"
"$train" --data "$work/moved" --image-size 16 --channels 1 --weights "$work/grey.bin" \
  "${common[@]}" > "$work/train.log" 2>&1 || fail "train_classifier failed at 1 channel:" "$work/train.log"
refused "RGB PNGs for a grey classifier" "3x16x16" "1x16x16" -- \
  "$work/samples/class0" --classifier "$work/grey.bin"
if [ -n "$dcgan" ]; then
  refused "colour IDX samples for a grey classifier" "3x16x16" "1x16x16" -- \
    "$work/gan/samples.idx.gz" --classifier "$work/grey.bin"
fi
