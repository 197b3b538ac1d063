// Seconds per training epoch of the default VAE (examples/vae: 784-400-20, batch 128, Adam 1e-3,
// seed 0) on Fashion-MNIST for each thread count, epochs interleaved across the thread counts so
// that load from other processes hits them alike; then the generator's throughput.
// Usage: bench_train [--epochs N] [--threads 1,2] [--data DIR]
#include <aigc/aigc.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

struct Run {
  int threads;
  std::unique_ptr<aigc::Sequential<float>> encoder, decoder;
  std::unique_ptr<aigc::VaeTrainer<float>> trainer;
  std::unique_ptr<aigc::BatchLoader<float>> loader;
  std::vector<double> seconds;
  double test_loss = 0.0;
};

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

}  // namespace

int main(int argc, char** argv) {
  int epochs = 10;
  std::vector<int> thread_counts = {1, 2};
  std::string data = aigc::default_fashion_mnist_dir();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--epochs") {
      epochs = std::stoi(value);
    } else if (flag == "--data") {
      data = value;
    } else if (flag == "--threads") {
      thread_counts.clear();
      for (std::size_t p = 0; p < value.size();) {
        const std::size_t q = value.find(',', p);
        thread_counts.push_back(std::stoi(value.substr(p, q - p)));
        p = q == std::string::npos ? value.size() : q + 1;
      }
    } else {
      std::fprintf(stderr, "bench_train: unknown flag %s\n", flag.c_str());
      return 1;
    }
  }
  const auto train = aigc::load_mnist_format<float>(data, aigc::Split::train);
  const auto test = aigc::load_mnist_format<float>(data, aigc::Split::test);
  const aigc::Index features = train.features(), hidden = 400, latent = 20, batch = 128;

  std::vector<Run> runs;
  for (int t : thread_counts) {
    Run r;
    r.threads = t;
    aigc::Rng init(0);
    r.encoder = aigc::make_vae_encoder<float>(features, hidden, latent, init);
    r.decoder = aigc::make_vae_decoder<float>(latent, hidden, features, init);
    r.trainer = std::make_unique<aigc::VaeTrainer<float>>(*r.encoder, *r.decoder,
                                                          aigc::VaeOptions{.latent = latent});
    r.loader = std::make_unique<aigc::BatchLoader<float>>(
        train, aigc::LoaderOptions{.batch_size = batch, .shuffle = true, .seed = 0});
    runs.push_back(std::move(r));
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
      std::printf("  | %d thread(s): %.3f s, test loss %.2f", r.threads, s.seconds, r.test_loss);
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
      best = std::min(best,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    images_per_s.push_back(10000.0 / best);
  }

  std::printf(
      "\n| threads | median epoch (s) | best epoch (s) | test loss after %d epochs | "
      "generator (images/s) |\n|---|---|---|---|---|\n",
      epochs);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const Run& r = runs[i];
    std::printf("| %d | %.3f | %.3f | %.2f | %.0f |\n", r.threads, median(r.seconds),
                *std::min_element(r.seconds.begin(), r.seconds.end()), r.test_loss,
                images_per_s[i]);
  }
  for (std::size_t i = 1; i < runs.size(); ++i) {
    std::printf("speed-up %d vs %d threads (median epoch): %.2fx; parameters bitwise equal: %s\n",
                runs[i].threads, runs[0].threads, median(runs[0].seconds) / median(runs[i].seconds),
                same_parameters(*runs[0].encoder, *runs[i].encoder) &&
                        same_parameters(*runs[0].decoder, *runs[i].decoder)
                    ? "yes"
                    : "no");
  }
  for (std::size_t i = 0; i < runs.size(); ++i) {
    std::printf("RESULT aigc threads=%d epoch_s=%.4f test_loss=%.4f images_per_s=%.0f\n",
                runs[i].threads, median(runs[i].seconds), runs[i].test_loss, images_per_s[i]);
  }
  return 0;
}
