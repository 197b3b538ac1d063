#!/usr/bin/env bash
# Feeds an example trainer bad flags and bad data; every case must end with an error exit
# (1..127, not a signal, not the 60 s timeout) and a message naming the input at fault.
# Prints a table of input -> exit code -> message. Usage: bad_inputs.sh <example binary>
set -uo pipefail
exe="$1"
name="$(basename "$exe")"
work="$(mktemp -d /tmp/aigc-bad-inputs.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# IDX bytes: idx <type-and-dims magic bytes> <dims...>; data appended by the caller.
be32() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
images() {  # images <n> <rows> <cols>: n images of zeros
  { printf '\x00\x00\x08\x03'; be32 "$1"; be32 "$2"; be32 "$3"; head -c $(($1 * $2 * $3)) /dev/zero; }
}
labels() {  # labels <label bytes as \x..>
  local bytes="$1" n="$2"
  { printf '\x00\x00\x08\x01'; be32 "$n"; printf "$bytes"; }
}
good() {  # a good data folder with 4 train and 2 test images
  mkdir -p "$1"
  images 4 28 28 | gzip > "$1/train-images-idx3-ubyte.gz"
  labels '\x00\x01\x02\x03' 4 | gzip > "$1/train-labels-idx1-ubyte.gz"
  images 2 28 28 | gzip > "$1/t10k-images-idx3-ubyte.gz"
  labels '\x04\x05' 2 | gzip > "$1/t10k-labels-idx1-ubyte.gz"
}
bad() {  # bad <case name>: a good folder whose train images (or labels) are replaced by stdin
  local dir="$work/data-$1" file="${2:-train-images-idx3-ubyte}"
  good "$dir"
  rm -f "$dir/$file.gz"
  cat > "$dir/$file"
  echo "$dir"
}

good "$work/ok"
d_trunc_gz="$work/data-truncgz"; good "$d_trunc_gz"
head -c 30 "$d_trunc_gz/train-images-idx3-ubyte.gz" > "$work/t" && mv "$work/t" "$d_trunc_gz/train-images-idx3-ubyte.gz"
d_corrupt_gz="$work/data-corruptgz"; good "$d_corrupt_gz"
{ head -c 20 "$d_corrupt_gz/train-images-idx3-ubyte.gz"; head -c 200 /dev/urandom; } > "$work/t"
mv "$work/t" "$d_corrupt_gz/train-images-idx3-ubyte.gz"
d_magic="$(printf '\x1f\x00\x08\x03' | cat - <(images 4 28 28 | tail -c +5) | bad magic)"
d_type="$(printf '\x00\x00\x0d\x03' | cat - <(images 4 28 28 | tail -c +5) | bad type)"
d_overflow="$(images 4 28 28 | head -c 4 | cat - <(be32 4294967295; be32 4294967295; be32 4294967295) | bad overflow)"
d_lying="$(images 60000 28 28 | head -c 3000 | bad lying)"
d_zero="$(images 0 28 28 | bad zero)"
d_dims="$(labels '\x00\x01\x02\x03' 4 | bad dims)"
d_label_range="$(labels '\x00\x0b\x02\x03' 4 | bad labelrange train-labels-idx1-ubyte)"
d_label_count="$(labels '\x00\x01\x02' 3 | bad labelcount train-labels-idx1-ubyte)"
d_size="$work/data-size"; good "$d_size"; images 4 32 32 | gzip > "$d_size/train-images-idx3-ubyte.gz"
images 2 32 32 | gzip > "$d_size/t10k-images-idx3-ubyte.gz"
d_empty="$work/data-emptyfile"; good "$d_empty"; : > "$d_empty/train-images-idx3-ubyte.gz"
mkdir -p "$work/no-ckpt"
printf 'not a checkpoint at all, just text' > "$work/garbage.aigc"
echo x > "$work/a-file"

failures=0
echo "| $name input | exit | message |"
echo "| --- | --- | --- |"
check() {  # check "<description>" "<expected substring>" args...
  local what="$1" want="$2"
  shift 2
  local out rc
  out="$(cd "$work" && timeout 60 "$exe" "$@" 2>&1)"
  rc=$?
  local msg
  msg="$(printf '%s' "$out" | grep -v '^Run with --help' | grep -iE 'error|invalid|not|could|must|unknown|following|expected|exceed|extra' | head -2 | tr '\n' ' ' | sed "s|$work|<tmp>|g")"
  [ -z "$msg" ] && msg="$(printf '%s' "$out" | head -2 | tr '\n' ' ' | sed "s|$work|<tmp>|g")"
  local verdict=""
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 124 ]; then
    verdict=" **FAILED: exit $rc**"
    failures=$((failures + 1))
  elif ! printf '%s' "$out" | grep -qF -- "$want"; then
    verdict=" **FAILED: no '$want'**"
    failures=$((failures + 1))
  fi
  msg="${msg%% }"
  [ "${#msg}" -gt 200 ] && msg="${msg:0:200}..."
  echo "| $what | $rc | $msg$verdict |"
}
o=(--out "$work/out" --epochs 1)
check '`--bogus`' "--bogus" --bogus
check '`--epochs 0`' "--epochs" --epochs 0
check '`--epochs -3`' "--epochs" --epochs -3
check '`--epochs abc`' "--epochs" --epochs abc
check '`--epochs` (no value)' "--epochs" --epochs
check '`--epochs 99999999999999999999`' "--epochs" --epochs 99999999999999999999
check '`--batch-size 0`' "--batch-size" --batch-size 0
check '`--batch-size -1`' "--batch-size" --batch-size -1
check '`--lr -0.1`' "--lr" --lr -0.1
check '`--lr nan`' "lr" "${o[@]}" --data "$work/ok" --lr nan
check '`--lr 1e999`' "lr" "${o[@]}" --data "$work/ok" --lr 1e999
check '`--threads -2`' "--threads" --threads -2
check '`--seed abc`' "--seed" --seed abc
check '`--checkpoint-every -5`' "--checkpoint-every" --checkpoint-every -5
check '`--keep -1`' "--keep" --keep -1
check 'extra positional argument `stray`' "stray" stray
check '`--data` missing folder' "/nonexistent/data" "${o[@]}" --data /nonexistent/data
check 'truncated .gz images' "train-images-idx3-ubyte.gz" "${o[@]}" --data "$d_trunc_gz"
check 'corrupt .gz images' "train-images-idx3-ubyte.gz" "${o[@]}" --data "$d_corrupt_gz"
check 'empty .gz images file' "train-images-idx3-ubyte.gz" "${o[@]}" --data "$d_empty"
check 'wrong IDX magic' "train-images-idx3-ubyte" "${o[@]}" --data "$d_magic"
check 'IDX element type 0x0D' "train-images-idx3-ubyte" "${o[@]}" --data "$d_type"
check 'header sizes overflow (2^32-1 cubed)' "overflow" "${o[@]}" --data "$d_overflow"
check 'header says 60000 images, file holds 3 KB' "truncated" "${o[@]}" --data "$d_lying"
check 'zero images in the header' "zero" "${o[@]}" --data "$d_zero"
check 'labels file given as images (1 dim)' "dimensions" "${o[@]}" --data "$d_dims"
check 'label 11 out of range' "label 11" "${o[@]}" --data "$d_label_range"
check '3 labels for 4 images' "3 labels" "${o[@]}" --data "$d_label_count"
check '`--resume` missing file' "/nonexistent/ck.aigc" "${o[@]}" --data "$work/ok" --resume /nonexistent/ck.aigc
check '`--resume` folder without checkpoints' "no-ckpt" "${o[@]}" --data "$work/ok" --resume "$work/no-ckpt"
check '`--resume` garbage file' "garbage.aigc" "${o[@]}" --data "$work/ok" --resume "$work/garbage.aigc"
check '`--verify` garbage file' "garbage.aigc" --verify "$work/garbage.aigc"
check '`--out` under a file' "a-file" --epochs 1 --data "$work/ok" --out "$work/a-file/out"
check '`--checkpoint-dir` is a file' "a-file" "${o[@]}" --data "$work/ok" --checkpoint-dir "$work/a-file"
echo
if [ "$failures" -ne 0 ]; then
  echo "$name: $failures bad input(s) not handled as required" >&2
  exit 1
fi
echo "$name: every bad input refused with a message naming it"
