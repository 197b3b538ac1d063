#!/usr/bin/env bash
# Data parallel on this machine, in one run: the 64x64 DCGAN's step, the MLP GAN's step and the
# MLP VAE's epoch on
# 1 process x 1 thread, 2 processes x 1 thread (with the trainers' sharded update, and with every
# process updating everything) and 1 process x 2 threads, with the ratios.
# Then, when the build has benchmarks/peers/torch_ddp (libtorch-dev and libgloo-dev installed, as
# benchmarks/run.sh does), PyTorch's own data parallel DCGAN step (libtorch's c10d with Gloo) on
# 1 and 2 processes x 1 thread under the same mpirun, beside aigc's in a second table.
# Usage: benchmarks/data_parallel.sh [build dir (default build/bench)] [steps (default 4)]
#        benchmarks/data_parallel.sh --tables FILE   (the tables again, from a saved output)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --tables ]; then  # the tables again, from a saved output (benchmarks/results/)
  tables_only="$2"
  set -- build/bench
fi
build="${1:-build/bench}"
steps="${2:-4}"
bench="$build/benchmarks/bench_data_parallel"
if [ -z "${tables_only:-}" ] && [ ! -x "$bench" ]; then
  echo "no $bench: configure with -DAIGC_BUILD_BENCHMARKS=ON and MPI" >&2
  exit 1
fi
mpi=(mpirun --allow-run-as-root --oversubscribe --bind-to none)
if [ -n "${tables_only:-}" ]; then
  out="$tables_only"
else
  out="$(mktemp)"
  trap 'rm -f "$out"' EXIT
  "${mpi[@]}" -np 1 "$bench" --threads 1 --steps "$steps" --shards 64,16,2 | tee -a "$out"
  "${mpi[@]}" -np 2 "$bench" --threads 1 --steps "$steps" | tee -a "$out"
  "${mpi[@]}" -np 2 "$bench" --threads 1 --steps "$steps" --whole-update 1 | tee -a "$out"
  "${mpi[@]}" -np 1 "$bench" --threads 2 --steps "$steps" | tee -a "$out"
  "${mpi[@]}" -np 2 "$bench" --threads 1 --steps "$steps" --shared-shards 64 | tee -a "$out"
  ddp="$build/benchmarks/peers/torch_ddp"
  if [ -x "$ddp" ]; then
    "${mpi[@]}" -np 1 "$ddp" --threads 1 --steps "$steps" | tee -a "$out"
    "${mpi[@]}" -np 2 "$ddp" --threads 1 --steps "$steps" | tee -a "$out"
  fi
fi
awk '
  function after(name,   i) { for (i = 1; i < NF; ++i) if ($i == name) return $(i + 1); return 0 }
  # The 2-process runs with --whole-update 1 (sharded 0) are "2x1w".
  function run_key() { return $3 "x" $5 (($3 > 1 && after("sharded") == 0) ? "w" : "") }
  $1 == "dcgan64" { dcgan[run_key()] = $7; key = "dcgan64 " run_key()
                    step_ms[key] = 1e3 * $7; reduce[key] = after("allreduce_g_ms") + after("allreduce_d_ms")
                    update[key] = after("update_ms"); sharded[key] = after("sharded") }
  $1 == "vae" { vae[run_key()] = $7; key = "vae " run_key()
                step_ms[key] = 1e3 * $7 / after("steps"); reduce[key] = after("allreduce_ms")
                update[key] = after("update_ms"); sharded[key] = after("sharded") }
  $1 ~ /_shard$/ { m = $1; sub(/_shard$/, "", m); shard[m, $3] = $5 }
  $1 ~ /_shard_shared$/ { m = $1; sub(/_shard_shared$/, "", m); shared[m, $5] = $7 }
  $1 == "dcgan64" { params["dcgan64"] = after("params_g") + after("params_d"); reductions["dcgan64"] = 2 }
  $1 == "vae" { params["vae"] = after("params"); reductions["vae"] = 1 }
  $1 == "mlpgan" { params["mlpgan"] = after("params"); reductions["mlpgan"] = 2 }
  $1 == "mlpgan" { mlp[run_key()] = $7; key = "mlpgan " run_key()
                   step_ms[key] = 1e3 * $7; reduce[key] = after("allreduce_ms")
                   update[key] = after("update_ms"); sharded[key] = after("sharded") }
  $1 == "DCGAN64_DDP_RESULT" {
    split($3, p, "="); split($4, t, "="); split($5, s, "=")
    if (t[2] == 1) torch[p[2]] = s[2]
  }
  END {
    printf "\n| model | 1 process x 1 thread | 2 processes x 1 thread | 2 x 1, whole update | 1 process x 2 threads | 2x1 vs 1x1 | 2x1 whole vs 1x1 | 2x1 vs 1x2 |\n|---|---|---|---|---|---|---|---|\n"
    printf "| DCGAN 64x64 step (s) | %.3f | %.3f | %.3f | %.3f | %.2fx | %.2fx | %.2fx |\n", dcgan["1x1"], dcgan["2x1"], dcgan["2x1w"], dcgan["1x2"], dcgan["1x1"] / dcgan["2x1"], dcgan["1x1"] / dcgan["2x1w"], dcgan["1x2"] / dcgan["2x1"]
    printf "| MLP GAN step (s) | %.5f | %.5f | %.5f | %.5f | %.2fx | %.2fx | %.2fx |\n", mlp["1x1"], mlp["2x1"], mlp["2x1w"], mlp["1x2"], mlp["1x1"] / mlp["2x1"], mlp["1x1"] / mlp["2x1w"], mlp["1x2"] / mlp["2x1"]
    printf "| VAE epoch (s) | %.3f | %.3f | %.3f | %.3f | %.2fx | %.2fx | %.2fx |\n", vae["1x1"], vae["2x1"], vae["2x1w"], vae["1x2"], vae["1x1"] / vae["2x1"], vae["1x1"] / vae["2x1w"], vae["1x2"] / vae["2x1"]
    # The scaling model of docs/distributed.md: T(P) = S(128 / P) - U (1 - 1 / P) + A(P), the
    # step of one process on its share of the batch (measured on one process: "_shard" lines),
    # less the part of the update U (timed whole on one process) that the sharded update leaves
    # to the others, plus the exchanges (timed alone on 2 processes here; from the ring formula
    # below for 8 and 64 machines).
    # On one machine the P processes also share its caches and memory: S_P(64), the step of the shard
    # on both processes at once without an exchange ("_shard_shared" lines), is the compute part
    # of the 2 processes here; S(64) alone is what one process per machine has.
    printf "\n| model | T1 (ms/step) | S(64): 1 process, 64 rows (ms) | S_2(64): 2 processes at once, 64 rows each (ms) | U: update (ms) | A(2): exchanges (ms) | predicted T(2) = S(64) - U/2 + A(2) | predicted T(2) = S_2(64) - U/2 + A(2) | measured T(2) | error, S | error, S_2 |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
    n = split("vae mlpgan dcgan64", models, " ")
    for (i = 1; i <= n; ++i) {
      m = models[i]; t1 = step_ms[m " 1x1"]; t2 = step_ms[m " 2x1"]; s64 = shard[m, 64]
      if (t1 == 0 || t2 == 0 || s64 == 0) continue
      a = reduce[m " 2x1"]; u = sharded[m " 2x1"] ? update[m " 1x1"] : 0
      pred = s64 - u / 2 + a; s2 = shared[m, 64]
      if (s2 > 0) {
        pred2 = s2 - u / 2 + a
        printf "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %+.0f%% | %+.0f%% |\n", m, t1, s64, s2, u, a, pred, pred2, t2, 100 * (pred / t2 - 1), 100 * (pred2 / t2 - 1)
      } else {
        printf "| %s | %.3f | %.3f | - | %.3f | %.3f | %.3f | - | %.3f | %+.0f%% | - |\n", m, t1, s64, u, a, pred, t2, 100 * (pred / t2 - 1)
      }
    }
    # 8 and 64 machines, one process each: A(P) = sum over the exchanges of a step of
    # 2 (P - 1) / P * bytes / W + 2 (P - 1) L (a ring: the reduce-scatter and the all-gather, of
    # the gradients or of the updated values), for two networks.
    nets = 2; w[1] = 10e9 / 8; l[1] = 25e-6; name[1] = "10 Gb/s, L = 25 us"
    w[2] = 100e9 / 8; l[2] = 3e-6; name[2] = "100 Gb/s, L = 3 us"
    for (k = 1; k <= nets; ++k) {
      printf "\nPredicted speed-up over 1 process, %s (ms/step in brackets):\n\n| model | 8 machines | 64 machines |\n|---|---|---|\n", name[k]
      for (i = 1; i <= n; ++i) {
        m = models[i]; t1 = step_ms[m " 1x1"]
        if (t1 == 0 || shard[m, 16] == 0 || shard[m, 2] == 0) continue
        line = sprintf("| %s |", m)
        split("8 64", ps, " ")
        for (j = 1; j <= 2; ++j) {
          P = ps[j]; rows = 128 / P
          u = sharded[m " 2x1"] ? update[m " 1x1"] : 0
          tp = shard[m, rows] - u * (1 - 1 / P) + 1e3 * (2 * (P - 1) / P * 4 * params[m] / w[k] + 2 * (P - 1) * l[k] * reductions[m])
          line = line sprintf(" %.1fx (%.1f) |", t1 / tp, tp)
        }
        print line
      }
    }
    if ((1 in torch) && (2 in torch)) {
      printf "\n| DCGAN 64x64 step (s) | 1 process x 1 thread | 2 processes x 1 thread | 2 vs 1 |\n|---|---|---|---|\n"
      printf "| aigc | %.3f | %.3f | %.2fx |\n", dcgan["1x1"], dcgan["2x1"], dcgan["1x1"] / dcgan["2x1"]
      printf "| libtorch c10d/Gloo | %.3f | %.3f | %.2fx |\n", torch[1], torch[2], torch[1] / torch[2]
      printf "\naigc 2 processes vs libtorch 2 processes: %.2fx\n", torch[2] / dcgan["2x1"]
    }
  }' "$out"
