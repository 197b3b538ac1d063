// PyTorch's 64x64 DCGAN (nz 100, ngf = ndf = 64, batch 128, Adam 2e-4 (0.5, 0.999)) on random
// colour data: seconds per training step (one D step and one G step) and generator images per
// second (eval mode, batch 256), per thread count, rounds interleaved across the thread counts so
// that load from other processes hits them alike. With --profile, milliseconds of each layer's
// forward (G in eval mode at the sampling batch) and forward + backward (training batch).
// --precision fp32,bf16 runs each thread count with the products in each precision (interleaved).
// Usage: bench_dcgan64 [--threads 1,2] [--precision fp32|bf16|fp32,bf16] [--steps N] [--rounds N]
//                      [--sample-batches N] [--profile 1] [--batch 128]
#include <aigc/aigc.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "precision_flag.hpp"

namespace {

using aigc::Index;
using aigc::Tensor;
using Clock = std::chrono::steady_clock;

constexpr Index latent = 100, channels = 3, size = 64, sample_batch = 256;
Index train_batch = 128;  // --batch

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

using bench::parse_precisions;
using bench::precision_name;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Tensor<float> uniform(Index rows, Index cols, std::uint64_t seed) {
  aigc::Rng rng(seed);
  Tensor<float> t(rows, cols);
  rng.fill_uniform(t, -1.0, 1.0);
  return t;
}

struct Run {
  int threads;
  aigc::Precision precision;
  std::unique_ptr<aigc::Sequential<float>> g, d;
  std::unique_ptr<aigc::GanTrainer<float>> trainer;
  std::vector<double> step_seconds, images_per_s;
  aigc::GanStepStats last;
};

// Milliseconds (median of `reps`) of each child of `net`: forward, and forward + backward.
void profile(const char* what, aigc::Sequential<float>& net, const Tensor<float>& input, bool train,
             int reps) {
  net.set_training(train);
  std::vector<Tensor<float>> inputs{input};
  for (std::size_t i = 0; i < net.size(); ++i) inputs.push_back(net[i].forward(inputs.back()));
  std::printf("\n%s, batch %ld, %d thread(s): ms per layer\n| layer | forward |%s\n|---|---|%s\n",
              what, static_cast<long>(input.rows()), aigc::num_threads(),
              train ? " backward |" : "", train ? "---|" : "");
  double total_f = 0, total_b = 0;
  for (std::size_t i = 0; i < net.size(); ++i) {
    aigc::Module<float>& m = net[i];
    std::vector<double> f, b;
    for (int r = 0; r < reps; ++r) {
      auto t0 = Clock::now();
      const Tensor<float>& y = m.forward(inputs[i]);
      f.push_back(seconds_since(t0) * 1e3);
      if (train) {
        const Tensor<float> dy = Tensor<float>::Constant(y.rows(), y.cols(), 1e-3f);
        t0 = Clock::now();
        m.backward(dy);
        b.push_back(seconds_since(t0) * 1e3);
      }
    }
    total_f += median(f);
    if (train) total_b += median(b);
    std::printf("| %s | %.2f |", net.child_key(i).c_str(), median(f));
    if (train) std::printf(" %.2f |", median(b));
    std::printf("\n");
  }
  std::printf("| total | %.2f |", total_f);
  if (train) std::printf(" %.2f |", total_b);
  std::printf("\n");
  net.set_training(true);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> thread_counts = {1, 2};
  int steps = 3, rounds = 3, sample_batches = 2;
  bool profile_layers = false;
  std::vector<aigc::Precision> precisions = {aigc::Precision::fp32};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    try {
      if (flag == "--steps") {
        steps = std::stoi(value);
      } else if (flag == "--rounds") {
        rounds = std::stoi(value);
      } else if (flag == "--batch") {
        train_batch = std::stol(value);
      } else if (flag == "--sample-batches") {
        sample_batches = std::stoi(value);
      } else if (flag == "--precision") {
        precisions = parse_precisions(value);
      } else if (flag == "--profile") {
        profile_layers = value != "0";
      } else if (flag == "--threads") {
        thread_counts = bench::parse_thread_counts(value);
      } else {
        std::fprintf(stderr, "bench_dcgan64: unknown flag %s\n", flag.c_str());
        return 1;
      }
    } catch (const std::exception& e) {  // std::stoi's and the parsers' errors
      std::fprintf(stderr, "bench_dcgan64: bad value '%s' of %s (%s)\n", value.c_str(),
                   flag.c_str(), e.what());
      return 1;
    }
  }
  if (argc % 2 == 0) {
    std::fprintf(stderr, "bench_dcgan64: flag %s has no value\n", argv[argc - 1]);
    return 1;
  }
  const Index features = channels * size * size;
  const Tensor<float> real = uniform(train_batch, features, 1);
  aigc::Rng zrng(2);
  Tensor<float> z(sample_batch, latent);
  zrng.fill_normal(z);

  if (profile_layers) {
    for (int t : thread_counts) {
      aigc::set_num_threads(t);
      aigc::Rng init(0);
      auto g = aigc::make_dcgan_generator<float>(latent, channels, size, init);
      auto d = aigc::make_dcgan_discriminator<float>(channels, size, init);
      aigc::set_precision(*g, precisions.back());
      aigc::set_precision(*d, precisions.back());
      profile("G sampling (eval)", *g, z, false, 3);
      profile("G training", *g, z.topRows(train_batch), true, 3);
      profile("D training", *d, real, true, 3);
    }
    return 0;
  }

  std::vector<Run> runs;
  for (aigc::Precision p : precisions) {
    for (int t : thread_counts) {
      Run r;
      r.threads = t;
      r.precision = p;
      aigc::Rng init(0);
      r.g = aigc::make_dcgan_generator<float>(latent, channels, size, init);
      r.d = aigc::make_dcgan_discriminator<float>(channels, size, init);
      r.trainer = std::make_unique<aigc::GanTrainer<float>>(
          *r.g, *r.d, aigc::GanOptions{.latent = latent, .precision = p});
      aigc::set_num_threads(t);
      r.last = r.trainer->step(real);  // sizes the buffers
      r.trainer->generate(z);
      runs.push_back(std::move(r));
    }
  }
  std::printf(
      "aigc DCGAN 3x64x64 (nz 100, ngf = ndf = 64), random colour data: training step at batch "
      "%ld (%d steps per figure), sampling at batch %ld (%d batches per figure)\n",
      static_cast<long>(train_batch), steps, static_cast<long>(sample_batch), sample_batches);
  for (int round = 1; round <= rounds; ++round) {
    std::printf("round %d", round);
    for (Run& r : runs) {
      aigc::set_num_threads(r.threads);
      auto t0 = Clock::now();
      for (int i = 0; i < steps; ++i) r.last = r.trainer->step(real);
      r.step_seconds.push_back(seconds_since(t0) / steps);
      t0 = Clock::now();
      for (int i = 0; i < sample_batches; ++i) r.trainer->generate(z);
      r.images_per_s.push_back(static_cast<double>(sample_batch * sample_batches) /
                               seconds_since(t0));
      std::printf("  | %d thread(s) %s: %.3f s/step, %.0f images/s, D loss %.3f", r.threads,
                  precision_name(r.precision), r.step_seconds.back(), r.images_per_s.back(),
                  r.last.d_loss);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  for (const Run& r : runs) {
    std::printf("DCGAN64_RESULT aigc threads=%d step_s=%.4f images_per_s=%.1f precision=%s\n",
                r.threads, median(r.step_seconds), median(r.images_per_s),
                precision_name(r.precision));
  }
  return 0;
}
