#!/usr/bin/env bash
# An example trainer on a folder of colour images (two class folders of RGB PNGs of mixed sizes,
# made by make_colour_folder): one epoch at 3 x 16 x 16 runs, every grid it writes is an RGB
# PNG of whole 16 x 16 tiles, and the samples file for examples/evaluate (samples.idx.gz, which
# --fid-samples asks for) an IDX file of n x 3 x 16 x 16 bytes.
# Usage: colour.sh <make_colour_folder> <example binary> [extra flags...]
set -euo pipefail
make="$1" exe="$2"
shift 2
work="$(mktemp -d /tmp/aigc-colour.XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$make" "$work/images" 2 24
if ! "$exe" --data "$work/images" --image-size 16 --channels 3 --epochs 1 --batch-size 8 \
     --threads 1 --seed 1 --out "$work/out" "$@" > "$work/log" 2>&1; then
  echo "$(basename "$exe") failed on a colour folder:"
  cat "$work/log"
  exit 1
fi
failures=0 grids=0
for png in "$work/out"/*.png; do
  case "$(basename "$png")" in loss.png) continue ;; esac
  grids=$((grids + 1))
  # IHDR: width and height (big-endian) at bytes 16 and 20, colour type at byte 25 (2: RGB).
  read -r w1 w2 w3 w4 h1 h2 h3 h4 _ type < <(od -An -v -tu1 -j16 -N10 "$png" | tr -s ' \n' '  '; echo)
  width=$(((w1 << 24) | (w2 << 16) | (w3 << 8) | w4)) height=$(((h1 << 24) | (h2 << 16) | (h3 << 8) | h4))
  if [ "$type" != 2 ]; then
    echo "$(basename "$png"): PNG colour type $type, not 2 (RGB)"
    failures=$((failures + 1))
  elif [ $(((width - 2) % 18)) != 0 ] || [ $(((height - 2) % 18)) != 0 ]; then
    echo "$(basename "$png"): ${width}x${height} is not a grid of 16 x 16 tiles"
    failures=$((failures + 1))
  else
    echo "$(basename "$png"): RGB, ${width}x${height}"
  fi
done
if [[ " $* " == *" --fid-samples "* ]] && [ ! -f "$work/out/samples.idx.gz" ]; then
  echo "$(basename "$exe") --fid-samples wrote no samples.idx.gz into $work/out"
  failures=$((failures + 1))
elif [ -f "$work/out/samples.idx.gz" ]; then
  # IDX header: 0 0 8 <dimensions>, then each dimension as a big-endian u32.
  header="$(gzip -dc "$work/out/samples.idx.gz" | od -An -v -tu1 -N20 | tr -s ' \n' ' ')"
  if [ "$header" != " 0 0 8 4 0 0 0 10 0 0 0 3 0 0 0 16 0 0 0 16 " ]; then
    echo "samples.idx.gz: IDX header$header, not 10 x 3 x 16 x 16 bytes"
    failures=$((failures + 1))
  else
    echo "samples.idx.gz: 10 x 3 x 16 x 16"
  fi
fi
if [ "$grids" = 0 ]; then
  echo "$(basename "$exe") wrote no grid into $work/out:"
  ls "$work/out"
  exit 1
fi
exit "$failures"
