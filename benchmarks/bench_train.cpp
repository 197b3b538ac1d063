// Seconds per training epoch of the default VAE (examples/vae: 784-400-20, batch 128, Adam 1e-3,
// seed 0) on Fashion-MNIST for each thread count, epochs interleaved across the thread counts so
// that load from other processes hits them alike; then the generator's throughput. Then seconds
// per epoch (938 steps of batch 64) of the MLP GAN and the 28x28 DCGAN (examples/gan,
// examples/dcgan), timed over a few rounds of some steps each (interleaved across the thread
// counts) and scaled to 938 steps, beside PyTorch's figures from the issue; with dcgan-tools, the
// DCGAN's seconds per step with each of GanTrainer's tools alone. --precision fp32,bf16 runs each
// thread count with the products in each precision (interleaved as well). Usage: bench_train
// [--epochs N] [--threads 1,2] [--precision fp32|bf16|fp32,bf16] [--data DIR]
//                    [--models vae,gan,dcgan,dcgan-tools] [--gan-steps N] [--dcgan-steps N]
//                    [--rounds N]
#include <aigc/aigc.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "precision_flag.hpp"

namespace {

struct Run {
  int threads;
  aigc::Precision precision;
  std::unique_ptr<aigc::Sequential<float>> encoder, decoder;
  std::unique_ptr<aigc::VaeTrainer<float>> trainer;
  std::unique_ptr<aigc::BatchLoader<float>> loader;
  std::vector<double> seconds;
  double test_loss = 0.0;
};

// " bf16" after a run's thread count, nothing for FP32.
const char* precision_suffix(aigc::Precision p) {
  return p == aigc::Precision::bf16 ? " bf16" : "";
}

using bench::parse_precisions;
using bench::precision_name;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// True when every parameter of a and b is bitwise equal.
bool same_parameters(aigc::Module<float>& a, aigc::Module<float>& b) {
  const auto pa = a.params(), pb = b.params();
  for (std::size_t i = 0; i < pa.size(); ++i) {
    const auto& x = pa[i]->value;
    const auto& y = pb[i]->value;
    if (std::memcmp(x.data(), y.data(), sizeof(float) * static_cast<std::size_t>(x.size())) != 0) {
      return false;
    }
  }
  return true;
}

// Seconds of one GAN epoch of 938 steps of batch 64, from `rounds` x `steps` timed steps per thread
// count (after one untimed step that sizes the buffers), rounds interleaved across thread counts.
template <class MakeNets>
void bench_gan(const char* name, const aigc::Dataset<float>& train, aigc::Index latent,
               MakeNets make_nets, int steps, int rounds, const std::vector<int>& thread_counts,
               const std::vector<aigc::Precision>& precisions, double torch_seconds,
               double target_seconds) {
  constexpr double steps_per_epoch = 938;
  struct GanRun {
    int threads;
    aigc::Precision precision;
    std::unique_ptr<aigc::Module<float>> g, d;
    std::unique_ptr<aigc::GanTrainer<float>> trainer;
    std::unique_ptr<aigc::BatchLoader<float>> loader;
    aigc::Tensor<float> batch;
    std::vector<double> epoch_seconds;
    aigc::GanStepStats last;
  };
  std::vector<GanRun> runs;
  for (aigc::Precision p : precisions) {
    for (int t : thread_counts) {
      GanRun r;
      r.threads = t;
      r.precision = p;
      aigc::Rng init(0);
      std::tie(r.g, r.d) = make_nets(init);
      r.trainer = std::make_unique<aigc::GanTrainer<float>>(
          *r.g, *r.d, aigc::GanOptions{.latent = latent, .precision = p});
      r.loader = std::make_unique<aigc::BatchLoader<float>>(
          train, aigc::LoaderOptions{.batch_size = 64, .shuffle = true, .seed = 0});
      runs.push_back(std::move(r));
    }
  }
  auto one_step = [](GanRun& r) {
    if (!r.loader->next(r.batch)) r.loader->next(r.batch);  // the next epoch
    r.last = r.trainer->step(r.batch);
  };
  std::printf(
      "\n%s, batch 64: seconds per epoch of 938 steps, each figure timed over %d steps "
      "and scaled (x %.2f)\n",
      name, steps, steps_per_epoch / steps);
  for (GanRun& r : runs) {
    aigc::set_num_threads(r.threads);
    one_step(r);
  }
  for (int round = 1; round <= rounds; ++round) {
    std::printf("round %d", round);
    for (GanRun& r : runs) {
      aigc::set_num_threads(r.threads);
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < steps; ++i) one_step(r);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      r.epoch_seconds.push_back(s / steps * steps_per_epoch);
      std::printf("  | %d thread(s)%s: %.2f s/epoch, D loss %.3f, G loss %.3f", r.threads,
                  precision_suffix(r.precision), r.epoch_seconds.back(), r.last.d_loss,
                  r.last.g_loss);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  std::printf(
      "\n| %s | threads | epoch (s, median) | best (s) | PyTorch 2 threads (s, measured earlier) | "
      "speed vs PyTorch | target (s) |\n|---|---|---|---|---|---|---|\n",
      name);
  for (GanRun& r : runs) {
    const double m = median(r.epoch_seconds);
    std::printf("| %s | %d%s | %.2f | %.2f | %.0f | %.2fx | <= %.0f |\n", name, r.threads,
                precision_suffix(r.precision), m,
                *std::min_element(r.epoch_seconds.begin(), r.epoch_seconds.end()), torch_seconds,
                torch_seconds / m, target_seconds);
  }
  std::string tag = name;  // one word for the RESULT line: "MLP GAN" -> "MLP_GAN"
  std::replace(tag.begin(), tag.end(), ' ', '_');
  for (GanRun& r : runs) {
    std::printf(
        "GAN_RESULT aigc model=%s threads=%d epoch_s=%.3f scaled_from_steps=%d precision=%s\n",
        tag.c_str(), r.threads, median(r.epoch_seconds), steps, precision_name(r.precision));
  }
}

// Seconds per step of the 28x28 DCGAN with each of GanTrainer's tools alone (EMA, spectral norm
// on D and on both, DiffAugment, ADA, R1 in every D step and in every 16th, a cosine schedule),
// against none, on `threads` threads;
// `steps` timed steps per round, rounds interleaved across the tools.
void bench_gan_tools(const aigc::Dataset<float>& train, int steps, int rounds, int threads) {
  using Setup = void (*)(aigc::GanOptions&);
  const std::vector<std::pair<const char*, Setup>> tools = {
      {"none", [](aigc::GanOptions&) {}},
      {"ema", [](aigc::GanOptions& o) { o.ema = true; }},
      {"spectral-norm d", [](aigc::GanOptions& o) { o.spectral_norm_d = true; }},
      {"spectral-norm both",
       [](aigc::GanOptions& o) { o.spectral_norm_d = o.spectral_norm_g = true; }},
      {"diffaugment", [](aigc::GanOptions& o) { o.diffaugment = true; }},
      {"ada", [](aigc::GanOptions& o) { o.ada = true; }},
      {"r1", [](aigc::GanOptions& o) { o.r1_gamma = 0.1; }},
      {"r1 every 16",
       [](aigc::GanOptions& o) {
         o.r1_gamma = 0.1;
         o.r1_interval = 16;
       }},
      {"cosine schedule",
       [](aigc::GanOptions& o) {
         o.schedule_g = o.schedule_d = {.decay = aigc::LrDecay::cosine, .total_steps = 4690};
       }},
  };
  struct ToolRun {
    std::unique_ptr<aigc::Module<float>> g, d;
    std::unique_ptr<aigc::GanTrainer<float>> trainer;
    std::unique_ptr<aigc::BatchLoader<float>> loader;
    aigc::Tensor<float> batch;
    std::vector<double> step_seconds;
  };
  aigc::set_num_threads(threads);
  std::vector<ToolRun> runs;
  for (const auto& [name, setup] : tools) {
    ToolRun r;
    aigc::Rng init(0);
    r.g = aigc::make_dcgan_generator<float>(100, init);
    r.d = aigc::make_dcgan_discriminator<float>(init);
    aigc::GanOptions o{.latent = 100};
    setup(o);
    r.trainer = std::make_unique<aigc::GanTrainer<float>>(*r.g, *r.d, o);
    r.loader = std::make_unique<aigc::BatchLoader<float>>(
        train, aigc::LoaderOptions{.batch_size = 64, .shuffle = true, .seed = 0});
    runs.push_back(std::move(r));
  }
  auto one_step = [](ToolRun& r) {
    if (!r.loader->next(r.batch)) r.loader->next(r.batch);
    r.trainer->step(r.batch);
  };
  for (ToolRun& r : runs) one_step(r);
  for (int round = 0; round < rounds; ++round) {
    for (ToolRun& r : runs) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < steps; ++i) one_step(r);
      r.step_seconds.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / steps);
    }
  }
  std::printf(
      "\nDCGAN 28x28, batch 64, %d thread(s): seconds per step with each tool alone (median of %d "
      "rounds of %d steps)\n\n| tool | s/step | vs none |\n|---|---|---|\n",
      threads, rounds, steps);
  const double base = median(runs[0].step_seconds);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const double m = median(runs[i].step_seconds);
    std::printf("| %s | %.4f | %+.1f%% |\n", tools[i].first, m, 100.0 * (m / base - 1.0));
  }
}

}  // namespace

int main(int argc, char** argv) {
  int epochs = 10;
  std::vector<int> thread_counts = {1, 2};
  std::string data = aigc::default_fashion_mnist_dir();
  std::string models = "vae,gan,dcgan";
  int gan_steps = 200, dcgan_steps = 20, rounds = 3;
  std::vector<aigc::Precision> precisions = {aigc::Precision::fp32};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    try {
      if (flag == "--epochs") {
        epochs = std::stoi(value);
      } else if (flag == "--models") {
        models = value;
      } else if (flag == "--gan-steps") {
        gan_steps = std::stoi(value);
      } else if (flag == "--dcgan-steps") {
        dcgan_steps = std::stoi(value);
      } else if (flag == "--rounds") {
        rounds = std::stoi(value);
      } else if (flag == "--precision") {
        precisions = parse_precisions(value);
      } else if (flag == "--data") {
        data = value;
      } else if (flag == "--threads") {
        thread_counts = bench::parse_thread_counts(value);
      } else {
        std::fprintf(stderr, "bench_train: unknown flag %s\n", flag.c_str());
        return 1;
      }
    } catch (const std::exception& e) {  // std::stoi's and the parsers' errors
      std::fprintf(stderr, "bench_train: bad value '%s' of %s (%s)\n", value.c_str(), flag.c_str(),
                   e.what());
      return 1;
    }
  }
  const auto train = aigc::load_mnist_format<float>(data, aigc::Split::train);
  const auto test = aigc::load_mnist_format<float>(data, aigc::Split::test);
  auto wanted = [&](const char* m) {
    return ("," + models + ",").find(std::string(",") + m + ",") != std::string::npos;
  };
  if (wanted("vae")) {
    const aigc::Index features = train.features(), hidden = 400, latent = 20, batch = 128;

    std::vector<Run> runs;
    for (aigc::Precision p : precisions) {
      for (int t : thread_counts) {
        Run r;
        r.threads = t;
        r.precision = p;
        aigc::Rng init(0);
        r.encoder = aigc::make_vae_encoder<float>(features, hidden, latent, init);
        r.decoder = aigc::make_vae_decoder<float>(latent, hidden, features, init);
        r.trainer = std::make_unique<aigc::VaeTrainer<float>>(
            *r.encoder, *r.decoder, aigc::VaeOptions{.latent = latent, .precision = p});
        r.loader = std::make_unique<aigc::BatchLoader<float>>(
            train, aigc::LoaderOptions{.batch_size = batch, .shuffle = true, .seed = 0});
        runs.push_back(std::move(r));
      }
    }

    std::printf("aigc VAE %ld-%ld-%ld, batch %ld, %ld training images; training epoch seconds\n",
                static_cast<long>(features), static_cast<long>(hidden), static_cast<long>(latent),
                static_cast<long>(batch), static_cast<long>(train.size()));
    for (int e = 1; e <= epochs; ++e) {
      std::printf("epoch %2d", e);
      for (Run& r : runs) {
        aigc::set_num_threads(r.threads);
        const auto s = r.trainer->train_epoch(*r.loader);
        r.seconds.push_back(s.seconds);
        r.test_loss = r.trainer->evaluate(test);
        std::printf("  | %d thread(s)%s: %.3f s, test loss %.2f", r.threads,
                    precision_suffix(r.precision), s.seconds, r.test_loss);
      }
      std::printf("\n");
      std::fflush(stdout);
    }

    // Generator throughput: decode batches of 1000 latent codes, best of 5 passes of 10000 images.
    aigc::Rng zrng(1);
    aigc::Tensor<float> z(1000, latent);
    zrng.fill_normal(z);
    std::vector<double> images_per_s;
    for (Run& r : runs) {
      aigc::set_num_threads(r.threads);
      double best = 1e30;
      for (int pass = 0; pass < 5; ++pass) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int b = 0; b < 10; ++b) r.trainer->decode(z);
        best = std::min(
            best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      images_per_s.push_back(10000.0 / best);
    }

    std::printf(
        "\n| threads | median epoch (s) | best epoch (s) | test loss after %d epochs | "
        "generator (images/s) |\n|---|---|---|---|---|\n",
        epochs);
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const Run& r = runs[i];
      std::printf("| %d%s | %.3f | %.3f | %.2f | %.0f |\n", r.threads,
                  precision_suffix(r.precision), median(r.seconds),
                  *std::min_element(r.seconds.begin(), r.seconds.end()), r.test_loss,
                  images_per_s[i]);
    }
    for (std::size_t i = 0; i < runs.size(); ++i) {  // against the first run of its precision
      std::size_t f = 0;
      while (runs[f].precision != runs[i].precision) ++f;
      if (f == i) continue;
      std::printf(
          "speed-up %d vs %d threads%s (median epoch): %.2fx; parameters bitwise equal: %s\n",
          runs[i].threads, runs[f].threads, precision_suffix(runs[i].precision),
          median(runs[f].seconds) / median(runs[i].seconds),
          same_parameters(*runs[f].encoder, *runs[i].encoder) &&
                  same_parameters(*runs[f].decoder, *runs[i].decoder)
              ? "yes"
              : "no");
    }
    for (std::size_t i = 0; i < runs.size(); ++i) {
      std::printf(
          "RESULT aigc threads=%d epoch_s=%.4f test_loss=%.4f images_per_s=%.0f precision=%s\n",
          runs[i].threads, median(runs[i].seconds), runs[i].test_loss, images_per_s[i],
          precision_name(runs[i].precision));
    }
  }

  if (wanted("gan") || wanted("dcgan") || wanted("dcgan-tools")) {
    const auto gan_train =
        aigc::load_mnist_format<float>(data, aigc::Split::train, aigc::PixelScale::symmetric);
    using Nets =
        std::pair<std::unique_ptr<aigc::Module<float>>, std::unique_ptr<aigc::Module<float>>>;
    if (wanted("gan")) {
      bench_gan(
          "MLP GAN", gan_train, 64,
          [&](aigc::Rng& rng) {
            return Nets(aigc::make_mlp_generator<float>(64, gan_train.features(), rng),
                        aigc::make_mlp_discriminator<float>(gan_train.features(), rng));
          },
          gan_steps, rounds, thread_counts, precisions, 33.0, 8.0);
    }
    if (wanted("dcgan")) {
      bench_gan(
          "DCGAN", gan_train, 100,
          [&](aigc::Rng& rng) {
            return Nets(aigc::make_dcgan_generator<float>(100, rng),
                        aigc::make_dcgan_discriminator<float>(rng));
          },
          dcgan_steps, rounds, thread_counts, precisions, 336.0, 135.0);
    }
    if (wanted("dcgan-tools"))
      bench_gan_tools(gan_train, dcgan_steps, rounds, thread_counts.back());
  }
  return 0;
}
