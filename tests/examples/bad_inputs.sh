#!/usr/bin/env bash
# Feeds an example program bad flags and bad data; every case must end with an error exit
# (1..127, not a signal, not the 60 s timeout) and a message naming the input at fault.
# The cases follow the example's flags (read from its --help): a case of a flag it does not take
# is left out. evaluate's data is its positional image file and --labels; the trainers' is --data.
# Prints a table of input -> exit code -> message. Usage: bad_inputs.sh <example binary>
set -uo pipefail
exe="$(realpath "$1")"
name="$(basename "$exe")"
help="$("$exe" --help 2>&1)"
takes() { grep -qE -- "^ +$1( |,|$)" <<< "$help"; }  # takes <flag>: the example has that flag
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
good() {  # a good data folder with 4 train and 2 test images (made once, then copied: each
  # file costs a dozen processes, and the script makes a dozen folders)
  if [ ! -d "$work/template" ]; then
    mkdir -p "$work/template"
    images 4 28 28 | gzip > "$work/template/train-images-idx3-ubyte.gz"
    labels '\x00\x01\x02\x03' 4 | gzip > "$work/template/train-labels-idx1-ubyte.gz"
    images 2 28 28 | gzip > "$work/template/t10k-images-idx3-ubyte.gz"
    labels '\x04\x05' 2 | gzip > "$work/template/t10k-labels-idx1-ubyte.gz"
  fi
  mkdir -p "$1"
  cp "$work/template"/* "$1/"
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
d_overflow="$({ printf '\x00\x00\x08\x03'; be32 4294967295; be32 4294967295; be32 4294967295; } | bad overflow)"
d_lying="$({ printf '\x00\x00\x08\x03'; be32 60000; be32 28; be32 28; head -c 2984 /dev/zero; } | bad lying)"
d_zero="$(images 0 28 28 | bad zero)"
d_dims="$(labels '\x00\x01\x02\x03' 4 | bad dims)"
d_label_range="$(labels '\x00\x0b\x02\x03' 4 | bad labelrange train-labels-idx1-ubyte)"
d_label_count="$(labels '\x00\x01\x02' 3 | bad labelcount train-labels-idx1-ubyte)"
d_size="$work/data-size"; good "$d_size"; images 4 32 32 | gzip > "$d_size/train-images-idx3-ubyte.gz"
images 2 32 32 | gzip > "$d_size/t10k-images-idx3-ubyte.gz"
d_empty="$work/data-emptyfile"; good "$d_empty"; : > "$d_empty/train-images-idx3-ubyte.gz"
d_mixed="$work/data-mixed"; good "$d_mixed"; images 4 32 32 | gzip > "$d_mixed/train-images-idx3-ubyte.gz"
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
  msg="$(printf '%s' "$out" | grep -v '^Run with --help' | grep -iE 'error|invalid|not|could|must|unknown|following|expected|exceed|extra' | sed -n '1,2p' | tr '\n' ' ' | sed "s|$work|<tmp>|g")"
  [ -z "$msg" ] && msg="$(printf '%s' "$out" | sed -n '1,2p' | tr '\n' ' ' | sed "s|$work|<tmp>|g")"
  local verdict=""
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 124 ]; then
    verdict=" **FAILED: exit $rc**"
    failures=$((failures + 1))
  elif [[ "$out" != *"$want"* ]]; then
    verdict=" **FAILED: no '$want'**"
    failures=$((failures + 1))
  fi
  msg="${msg%% }"
  [ "${#msg}" -gt 200 ] && msg="${msg:0:200}..."
  echo "| $what | $rc | $msg$verdict |"
}
# The flags that make a run write somewhere harmless and stop soon.
if takes --out && takes --epochs; then o=(--out "$work/out" --epochs 1)
elif takes --weights; then o=(--weights "$work/out/w.bin" --log "$work/out/log.csv" --epochs 1)
else o=(); fi
if takes --fid-samples; then o+=(--fid-samples 10); fi
if takes --features; then o+=(--features 8); fi  # the DCGAN at an eighth of its width
flag() {  # flag <flag> "<description>" "<expected substring>" args...: check when it is taken
  local f="$1"
  shift
  if takes "$f"; then check "$@"; fi
}
positional=()  # evaluate's required image file, generate's model: the flag at fault is reported
[ "$name" = evaluate ] && positional=("$work/ok/t10k-images-idx3-ubyte.gz")
takes --model && positional=(--model "$work/garbage.aigc")
check '`--bogus`' "--bogus" "${positional[@]}" --bogus
check 'extra positional argument `stray`' "stray" "${positional[@]}" stray
for n in epochs batch-size latent hidden limit features; do
  flag --$n "\`--$n abc\`" "--$n" --$n abc
  flag --$n "\`--$n\` (no value)" "--$n" --$n
  flag --$n "\`--$n -3\`" "--$n" --$n -3
done
flag --epochs '`--epochs 0`' "--epochs" --epochs 0
flag --epochs '`--epochs 99999999999999999999`' "--epochs" --epochs 99999999999999999999
flag --batch-size '`--batch-size 0`' "--batch-size" --batch-size 0
flag --latent '`--latent 0`' "--latent" --latent 0
flag --hidden '`--hidden 0`' "--hidden" --hidden 0
flag --features '`--features 0`' "--features" --features 0
flag --lr '`--lr -0.1`' "--lr" --lr -0.1
flag --lr '`--lr nan`' "lr" "${o[@]}" --data "$work/ok" --lr nan
flag --lr '`--lr 1e999`' "lr" "${o[@]}" --data "$work/ok" --lr 1e999
flag --d-steps '`--d-steps 0`' "--d-steps" --d-steps 0
flag --objective '`--objective bogus`' "bogus" "${o[@]}" --data "$work/ok" --objective bogus
flag --fid-samples '`--fid-samples 0`' "--fid-samples" --fid-samples 0
flag --lr-g '`--lr-g -1`' "--lr-g" --lr-g -1
flag --schedule '`--schedule step`' "--schedule" --schedule step
flag --spectral-norm '`--spectral-norm all`' "--spectral-norm" --spectral-norm all
flag --r1 '`--r1 -1`' "--r1" --r1 -1
flag --r1-every '`--r1-every 0`' "--r1-every" --r1-every 0
flag --augment-policy '`--augment-policy blur`' "blur" --augment-policy blur
flag --train-images '`--train-images -1`' "--train-images" --train-images -1
flag --truncation '`--truncation -1`' "--truncation" --truncation -1
flag --ema-decay '`--ema-decay 1.5`' "decay" "${o[@]}" --data "$work/ok" --ema --ema-decay 1.5
flag --threads '`--threads -2`' "--threads" "${positional[@]}" --threads -2
flag --seed '`--seed abc`' "--seed" "${positional[@]}" --seed abc
flag --checkpoint-every '`--checkpoint-every -5`' "--checkpoint-every" --checkpoint-every -5
flag --keep '`--keep -1`' "--keep" --keep -1
flag --reference '`--reference everything`' "everything" "$work/ok/t10k-images-idx3-ubyte.gz" --reference everything

# Bad image files: "description|expected text|data folder variable|file extension". A trainer
# gets the folder as --data; evaluate gets the folder's train images file.
idx_cases=(
  'truncated .gz images|train-images-idx3-ubyte.gz|d_trunc_gz|.gz'
  'corrupt .gz images|train-images-idx3-ubyte.gz|d_corrupt_gz|.gz'
  'empty .gz images file|train-images-idx3-ubyte.gz|d_empty|.gz'
  'wrong IDX magic|train-images-idx3-ubyte|d_magic|'
  'IDX element type 0x0D|0x0D|d_type|'
  'header sizes overflow (2^32-1 cubed)|overflow|d_overflow|'
  'header says 60000 images, file holds 3 KB|truncated|d_lying|'
  'zero images in the header|zero|d_zero|'
  'labels file given as images (1 dim)|dimensions|d_dims|'
)
r=(--reference none)
if takes --data; then
  for c in "${idx_cases[@]}"; do
    IFS='|' read -r what want folder ext <<< "$c"
    if [ "$name" = evaluate ]; then
      check "$what" "$want" "${!folder}/train-images-idx3-ubyte$ext" "${r[@]}"
    else
      check "$what" "$want" "${o[@]}" --data "${!folder}"
    fi
  done
fi
if takes --data && [ "$name" != evaluate ]; then
  check '`--data` missing folder' "/nonexistent/data" "${o[@]}" --data /nonexistent/data
  check '`--data` is a file' "a-file" "${o[@]}" --data "$work/a-file"
  check 'label 11 out of range' "label 11" "${o[@]}" --data "$d_label_range"
  check '3 labels for 4 images' "3 labels" "${o[@]}" --data "$d_label_count"
  case "$name" in  # the trainers that read the test split too
    vae | cvae | train_classifier)
      check 'train 32x32, test 28x28' "32" "${o[@]}" --data "$d_mixed" ;;
  esac
fi
if [ "$name" = evaluate ]; then
  check 'no image file' "images" "${r[@]}"
  check 'missing image file' "/nonexistent/images.gz" /nonexistent/images.gz "${r[@]}"
  check '32x32 images' "28x28" "$d_size/train-images-idx3-ubyte.gz" "${r[@]}"
  check 'an empty folder of PNGs' "no-ckpt" "$work/no-ckpt" "${r[@]}"
  ok_images="$work/ok/train-images-idx3-ubyte.gz"
  check '`--labels` label 11 out of range' "label 11" "$ok_images" "${r[@]}" --labels "$d_label_range/train-labels-idx1-ubyte"
  check '`--labels` 3 labels for 4 images' "3 labels" "$ok_images" "${r[@]}" --labels "$d_label_count/train-labels-idx1-ubyte"
  check '`--labels` missing file' "/nonexistent/labels" "$ok_images" "${r[@]}" --labels /nonexistent/labels
  check '`--classifier` missing file' "/nonexistent/weights.bin" "$ok_images" "${r[@]}" --classifier /nonexistent/weights.bin
  check '`--classifier` garbage file' "garbage.aigc" "$ok_images" "${r[@]}" --classifier "$work/garbage.aigc"
  check '`--data` missing folder (FID reference)' "/nonexistent/data" "$ok_images" --data /nonexistent/data
  check '`--csv` on a full disk (/dev/full)' "/dev/full" "$ok_images" "${r[@]}" --csv /dev/full
  check '`--csv` under a file' "a-file" "$ok_images" "${r[@]}" --csv "$work/a-file/scores.csv"
fi

if takes --resume; then
  prefix="$name"
  # A real checkpoint of this example (1 epoch on the good data), then damaged copies of it.
  run=(--epochs 1 --out "$work/run")
  takes --fid-samples && run+=(--fid-samples 10)
  takes --features && run+=(--features 8)
  "$exe" "${run[@]}" --data "$work/ok" > "$work/run.log" 2>&1
  real="$(ls "$work/run/checkpoints/$prefix"-*.aigc 2> /dev/null | tail -1)"
  check '`--resume` missing file' "/nonexistent/ck.aigc" "${o[@]}" --data "$work/ok" --resume /nonexistent/ck.aigc
  check '`--resume` folder without checkpoints' "no-ckpt" "${o[@]}" --data "$work/ok" --resume "$work/no-ckpt"
  check '`--resume` garbage file' "garbage.aigc" "${o[@]}" --data "$work/ok" --resume "$work/garbage.aigc"
  if [ -n "$real" ]; then
    head -c 100 "$real" > "$work/truncated.aigc"
    cp "$real" "$work/flipped.aigc"
    printf '\xff' | dd of="$work/flipped.aigc" bs=1 seek=200 conv=notrunc status=none
    { head -c 8 "$real"; printf '\x07\x00\x00\x00'; tail -c +13 "$real"; } > "$work/version.aigc"
    check '`--resume` truncated checkpoint' "truncated.aigc" "${o[@]}" --data "$work/ok" --resume "$work/truncated.aigc"
    check '`--resume` checkpoint with a flipped byte' "CRC-32" "${o[@]}" --data "$work/ok" --resume "$work/flipped.aigc"
    check '`--resume` checkpoint format version 7' "version 7" "${o[@]}" --data "$work/ok" --resume "$work/version.aigc"
    flag --latent '`--resume` with another `--latent`' "latent size" "${o[@]}" --data "$work/ok" --resume "$real" --latent 5
    flag --hidden '`--resume` with another `--hidden`' "$(basename "$real")" "${o[@]}" --data "$work/ok" --resume "$real" --hidden 7
    check '`--resume` with another `--batch-size`' "batch_size" "${o[@]}" --data "$work/ok" --resume "$real" --batch-size 3
  fi
fi
flag --direction '`--direction 5` (one class)' "--direction" --direction 5
flag --direction '`--direction 0,42` (no class 42)' "no class 42" "${o[@]}" --data "$work/ok" --direction 0,42
flag --verify '`--verify` garbage file' "garbage.aigc" --verify "$work/garbage.aigc"
if takes --model; then  # generate: the model file and the sampling flags
  check 'no `--model`' "--model" --n 4
  check '`--model` missing file' "/nonexistent/g.aigc" --model /nonexistent/g.aigc
  check '`--model` garbage file' "garbage.aigc" --model "$work/garbage.aigc"
  check '`--model` is a folder' "no-ckpt" --model "$work/no-ckpt"
  flag --n '`--n 0`' "--n" "${positional[@]}" --n 0
  flag --n '`--n abc`' "--n" "${positional[@]}" --n abc
  flag --truncation '`--truncation -1`' "--truncation" "${positional[@]}" --truncation -1
  flag --interpolate '`--interpolate 1`' "--interpolate" "${positional[@]}" --interpolate 1
  flag --format '`--format bogus`' "bogus" "${positional[@]}" --format bogus
  flag --class-walk '`--class-walk` with `--class`' "--class" "${positional[@]}" --class 1 --class-walk 0,1
fi
if takes --out && takes --epochs; then
  check '`--out` under a file' "a-file" --epochs 1 --data "$work/ok" --out "$work/a-file/out"
  check '`--out` in /proc (cannot be created)' "/proc/aigc-out" --epochs 1 --data "$work/ok" --out /proc/aigc-out
fi
flag --weights '`--weights` under a file' "a-file" --epochs 1 --data "$work/ok" --log "$work/out/log.csv" --weights "$work/a-file/w.bin"
flag --log '`--log` on a full disk (/dev/full)' "/dev/full" --epochs 1 --data "$work/ok" --weights "$work/out/w.bin" --log /dev/full
flag --checkpoint-dir '`--checkpoint-dir` is a file' "a-file" "${o[@]}" --data "$work/ok" --checkpoint-dir "$work/a-file"
echo
if [ "$failures" -ne 0 ]; then
  echo "$name: $failures bad input(s) not handled as required" >&2
  exit 1
fi
echo "$name: every bad input refused with a message naming it"
