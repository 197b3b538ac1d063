// The 28x28 DCGAN at batch 64: forward+backward of each layer, of the generator and
// discriminator stacks (Sequential), and of a whole GAN step without the optimiser (D forward
// and backward on a real and a fake batch, G forward, D forward/backward into G, G backward),
// at 1 and 2 threads, in ms and GFLOP/s (the GEMM flops of the convolutions: forward 2*M*N*K,
// backward twice that, less the dX of a first layer). The last table projects a 938-step epoch
// beside PyTorch's 336 s (2 threads, measured for the issue) and the target of 135 s.
// Usage: bench_conv [Google Benchmark flags]; the defaults below can be overridden.
#include <benchmark/benchmark.h>

#include <aigc/core/rng.hpp>
#include <aigc/kernels/partition.hpp>
#include <aigc/layers/activation.hpp>
#include <aigc/layers/batchnorm.hpp>
#include <aigc/layers/conv2d.hpp>
#include <aigc/layers/conv_transpose2d.hpp>
#include <aigc/layers/sequential.hpp>
#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

using aigc::Index;
using aigc::Tensor;
using Module = aigc::Module<float>;

constexpr Index batch = 64;
constexpr double pytorch_epoch_s = 336.0, target_epoch_s = 135.0;
constexpr int steps_per_epoch = 938;

// One convolution of the DCGAN: a factory, its input width and its forward GEMM flops.
struct Layer {
  std::string name;
  std::function<std::unique_ptr<Module>(aigc::Rng&)> make;
  Index in_features;
  double forward_flops;  // per batch
};

Layer conv(const char* name, Index cin, Index cout, Index k, Index hw, Index s, Index p) {
  const Index out = aigc::conv2d_output_size(hw, k, s, p);
  return {name,
          [=](aigc::Rng& rng) {
            return std::make_unique<aigc::Conv2d<float>>(
                cin, cout, k, hw, hw, rng, aigc::Conv2dOptions{.stride = s, .padding = p});
          },
          cin * hw * hw, 2.0 * cout * cin * k * k * out * out * batch};
}

Layer convt(const char* name, Index cin, Index cout, Index k, Index hw, Index s, Index p) {
  return {name,
          [=](aigc::Rng& rng) {
            return std::make_unique<aigc::ConvTranspose2d<float>>(
                cin, cout, k, hw, hw, rng, aigc::ConvTranspose2dOptions{.stride = s, .padding = p});
          },
          cin * hw * hw, 2.0 * cin * cout * k * k * hw * hw * batch};
}

const std::vector<Layer>& generator_layers() {
  static const std::vector<Layer> layers = {
      convt("G.convt1 100->256 k4 s1 p0 (1->4)", 100, 256, 4, 1, 1, 0),
      convt("G.convt2 256->128 k3 s2 p1 (4->7)", 256, 128, 3, 4, 2, 1),
      convt("G.convt3 128->64 k4 s2 p1 (7->14)", 128, 64, 4, 7, 2, 1),
      convt("G.convt4 64->1 k4 s2 p1 (14->28)", 64, 1, 4, 14, 2, 1),
  };
  return layers;
}

const std::vector<Layer>& discriminator_layers() {
  static const std::vector<Layer> layers = {
      conv("D.conv1 1->64 k4 s2 p1 (28->14)", 1, 64, 4, 28, 2, 1),
      conv("D.conv2 64->128 k4 s2 p1 (14->7)", 64, 128, 4, 14, 2, 1),
      conv("D.conv3 128->256 k4 s2 p1 (7->3)", 128, 256, 4, 7, 2, 1),
      conv("D.conv4 256->1 k3 s1 p0 (3->1)", 256, 1, 3, 3, 1, 0),
  };
  return layers;
}

double sum_flops(const std::vector<Layer>& layers) {
  double f = 0;
  for (const Layer& l : layers) f += l.forward_flops;
  return f;
}

// G: ConvT z(100)->256 (4x4), BN, ReLU; ->128 (7x7), BN, ReLU; ->64 (14x14), BN, ReLU; ->1
// (28x28) tanh. The activations without BN before them are fused into the convolutions.
std::unique_ptr<aigc::Sequential<float>> make_generator(aigc::Rng& rng) {
  using namespace aigc;
  auto g = std::make_unique<Sequential<float>>();
  g->emplace<ConvTranspose2d<float>>("convt1", 100, 256, 4, 1, 1, rng);
  g->emplace<BatchNorm2d<float>>("bn1", 256);
  g->emplace<ReLU<float>>("relu1");
  g->emplace<ConvTranspose2d<float>>("convt2", 256, 128, 3, 4, 4, rng,
                                     ConvTranspose2dOptions{.stride = 2, .padding = 1});
  g->emplace<BatchNorm2d<float>>("bn2", 128);
  g->emplace<ReLU<float>>("relu2");
  g->emplace<ConvTranspose2d<float>>("convt3", 128, 64, 4, 7, 7, rng,
                                     ConvTranspose2dOptions{.stride = 2, .padding = 1});
  g->emplace<BatchNorm2d<float>>("bn3", 64);
  g->emplace<ReLU<float>>("relu3");
  g->emplace<ConvTranspose2d<float>>(
      "convt4", 64, 1, 4, 14, 14, rng,
      ConvTranspose2dOptions{.stride = 2, .padding = 1, .activation = Activation::tanh});
  g->set_name("generator");
  g->set_needs_input_grad(false);  // no gradient into z
  return g;
}

// D: Conv 1->64 LeakyReLU(0.2); 64->128 BN LeakyReLU; 128->256 BN LeakyReLU; 256->1 (logit).
std::unique_ptr<aigc::Sequential<float>> make_discriminator(aigc::Rng& rng) {
  using namespace aigc;
  auto d = std::make_unique<Sequential<float>>();
  d->emplace<Conv2d<float>>(
      "conv1", 1, 64, 4, 28, 28, rng,
      Conv2dOptions{
          .stride = 2, .padding = 1, .activation = Activation::leaky_relu, .negative_slope = 0.2});
  d->emplace<Conv2d<float>>("conv2", 64, 128, 4, 14, 14, rng,
                            Conv2dOptions{.stride = 2, .padding = 1});
  d->emplace<BatchNorm2d<float>>("bn2", 128);
  d->emplace<LeakyReLU<float>>("lrelu2", 0.2);
  d->emplace<Conv2d<float>>("conv3", 128, 256, 4, 7, 7, rng,
                            Conv2dOptions{.stride = 2, .padding = 1});
  d->emplace<BatchNorm2d<float>>("bn3", 256);
  d->emplace<LeakyReLU<float>>("lrelu3", 0.2);
  d->emplace<Conv2d<float>>("conv4", 256, 1, 3, 3, 3, rng);
  d->set_name("discriminator");
  return d;
}

Tensor<float> random_tensor(Index rows, Index cols, std::uint64_t seed, double sd = 1.0) {
  aigc::Rng rng(seed);
  Tensor<float> t(rows, cols);
  rng.fill_normal(t, 0.0, sd);
  return t;
}

// GFLOP/s, a rate over the real time (the benchmarks run with UseRealTime).
void set_counters(benchmark::State& state, double flops_per_iteration) {
  state.counters["GFLOPS"] =
      benchmark::Counter(flops_per_iteration * 1e-9 * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

// Forward + backward (with dX) of one layer.
void bm_layer(benchmark::State& state, const Layer& layer, int threads) {
  aigc::set_num_threads(threads);
  aigc::Rng rng(1);
  auto m = layer.make(rng);
  const Tensor<float> x = random_tensor(batch, layer.in_features, 2);
  const Tensor<float> dy = random_tensor(batch, m->forward(x).cols(), 3);
  for (auto _ : state) {
    m->forward(x);
    benchmark::DoNotOptimize(m->backward(dy).data());
    benchmark::ClobberMemory();
  }
  set_counters(state, 3.0 * layer.forward_flops);
}

// Forward + backward of a whole stack (G without dX into z; D with dX into its input).
void bm_stack(benchmark::State& state, bool generator, int threads) {
  aigc::set_num_threads(threads);
  aigc::Rng rng(1);
  auto net = generator ? make_generator(rng) : make_discriminator(rng);
  const Tensor<float> x = random_tensor(batch, generator ? 100 : 784, 2);
  const Tensor<float> dy = random_tensor(batch, generator ? 784 : 1, 3, 0.01);
  for (auto _ : state) {
    net->forward(x);
    benchmark::DoNotOptimize(net->backward(dy).data());
    benchmark::ClobberMemory();
  }
  const auto& layers = generator ? generator_layers() : discriminator_layers();
  const double f = sum_flops(layers);
  set_counters(state, generator ? 3.0 * f - layers[0].forward_flops : 3.0 * f);
}

// The GAN step's products: D forward x3, D backward x3 (dW each time; dX of D's first layer
// only into G), G forward, G backward (no dX into z).
double gan_step_flops() {
  const auto& d = discriminator_layers();
  const auto& g = generator_layers();
  const double fd = sum_flops(d), fg = sum_flops(g);
  return 3 * fd + 3 * fd + 3 * fd - 2 * d[0].forward_flops + 3 * fg - g[0].forward_flops;
}

// One GAN step without losses' cost beyond a placeholder gradient and without the optimiser.
void bm_gan_step(benchmark::State& state, int threads) {
  aigc::set_num_threads(threads);
  aigc::Rng rng(1);
  auto g = make_generator(rng);
  auto d = make_discriminator(rng);
  const Tensor<float> real = random_tensor(batch, 784, 2, 0.5);
  const Tensor<float> z = random_tensor(batch, 100, 3);
  const Tensor<float> dlogit = random_tensor(batch, 1, 4, 0.01);
  for (auto _ : state) {
    d->set_needs_input_grad(false);
    d->forward(real);
    d->backward(dlogit);
    const Tensor<float>& fake = g->forward(z);
    d->forward(fake);
    d->backward(dlogit);
    d->set_needs_input_grad(true);
    d->forward(fake);
    const Tensor<float>& dfake = d->backward(dlogit);
    benchmark::DoNotOptimize(g->backward(dfake).data());
    benchmark::ClobberMemory();
  }
  set_counters(state, gan_step_flops());
}

// Keeps the console output and collects each benchmark's repetitions (ms and GFLOP/s).
class Collector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
      const std::string name = r.run_name.function_name;
      ms[name].push_back(r.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(r.time_unit) *
                         1e3);
      const auto it = r.counters.find("GFLOPS");
      if (it != r.counters.end()) gflops[name].push_back(it->second.value);
    }
  }
  static double median(const std::map<std::string, std::vector<double>>& m,
                       const std::string& name) {
    const auto it = m.find(name);
    if (it == m.end() || it->second.empty()) return 0.0;
    std::vector<double> v = it->second;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  }
  std::map<std::string, std::vector<double>> ms, gflops;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  std::string color = "--benchmark_color=false", reps = "--benchmark_repetitions=3",
              interleave = "--benchmark_enable_random_interleaving=true",
              min_time = "--benchmark_min_time=0.2";
  args.insert(args.begin() + 1, {color.data(), reps.data(), interleave.data(), min_time.data()});
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());

  const int thread_counts[] = {1, 2};
  std::vector<std::string> rows;
  for (const auto* layers : {&generator_layers(), &discriminator_layers()}) {
    for (const Layer& l : *layers) rows.push_back(l.name);
  }
  rows.insert(rows.end(), {"G stack", "D stack", "GAN step"});
  for (int t : thread_counts) {
    const std::string suffix = "/threads:" + std::to_string(t);
    for (const auto* layers : {&generator_layers(), &discriminator_layers()}) {
      for (const Layer& l : *layers) {
        benchmark::RegisterBenchmark((l.name + suffix).c_str(), bm_layer, l, t)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
    benchmark::RegisterBenchmark(("G stack" + suffix).c_str(), bm_stack, true, t)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("D stack" + suffix).c_str(), bm_stack, false, t)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("GAN step" + suffix).c_str(), bm_gan_step, t)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  Collector c;
  benchmark::RunSpecifiedBenchmarks(&c);

  std::printf("\nDCGAN at batch %ld, forward+backward, float, %s (median of the repetitions)\n",
              static_cast<long>(batch), aigc::kernels::simd_arch::name());
  std::printf(
      "| what | ms, 1 thread | GFLOP/s, 1 | ms, 2 threads | GFLOP/s, 2 | 2-thread speed-up |\n"
      "|---|---|---|---|---|---|\n");
  for (const std::string& r : rows) {
    const double m1 = Collector::median(c.ms, r + "/threads:1");
    const double m2 = Collector::median(c.ms, r + "/threads:2");
    if (m1 == 0 && m2 == 0) continue;  // filtered out
    std::printf("| %s | %.2f | %.1f | %.2f | %.1f | %.2fx |\n", r.c_str(), m1,
                Collector::median(c.gflops, r + "/threads:1"), m2,
                Collector::median(c.gflops, r + "/threads:2"), m2 > 0 ? m1 / m2 : 0.0);
  }
  const double step = Collector::median(c.ms, "GAN step/threads:2");
  if (step > 0) {
    const double epoch = step * 1e-3 * steps_per_epoch;
    std::printf(
        "\nGAN step (no optimiser), 2 threads: %.1f ms -> %.0f s per %d-step epoch; PyTorch "
        "336 s (%.2fx faster than PyTorch), target %.0f s (%s)\n",
        step, epoch, steps_per_epoch, pytorch_epoch_s / epoch, target_epoch_s,
        epoch <= target_epoch_s ? "met" : "not met");
  }
  return 0;
}
