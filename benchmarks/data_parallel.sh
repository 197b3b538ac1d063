#!/usr/bin/env bash
# Data parallel on this machine, in one run: the 64x64 DCGAN's step, the MLP GAN's step and the
# MLP VAE's epoch on
# 1 process x 1 thread, 2 processes x 1 thread and 1 process x 2 threads, with the ratios.
# Then, when the build has benchmarks/peers/torch_ddp (libtorch-dev and libgloo-dev installed, as
# benchmarks/run.sh does), PyTorch's own data parallel DCGAN step (libtorch's c10d with Gloo) on
# 1 and 2 processes x 1 thread under the same mpirun, beside aigc's in a second table.
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
ddp="$build/benchmarks/peers/torch_ddp"
if [ -x "$ddp" ]; then
  "${mpi[@]}" -np 1 "$ddp" --threads 1 --steps "$steps" | tee -a "$out"
  "${mpi[@]}" -np 2 "$ddp" --threads 1 --steps "$steps" | tee -a "$out"
fi
awk '
  $1 == "dcgan64" { dcgan[$3 "x" $5] = $7 }
  $1 == "vae" { vae[$3 "x" $5] = $7 }
  $1 == "mlpgan" { mlp[$3 "x" $5] = $7 }
  $1 == "DCGAN64_DDP_RESULT" {
    split($3, p, "="); split($4, t, "="); split($5, s, "=")
    if (t[2] == 1) torch[p[2]] = s[2]
  }
  END {
    printf "\n| model | 1 process x 1 thread | 2 processes x 1 thread | 1 process x 2 threads | 2x1 vs 1x1 | 2x1 vs 1x2 |\n|---|---|---|---|---|---|\n"
    printf "| DCGAN 64x64 step (s) | %.3f | %.3f | %.3f | %.2fx | %.2fx |\n", dcgan["1x1"], dcgan["2x1"], dcgan["1x2"], dcgan["1x1"] / dcgan["2x1"], dcgan["1x2"] / dcgan["2x1"]
    printf "| MLP GAN step (s) | %.5f | %.5f | %.5f | %.2fx | %.2fx |\n", mlp["1x1"], mlp["2x1"], mlp["1x2"], mlp["1x1"] / mlp["2x1"], mlp["1x2"] / mlp["2x1"]
    printf "| VAE epoch (s) | %.3f | %.3f | %.3f | %.2fx | %.2fx |\n", vae["1x1"], vae["2x1"], vae["1x2"], vae["1x1"] / vae["2x1"], vae["1x2"] / vae["2x1"]
    if ((1 in torch) && (2 in torch)) {
      printf "\n| DCGAN 64x64 step (s) | 1 process x 1 thread | 2 processes x 1 thread | 2 vs 1 |\n|---|---|---|---|\n"
      printf "| aigc | %.3f | %.3f | %.2fx |\n", dcgan["1x1"], dcgan["2x1"], dcgan["1x1"] / dcgan["2x1"]
      printf "| libtorch c10d/Gloo | %.3f | %.3f | %.2fx |\n", torch[1], torch[2], torch[1] / torch[2]
      printf "\naigc 2 processes vs libtorch 2 processes: %.2fx\n", torch[2] / dcgan["2x1"]
    }
  }' "$out"
