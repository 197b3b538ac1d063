#!/usr/bin/env bash
# Before and after, in one run: builds bench_train and bench_gemm at a base revision and at the
# working tree, then runs them in turns (base, new, base, new, ...) so that the machine's drift hits
# both alike, and prints each figure of both side by side with the ratio new/base.
# Usage: benchmarks/compare.sh <base revision> [rounds, default 2] [bench_train flags...]
#   e.g. benchmarks/compare.sh HEAD~3 2 --epochs 3
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:?usage: benchmarks/compare.sh <base revision> [rounds] [bench_train flags...]}"
rounds="${2:-2}"
shift $(($# >= 2 ? 2 : 1))
train_flags=("$@")
[ ${#train_flags[@]} -eq 0 ] && train_flags=(--epochs 3)
scripts/install-deps.sh libbenchmark-dev libopenblas-dev
rev="$(git rev-parse --short "$base")"
tree="build/compare-src-$rev"
[ -d "$tree" ] || git worktree add --detach "$tree" "$rev" > /dev/null
build() {  # build <source> <build folder>
  cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release -DAIGC_NATIVE=ON -DAIGC_BUILD_BENCHMARKS=ON \
        -DAIGC_BUILD_TESTS=OFF -DAIGC_BUILD_EXAMPLES=OFF > /dev/null
  cmake --build "$2" -j"$(nproc)" --target bench_train bench_gemm > /dev/null
}
build "$tree" "build/compare-$rev"
build . build/compare-new
log="$(mktemp -d)"
trap 'rm -rf "$log"' EXIT
for r in $(seq "$rounds"); do
  for side in base new; do
    dir="build/compare-new"
    [ "$side" = base ] && dir="build/compare-$rev"
    echo "round $r: $side" >&2
    "$dir/benchmarks/bench_train" "${train_flags[@]}" >> "$log/train-$side.txt"
    "$dir/benchmarks/bench_gemm" 2> /dev/null |
      sed -n '/^GEMM, GFLOP/,$p' >> "$log/gemm-$side.txt"
  done
done
# Medians over the rounds: the trainers' seconds (lower is better), the GEMM's GFLOP/s.
summarise() {  # summarise <side>: "key value" lines
  awk 'function precision(  i, kv) { for (i = 3; i <= NF; ++i) { split($i, kv, "=");
         if (kv[1] == "precision") return kv[2] } return "fp32" }
       /^RESULT aigc/ { for (i = 3; i <= NF; ++i) { split($i, kv, "=");
         if (kv[1] == "threads") t = kv[2]; if (kv[1] == "epoch_s") s = kv[2] }
         print "VAE_epoch_s_" precision() "_threads=" t, s }
       /^GAN_RESULT aigc/ { for (i = 3; i <= NF; ++i) { split($i, kv, "=");
         if (kv[1] == "model") m = kv[2]; if (kv[1] == "threads") t = kv[2];
         if (kv[1] == "epoch_s") s = kv[2] }
         print m "_epoch_s_" precision() "_threads=" t, s }' "$log/train-$1.txt"
  # the FP32 table's rows (aigc in column 6), then the bf16 table's (bf16 in column 7)
  awk -F'|' '/^bfloat16-product GEMM/ { bf16 = 1 } /^GEMM, GFLOP/ { bf16 = 0 }
       /^\| \([0-9]/ { gsub(/ /, "", $2); gsub(/ /, "", $3); gsub(/ /, "", $5);
         if (bf16) print "GEMM_GFLOPs_bf16" $2 $3 "_threads=" $5, $7;
         else print "GEMM_GFLOPs" $2 $3 "_threads=" $5, $6 }' "$log/gemm-$1.txt"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
summarise base > "$log/base.txt"
summarise new > "$log/new.txt"
echo "| figure | base $rev | new (working tree) | new / base |"
echo "|---|---|---|---|"
cut -d' ' -f1 "$log/base.txt" | sort -u | while read -r key; do
  b="$(awk -v k="$key" '$1 == k { print $2 }' "$log/base.txt" | median)"
  n="$(awk -v k="$key" '$1 == k { print $2 }' "$log/new.txt" | median)"
  awk -v k="$key" -v b="$b" -v n="$n" 'BEGIN { printf "| %s | %s | %s | %.3f |\n", k, b, n, (b > 0 ? n / b : 0) }'
done
