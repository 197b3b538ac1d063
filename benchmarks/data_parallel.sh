#!/usr/bin/env bash
# Data parallel on this machine, in one run: the 64x64 DCGAN's step, the MLP GAN's step and the
# MLP VAE's epoch on
# 1 process x 1 thread, 2 processes x 1 thread and 1 process x 2 threads, with the ratios.
# Usage: benchmarks/data_parallel.sh [build dir (default build/bench)] [steps (default 4)]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/bench}"
steps="${2:-4}"
bench="$build/benchmarks/bench_data_parallel"
[ -x "$bench" ] || { echo "no $bench: configure with -DAIGC_BUILD_BENCHMARKS=ON and MPI" >&2; exit 1; }
mpi=(mpirun --allow-run-as-root --oversubscribe --bind-to none)
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
"${mpi[@]}" -np 1 "$bench" --threads 1 --steps "$steps" | tee -a "$out"
"${mpi[@]}" -np 2 "$bench" --threads 1 --steps "$steps" | tee -a "$out"
"${mpi[@]}" -np 1 "$bench" --threads 2 --steps "$steps" | tee -a "$out"
awk '
  $1 == "dcgan64" { dcgan[$3 "x" $5] = $7 }
  $1 == "vae" { vae[$3 "x" $5] = $7 }
  $1 == "mlpgan" { mlp[$3 "x" $5] = $7 }
  END {
    printf "\n| model | 1 process x 1 thread | 2 processes x 1 thread | 1 process x 2 threads | 2x1 vs 1x1 | 2x1 vs 1x2 |\n|---|---|---|---|---|---|\n"
    printf "| DCGAN 64x64 step (s) | %.3f | %.3f | %.3f | %.2fx | %.2fx |\n", dcgan["1x1"], dcgan["2x1"], dcgan["1x2"], dcgan["1x1"] / dcgan["2x1"], dcgan["1x2"] / dcgan["2x1"]
    printf "| MLP GAN step (s) | %.5f | %.5f | %.5f | %.2fx | %.2fx |\n", mlp["1x1"], mlp["2x1"], mlp["1x2"], mlp["1x1"] / mlp["2x1"], mlp["1x2"] / mlp["2x1"]
    printf "| VAE epoch (s) | %.3f | %.3f | %.3f | %.2fx | %.2fx |\n", vae["1x1"], vae["2x1"], vae["1x2"], vae["1x1"] / vae["2x1"], vae["1x2"] / vae["2x1"]
  }' "$out"
