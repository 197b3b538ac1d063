#!/usr/bin/env bash
# Builds the benchmarks (Release, -march=native) and prints the tables of docs/benchmarks.md:
# the machine's core-to-core figures, the GEMM against Eigen and OpenBLAS, then the default VAE,
# the GANs and PyTorch's 64x64 DCGAN trained by aigc and by PyTorch's C++ library (when installed)
# in the same run, with speed ratios (and the VAE's test loss) side by side.
# Beside each FP32 table, the same models with bfloat16 products (aigc's Precision::bf16 against
# PyTorch's CPU autocast to bfloat16), from the same runs, with the bf16 vs FP32 ratios.
# Then the VAE again under load (a busy process on each core). The whole output also goes to
# benchmarks/results/<date>-<time>-<commit>.txt.
# Usage: benchmarks/run.sh [epochs]   (default 10; AIGC_BENCH_SKIP_GEMM=1 skips the GEMM table;
#        AIGC_BENCH_ONLY=dcgan64 prints only the machine line and the 64x64 DCGAN table)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-10}"
mkdir -p benchmarks/results
results_file="benchmarks/results/$(date -u '+%Y-%m-%d-%H%M')-$(git rev-parse --short HEAD 2>/dev/null || echo unknown).txt"
exec > >(tee "$results_file") 2>&1
scripts/install-deps.sh libbenchmark-dev libopenblas-dev libtorch-dev libgloo-dev
dir=build/bench
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DAIGC_NATIVE=ON -DAIGC_BUILD_BENCHMARKS=ON \
      -DAIGC_BUILD_TESTS=OFF -DAIGC_BUILD_EXAMPLES=OFF > /dev/null
cmake --build "$dir" -j"$(nproc)" > /dev/null

echo "machine: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p') ($(nproc) cores), $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
"$dir/benchmarks/bench_machine"  # how the two cores share data: the bound on thread scaling
echo

dcgan64_table() {
  # PyTorch's 64x64 DCGAN (batch 128, random colour data), aigc and PyTorch in the same run: seconds
  # per training step (D and G) and generator images per second (eval mode, batch 256).
  echo
  "$dir/benchmarks/bench_dcgan64" --threads 1,2 --precision fp32,bf16 | tee "$dir/bench_dcgan64.log"
  dcgan64="$(grep '^DCGAN64_RESULT' "$dir/bench_dcgan64.log")"
  if [ -x "$dir/benchmarks/peers/torch_gan" ]; then
    : > "$dir/torch_dcgan64.log"
    for precision in fp32 bf16; do
      for t in 1 2; do
        "$dir/benchmarks/peers/torch_gan" --models dcgan64 --threads "$t" --dcgan64-steps 1 \
          --precision "$precision" | tee -a "$dir/torch_dcgan64.log"
      done
    done
    dcgan64="$dcgan64"$'\n'"$(grep '^DCGAN64_RESULT' "$dir/torch_dcgan64.log")"
  fi
  echo
  echo "$dcgan64" | awk '
    function field(name,   i, kv) {
      for (i = 3; i <= NF; ++i) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
      return ""
    }
    field("precision") != "bf16" {
      t = field("threads"); step[$2, t] = field("step_s"); ips[$2, t] = field("images_per_s")
      threads[t] = 1 }
    END {
      print "| DCGAN 3x64x64 | threads | aigc | PyTorch | aigc vs PyTorch |"
      print "|---|---|---|---|---|"
      for (t = 1; t <= 2; ++t) {
        if (!(t in threads)) continue
        a = step["aigc", t]; p = step["torch", t]
        printf "| training step, batch 128 (s) | %d | %.3f | %s | %s |\n", t, a,
               (p > 0 ? sprintf("%.3f", p) : "n/a"), (a > 0 && p > 0) ? sprintf("%.2fx", p / a) : "n/a"
      }
      for (t = 1; t <= 2; ++t) {
        if (!(t in threads)) continue
        a = ips["aigc", t]; p = ips["torch", t]
        printf "| sampling, eval, batch 256 (images/s) | %d | %.0f | %s | %s |\n", t, a,
               (p > 0 ? sprintf("%.0f", p) : "n/a"), (a > 0 && p > 0) ? sprintf("%.2fx", a / p) : "n/a"
      }
    }'
  echo
  echo "$dcgan64" | bf16_table "DCGAN 3x64x64" step_s "training step, batch 128 (s)" time
  echo
  echo "$dcgan64" | bf16_table "DCGAN 3x64x64" images_per_s "sampling, eval, batch 256 (images/s)" rate
}

# Reads RESULT lines (library, then name=value fields with threads= and precision=) and prints, for
# each thread count (and model), aigc's bf16 figure beside its FP32 one and PyTorch's bf16 autocast
# one: bf16_table <title> <field> <what> time|rate [model]
bf16_table() {
  awk -v title="$1" -v key="$2" -v what="$3" -v kind="$4" -v model="${5:-}" '
    function field(name,   i, kv) {
      for (i = 3; i <= NF; ++i) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
      return ""
    }
    function ratio(num, den) { return (num > 0 && den > 0) ? sprintf("%.2fx", num / den) : "n/a" }
    function show(x) { return x > 0 ? (x >= 100 ? sprintf("%.0f", x) : sprintf("%.3f", x)) : "n/a" }
    model == "" || field("model") == model {
      p = field("precision"); if (p == "") p = "fp32"
      v[$2, p, field("threads")] = field(key); threads[field("threads")] = 1
    }
    END {
      printf "| %s, bf16 products | threads | aigc FP32 | aigc bf16 | aigc bf16 vs FP32 | PyTorch FP32 | PyTorch bf16 autocast | aigc bf16 vs PyTorch bf16 |\n", title
      print "|---|---|---|---|---|---|---|---|"
      for (t = 1; t <= 2; ++t) {
        if (!(t in threads)) continue
        af = v["aigc", "fp32", t]; ab = v["aigc", "bf16", t]
        pf = v["torch", "fp32", t]; pb = v["torch", "bf16", t]
        # speed ratios: a time is better lower, a rate higher
        printf "| %s | %d | %s | %s | %s | %s | %s | %s |\n", what, t, show(af), show(ab),
               kind == "time" ? ratio(af, ab) : ratio(ab, af), show(pf), show(pb),
               kind == "time" ? ratio(pb, ab) : ratio(ab, pb)
      }
    }'
}

if [ "${AIGC_BENCH_ONLY:-}" = dcgan64 ]; then
  dcgan64_table
  echo "results written to $results_file"
  exit 0
fi

if [ "${AIGC_BENCH_SKIP_GEMM:-0}" != 1 ]; then
  "$dir/benchmarks/bench_gemm" > "$dir/bench_gemm.log"
  sed -n '/^GEMM, GFLOP/,$p' "$dir/bench_gemm.log"
  echo
fi

"$dir/benchmarks/bench_train" --epochs "$epochs" --precision fp32,bf16 | tee "$dir/bench_train.log"
echo
results="$(grep '^RESULT' "$dir/bench_train.log")"
if [ -x "$dir/benchmarks/peers/torch_vae" ]; then
  "$dir/benchmarks/peers/torch_vae" --epochs "$epochs" --threads 2 | tee "$dir/torch_vae.log"
  "$dir/benchmarks/peers/torch_vae" --epochs "$epochs" --threads 2 --precision bf16 \
    | tee "$dir/torch_vae_bf16.log"
  results="$results"$'\n'"$(grep -h '^RESULT' "$dir/torch_vae.log" "$dir/torch_vae_bf16.log")"
  echo
fi

# The side-by-side table: each trainer's median training-epoch time, test loss after the last
# epoch, generator throughput, and the speed relative to PyTorch at 2 threads.
echo "$results" | awk -v epochs="$epochs" '
  function field(name,   i, kv) {
    for (i = 3; i <= NF; ++i) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
    return ""
  }
  field("precision") != "bf16" {
    ++n; lib[n] = $2; th[n] = field("threads"); ep[n] = field("epoch_s");
    loss[n] = field("test_loss"); ips[n] = field("images_per_s");
    if ($2 == "torch" && th[n] == 2) torch = ep[n] }
  END {
    printf "| trainer | threads | training epoch (s, median) | test loss after %d epochs | generator (images/s) | epoch speed vs PyTorch (2 threads) |\n", epochs
    print "|---|---|---|---|---|---|"
    for (i = 1; i <= n; ++i) {
      ratio = torch > 0 ? sprintf("%.2fx", torch / ep[i]) : "n/a"
      printf "| %s | %s | %.3f | %.2f | %.0f | %s |\n", lib[i], th[i], ep[i], loss[i], ips[i], ratio
    }
  }'
echo
echo "$results" | bf16_table "VAE epoch" epoch_s "training epoch (s, median)" time
echo
echo "$results" | awk -v epochs="$epochs" '
  function field(name,   i, kv) {
    for (i = 3; i <= NF; ++i) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
    return ""
  }
  function diff(b, f) { return (b > 0 && f > 0) ? sprintf("%+.2f%%", 100 * (b / f - 1)) : "n/a" }
  function show(x) { return x > 0 ? sprintf("%.2f", x) : "n/a" }
  { p = field("precision"); if (p == "") p = "fp32"
    loss[$2, p, field("threads")] = field("test_loss"); threads[field("threads")] = 1 }
  END {
    printf "| VAE test loss after %d epochs | threads | aigc FP32 | aigc bf16 | bf16 vs FP32 | PyTorch FP32 | PyTorch bf16 autocast | bf16 vs FP32 |\n", epochs
    print "|---|---|---|---|---|---|---|---|"
    for (t = 1; t <= 2; ++t) {
      if (!(t in threads)) continue
      af = loss["aigc", "fp32", t]; ab = loss["aigc", "bf16", t]
      pf = loss["torch", "fp32", t]; pb = loss["torch", "bf16", t]
      printf "| test loss | %d | %s | %s | %s | %s | %s | %s |\n", t, show(af), show(ab), diff(ab, af),
             show(pf), show(pb), diff(pb, pf)
    }
  }'

# The GANs: aigc (bench_train above) and PyTorch at 2 threads, the same step counts, side by side.
if [ -x "$dir/benchmarks/peers/torch_gan" ]; then
  echo
  "$dir/benchmarks/peers/torch_gan" --threads 2 | tee "$dir/torch_gan.log"
  "$dir/benchmarks/peers/torch_gan" --threads 2 --precision bf16 | tee "$dir/torch_gan_bf16.log"
  echo
  grep -h '^GAN_RESULT' "$dir/bench_train.log" "$dir/torch_gan.log" | awk '
    function field(name,   i, kv) {
      for (i = 3; i <= NF; ++i) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
      return ""
    }
    field("threads") == 2 && field("precision") != "bf16" {
      t[$2, field("model")] = field("epoch_s"); models[field("model")] = 1 }
    END {
      print "| GAN (938 steps of batch 64) | aigc, 2 threads (s per epoch) | PyTorch, 2 threads (s per epoch) | aigc speed vs PyTorch |"
      print "|---|---|---|---|"
      for (m in models) {
        a = t["aigc", m]; p = t["torch", m]
        printf "| %s | %s | %s | %s |\n", m, a, p, (a > 0 && p > 0) ? sprintf("%.2fx", p / a) : "n/a"
      }
    }'
  for model in MLP_GAN DCGAN; do
    echo
    grep -h '^GAN_RESULT' "$dir/bench_train.log" "$dir/torch_gan.log" "$dir/torch_gan_bf16.log" \
      | bf16_table "$model (938 steps of batch 64)" epoch_s "epoch (s)" time "$model"
  done
fi

dcgan64_table

# Under load: the same VAE while a busy process competes for each core (the machine
# oversubscribed). Waiting threads yield and then sleep, so 2 threads must not be slower than 1.
echo
echo "VAE under load: $(nproc) busy processes beside the benchmark"
busy=()
for _ in $(seq "$(nproc)"); do
  bash -c 'while :; do :; done' &
  busy+=($!)
done
"$dir/benchmarks/bench_train" --models vae --epochs 3 --threads 1,2 | grep -E '^(\| [12] \||speed-up)' || true
kill "${busy[@]}"
echo "results written to $results_file"
