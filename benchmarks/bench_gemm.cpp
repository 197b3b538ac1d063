// GFLOP/s of aigc's GEMM beside Eigen's product and OpenBLAS's cblas_sgemm (when found) on the
// shapes the models use, at 1 and 2 threads, and the machine's FMA peak measured by a loop of
// independent register-only FMAs, so that every figure is also a fraction of the limit. Where the
// build targets AVX-512 BF16, also aigc's bfloat16-product GEMM (gemm_bf16) on the same shapes,
// against its own peak (a register-only loop of vdpbf16ps).
// Repetitions are interleaved at random (Google Benchmark's random interleaving) so that load
// from other processes hits all libraries alike; the table reports the median of each.
// Usage: bench_gemm [Google Benchmark flags]; the defaults below can be overridden.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <aigc/kernels/gemm.hpp>
#include <aigc/kernels/gemm_bf16.hpp>
#include <aigc/kernels/partition.hpp>
#include <aigc/kernels/simd.hpp>
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#ifdef AIGC_BENCH_OPENBLAS
#include <cblas.h>
#endif

namespace {

using aigc::Index;
using aigc::kernels::Trans;
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr int peak_chains_bf16 = 24;

struct Shape {
  Index M, N, K;
  Trans ta, tb;
  float beta;
  const char* what;
};

// The models' products: Dense forward Y = X W^T (NT), weight gradient dW += dY^T X (TN, beta 1),
// input gradient dX = dY W (NN), and a large square product.
const Shape shapes[] = {
    {128, 400, 784, Trans::no, Trans::yes, 0.f, "VAE fc1 forward"},
    {128, 784, 400, Trans::no, Trans::yes, 0.f, "VAE fc4 forward"},
    {400, 784, 128, Trans::yes, Trans::no, 1.f, "VAE fc1 weight gradient"},
    {64, 512, 784, Trans::no, Trans::yes, 0.f, "batch 64 forward"},
    {64, 784, 512, Trans::no, Trans::yes, 0.f, "batch 64 forward"},
    {1024, 1024, 1024, Trans::no, Trans::no, 0.f, "square"},
    {128, 400, 784, Trans::no, Trans::no, 0.f, "VAE fc4 input gradient"},
    {256, 8192, 2048, Trans::no, Trans::no, 0.f, "64x64 DCGAN D conv3 forward"},
};

const char* case_name(const Shape& s) {
  static const char* names[2][2] = {{"NN", "NT"}, {"TN", "TT"}};
  return names[s.ta == Trans::yes][s.tb == Trans::yes];
}

std::string shape_key(const Shape& s) {
  return std::to_string(s.M) + "x" + std::to_string(s.N) + "x" + std::to_string(s.K) + "_" +
         case_name(s);
}

// Operands of a shape, filled with a fixed pattern.
struct Operands {
  RowMat a, b, c;
  explicit Operands(const Shape& s)
      : a(s.ta == Trans::no ? s.M : s.K, s.ta == Trans::no ? s.K : s.M),
        b(s.tb == Trans::no ? s.K : s.N, s.tb == Trans::no ? s.N : s.K),
        c(s.M, s.N) {
    a.setRandom();
    b.setRandom();
    c.setZero();
  }
};

void set_counters(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOPS"] =
      benchmark::Counter(flops_per_iteration * 1e-9 * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

void bm_aigc(benchmark::State& state, Shape s, int threads) {
  aigc::set_num_threads(threads);
  Operands o(s);
  for (auto _ : state) {
    aigc::kernels::gemm<float>(s.ta, s.tb, s.M, s.N, s.K, 1.f, o.a.data(), o.a.cols(), o.b.data(),
                               o.b.cols(), s.beta, o.c.data(), o.c.cols());
    benchmark::DoNotOptimize(o.c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, 2.0 * s.M * s.N * s.K);
}

void bm_eigen(benchmark::State& state, Shape s, int threads) {
  Eigen::setNbThreads(threads);
  Operands o(s);
  for (auto _ : state) {
    // C = op(A) op(B) (beta 0) or C += op(A) op(B) (beta 1), as Eigen users write them.
    const auto product = [&](const auto& x, const auto& y) {
      if (s.beta == 0.f) {
        o.c.noalias() = x * y;
      } else {
        o.c.noalias() += x * y;
      }
    };
    if (s.ta == Trans::no && s.tb == Trans::no) {
      product(o.a, o.b);
    } else if (s.ta == Trans::no) {
      product(o.a, o.b.transpose());
    } else if (s.tb == Trans::no) {
      product(o.a.transpose(), o.b);
    } else {
      product(o.a.transpose(), o.b.transpose());
    }
    benchmark::DoNotOptimize(o.c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, 2.0 * s.M * s.N * s.K);
}

#ifdef AIGC_BENCH_OPENBLAS
void bm_openblas(benchmark::State& state, Shape s, int threads) {
  openblas_set_num_threads(threads);
  Operands o(s);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, s.ta == Trans::no ? CblasNoTrans : CblasTrans,
                s.tb == Trans::no ? CblasNoTrans : CblasTrans, static_cast<int>(s.M),
                static_cast<int>(s.N), static_cast<int>(s.K), 1.f, o.a.data(),
                static_cast<int>(o.a.cols()), o.b.data(), static_cast<int>(o.b.cols()), s.beta,
                o.c.data(), static_cast<int>(o.c.cols()));
    benchmark::DoNotOptimize(o.c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, 2.0 * s.M * s.N * s.K);
}
#endif

void bm_aigc_bf16(benchmark::State& state, Shape s, int threads) {
  aigc::set_num_threads(threads);
  Operands o(s);
  for (auto _ : state) {
    aigc::kernels::gemm_bf16(s.ta, s.tb, s.M, s.N, s.K, 1.f, o.a.data(), o.a.cols(), o.b.data(),
                             o.b.cols(), s.beta, o.c.data(), o.c.cols());
    benchmark::DoNotOptimize(o.c.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, 2.0 * s.M * s.N * s.K);
}

#ifdef AIGC_BF16_PRODUCTS
// One core's bfloat16 peak: 24 independent accumulators updated by vdpbf16ps (16 lanes, two
// products each) on registers only.
float dpbf16_loop(long iterations) {
  __m512 acc[peak_chains_bf16];
  for (int i = 0; i < peak_chains_bf16; ++i) acc[i] = _mm512_set1_ps(1e-3f * static_cast<float>(i));
  const auto a = reinterpret_cast<__m512bh>(_mm512_set1_epi32(0x3f803f80));  // 1, 1
  const auto b = reinterpret_cast<__m512bh>(_mm512_set1_epi32(0x33d633d6));  // 1e-7, 1e-7
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < peak_chains_bf16; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < peak_chains_bf16; ++i) s = _mm512_add_ps(s, acc[i]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  float sum = 0.0f;
  for (float v : lanes) sum += v;
  return sum;
}

void bm_peak_bf16(benchmark::State& state, int threads) {
  const long iterations = 1 << 20;
  for (auto _ : state) {
    std::vector<std::thread> others;
    for (int t = 1; t < threads; ++t) {
      others.emplace_back([] { benchmark::DoNotOptimize(dpbf16_loop(iterations)); });
    }
    benchmark::DoNotOptimize(dpbf16_loop(iterations));
    for (auto& t : others) t.join();
  }
  set_counters(state, 64.0 * peak_chains_bf16 * static_cast<double>(iterations) * threads);
}
#endif

// One core's peak: 24 independent accumulators (more than FMA latency x FMA units) updated by
// FMAs on registers only.
using Simd = aigc::kernels::detail::Simd<float, aigc::kernels::simd_arch>;
constexpr int peak_chains = 24;

float fma_loop(long iterations) {
  using V = Simd::V;
  V acc[peak_chains];
  for (int i = 0; i < peak_chains; ++i) acc[i] = Simd::broadcast(1e-3f * static_cast<float>(i));
  const V a = Simd::broadcast(0.999999f), b = Simd::broadcast(1e-7f);
  for (long it = 0; it < iterations; ++it) {
#pragma GCC unroll 24
    for (int i = 0; i < peak_chains; ++i) acc[i] = Simd::fma(acc[i], a, b);
  }
  V s = acc[0];
  for (int i = 1; i < peak_chains; ++i) s = s + acc[i];
  return static_cast<float>(Simd::sum(s));
}

void bm_peak(benchmark::State& state, int threads) {
  const long iterations = 1 << 20;
  for (auto _ : state) {
    std::vector<std::thread> others;
    for (int t = 1; t < threads; ++t) {
      others.emplace_back([] { benchmark::DoNotOptimize(fma_loop(iterations)); });
    }
    benchmark::DoNotOptimize(fma_loop(iterations));
    for (auto& t : others) t.join();
  }
  set_counters(state, 2.0 * Simd::W * peak_chains * static_cast<double>(iterations) * threads);
}

// Keeps the console output and collects each benchmark's repetitions.
class Collector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
      const auto it = r.counters.find("GFLOPS");
      if (it != r.counters.end()) gflops[r.run_name.function_name].push_back(it->second.value);
    }
  }
  double median(const std::string& name) const {
    const auto it = gflops.find(name);
    if (it == gflops.end() || it->second.empty()) return 0.0;
    std::vector<double> v = it->second;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  }
  std::map<std::string, std::vector<double>> gflops;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  std::string color = "--benchmark_color=false", reps = "--benchmark_repetitions=5",
              interleave = "--benchmark_enable_random_interleaving=true",
              min_time = "--benchmark_min_time=0.1";
  args.insert(args.begin() + 1, {color.data(), reps.data(), interleave.data(), min_time.data()});
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());

  const int thread_counts[] = {1, 2};
  for (int t : thread_counts) {
    const std::string suffix = "/threads:" + std::to_string(t);
    benchmark::RegisterBenchmark(("peak_fma" + suffix).c_str(), bm_peak, t)->UseRealTime();
#ifdef AIGC_BF16_PRODUCTS
    benchmark::RegisterBenchmark(("peak_bf16" + suffix).c_str(), bm_peak_bf16, t)->UseRealTime();
#endif
    for (const Shape& s : shapes) {
      const std::string key = shape_key(s) + suffix;
      benchmark::RegisterBenchmark(("aigc/" + key).c_str(), bm_aigc, s, t)->UseRealTime();
      if (aigc::kernels::has_bf16_products) {
        benchmark::RegisterBenchmark(("aigc_bf16/" + key).c_str(), bm_aigc_bf16, s, t)
            ->UseRealTime();
      }
      benchmark::RegisterBenchmark(("eigen/" + key).c_str(), bm_eigen, s, t)->UseRealTime();
#ifdef AIGC_BENCH_OPENBLAS
      benchmark::RegisterBenchmark(("openblas/" + key).c_str(), bm_openblas, s, t)->UseRealTime();
#endif
    }
  }
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);

  std::printf("\nGEMM, GFLOP/s (median of the repetitions), float, %s\n",
              aigc::kernels::simd_arch::name());
  std::printf(
      "| (M,N,K) | case | what | threads | aigc | %% of FMA peak | Eigen | OpenBLAS | aigc/Eigen | "
      "aigc/OpenBLAS |\n|---|---|---|---|---|---|---|---|---|---|\n");
  for (int t : thread_counts) {
    const std::string suffix = "/threads:" + std::to_string(t);
    const double peak = collector.median("peak_fma" + suffix);
    for (const Shape& s : shapes) {
      const std::string key = shape_key(s) + suffix;
      const double a = collector.median("aigc/" + key), e = collector.median("eigen/" + key);
      const double o = collector.median("openblas/" + key);
      char blas[32] = "n/a", blas_ratio[32] = "n/a";
      if (o > 0) {
        std::snprintf(blas, sizeof blas, "%.1f", o);
        std::snprintf(blas_ratio, sizeof blas_ratio, "%.2fx", a / o);
      }
      std::printf("| (%ld,%ld,%ld) | %s | %s | %d | %.1f | %.0f%% | %.1f | %s | %.2fx | %s |\n",
                  static_cast<long>(s.M), static_cast<long>(s.N), static_cast<long>(s.K),
                  case_name(s), s.what, t, a, 100.0 * a / peak, e, blas, a / e, blas_ratio);
    }
  }
  for (int t : thread_counts) {
    std::printf("FMA peak, %d thread(s): %.1f GFLOP/s\n", t,
                collector.median("peak_fma/threads:" + std::to_string(t)));
  }
  if (!aigc::kernels::has_bf16_products) {
    std::printf("\nbfloat16 GEMM: not in this build (the target has no AVX-512 BF16)\n");
    return 0;
  }
  std::printf(
      "\nbfloat16-product GEMM (gemm_bf16), GFLOP/s (median), against the FP32 GEMM of the same "
      "run\n| (M,N,K) | case | what | threads | FP32 | bf16 | bf16 / FP32 | %% of bf16 peak "
      "|\n|---|---|---|---|---|---|---|---|\n");
  for (int t : thread_counts) {
    const std::string suffix = "/threads:" + std::to_string(t);
    const double peak = collector.median("peak_bf16" + suffix);
    for (const Shape& s : shapes) {
      const std::string key = shape_key(s) + suffix;
      const double a = collector.median("aigc/" + key), h = collector.median("aigc_bf16/" + key);
      std::printf("| (%ld,%ld,%ld) | %s | %s | %d | %.1f | %.1f | %.2fx | %.0f%% |\n",
                  static_cast<long>(s.M), static_cast<long>(s.N), static_cast<long>(s.K),
                  case_name(s), s.what, t, a, h, h / a, 100.0 * h / peak);
    }
  }
  for (int t : thread_counts) {
    std::printf("bf16 peak, %d thread(s): %.1f GFLOP/s\n", t,
                collector.median("peak_bf16/threads:" + std::to_string(t)));
  }
  return 0;
}
