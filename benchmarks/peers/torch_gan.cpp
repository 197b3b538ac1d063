// The GANs of examples/gan and examples/dcgan written with PyTorch's C++ library, for the speed
// comparison of benchmarks/run.sh: the same networks, batch 64, Adam 2e-4 (0.5, 0.999) and the
// non-saturating BCE objective, and the same step as aigc's GanTrainer (PyTorch's DCGAN example):
// D on a real batch and on G(z) for fresh z, D updated; then G's loss on the same fake batch
// through the updated D, G updated. Seconds per epoch (938 steps) are timed over a few rounds of
// some steps each and scaled to 938, as bench_train does for aigc.
// With --models dcgan64: PyTorch's 64x64 DCGAN on random colour data, seconds per step at batch
// 128 and generator images per second (eval mode, batch 256).
// --precision bf16: G's and D's forward passes and the losses under CPU autocast to bfloat16
// (bf16_autocast.hpp), sampling too.
// Usage: torch_gan [--threads T] [--models gan,dcgan,dcgan64] [--precision fp32|bf16]
//                  [--gan-steps N] [--dcgan-steps N] [--dcgan64-steps N] [--sample-batches N]
//                  [--rounds N] [--data DIR]
#include <torch/torch.h>

#include <aigc/data/dataset.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "bf16_autocast.hpp"
#include "torch_gan_step.hpp"

namespace {

namespace nn = torch::nn;
using torch_peers::conv;
using torch_peers::dcgan64_discriminator;
using torch_peers::dcgan64_generator;
using torch_peers::deconv;
using torch_peers::gan_step;
using torch_peers::median;

nn::Sequential mlp_generator() {
  return nn::Sequential(
      nn::Linear(64, 256), nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)),
      nn::Linear(256, 512), nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)),
      nn::Linear(512, 784), nn::Tanh());
}

nn::Sequential mlp_discriminator() {
  return nn::Sequential(
      nn::Linear(784, 512), nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)),
      nn::Linear(512, 256), nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)),
      nn::Linear(256, 1));
}

// examples/dcgan's DCGAN: z(100) -> 256x4x4 -> 128x7x7 -> 64x14x14 -> 1x28x28.
nn::Sequential dcgan_generator() {
  return nn::Sequential(nn::Unflatten(nn::UnflattenOptions(1, {100, 1, 1})),
                        deconv(100, 256, 4, 1, 0), nn::BatchNorm2d(256), nn::ReLU(),
                        deconv(256, 128, 3, 2, 1), nn::BatchNorm2d(128), nn::ReLU(),
                        deconv(128, 64, 4, 2, 1), nn::BatchNorm2d(64), nn::ReLU(),
                        deconv(64, 1, 4, 2, 1), nn::Tanh(), nn::Flatten());
}

nn::Sequential dcgan_discriminator() {
  const auto leaky = nn::LeakyReLUOptions().negative_slope(0.2);
  return nn::Sequential(nn::Unflatten(nn::UnflattenOptions(1, {1, 28, 28})), conv(1, 64, 4, 2, 1),
                        nn::LeakyReLU(leaky), conv(64, 128, 4, 2, 1), nn::BatchNorm2d(128),
                        nn::LeakyReLU(leaky), conv(128, 256, 4, 2, 1), nn::BatchNorm2d(256),
                        nn::LeakyReLU(leaky), conv(256, 1, 3, 1, 0), nn::Flatten());
}

// The 64x64 DCGAN on random colour data: seconds per training step at batch 128 and generator
// images per second (eval mode, no autograd, batch 256), medians of `rounds` rounds.
void bench_dcgan64(int threads, int steps, int rounds, int sample_batches, bool bf16) {
  constexpr int64_t latent = 100, batch = 128, sample_batch = 256;
  nn::Sequential g = dcgan64_generator(), d = dcgan64_discriminator();
  const torch::Tensor images = torch::rand({batch, 3 * 64 * 64}).mul(2).sub(1);
  const torch::Tensor z = torch::randn({sample_batch, latent});
  auto step = gan_step(g, d, latent, images, batch, bf16);
  auto sample = [&] {
    torch::NoGradGuard no_grad;
    const Bf16Autocast autocast(bf16);
    g->eval();
    const torch::Tensor x = g->forward(z);
    g->train();
    return x;
  };
  step();
  sample();
  std::vector<double> step_s, images_per_s;
  for (int r = 0; r < rounds; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) step();
    step_s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
                     steps);
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < sample_batches; ++i) sample();
    images_per_s.push_back(
        static_cast<double>(sample_batch * sample_batches) /
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    std::printf("DCGAN 64x64 round %d: %.3f s per step, %.0f images/s\n", r + 1, step_s.back(),
                images_per_s.back());
    std::fflush(stdout);
  }
  std::printf("DCGAN64_RESULT torch threads=%d step_s=%.4f images_per_s=%.1f precision=%s\n",
              threads, median(step_s), median(images_per_s), bf16 ? "bf16" : "fp32");
}

double bench(const char* name, nn::Sequential g, nn::Sequential d, int64_t latent,
             const torch::Tensor& images, int steps, int rounds, bool bf16) {
  auto step = gan_step(g, d, latent, images, 64, bf16);
  g->train();
  d->train();
  step();
  std::vector<double> epoch_seconds;
  for (int r = 0; r < rounds; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) step();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    epoch_seconds.push_back(s / steps * 938);
    std::printf("%s round %d: %.3f s per epoch (from %d steps)\n", name, r + 1,
                epoch_seconds.back(), steps);
    std::fflush(stdout);
  }
  return median(epoch_seconds);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, gan_steps = 200, dcgan_steps = 20, rounds = 3, dcgan64_steps = 2;
  int sample_batches = 2;
  std::string models = "gan,dcgan", data = aigc::default_fashion_mnist_dir();
  bool bf16 = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--threads") {
      threads = std::stoi(value);
    } else if (flag == "--models") {
      models = value;
    } else if (flag == "--gan-steps") {
      gan_steps = std::stoi(value);
    } else if (flag == "--dcgan-steps") {
      dcgan_steps = std::stoi(value);
    } else if (flag == "--dcgan64-steps") {
      dcgan64_steps = std::stoi(value);
    } else if (flag == "--sample-batches") {
      sample_batches = std::stoi(value);
    } else if (flag == "--rounds") {
      rounds = std::stoi(value);
    } else if (flag == "--precision" && (value == "fp32" || value == "bf16")) {
      bf16 = value == "bf16";
    } else if (flag == "--data") {
      data = value;
    } else {
      std::fprintf(stderr, "torch_gan: unknown flag %s\n", flag.c_str());
      return 1;
    }
  }
  if (argc % 2 == 0) {
    std::fprintf(stderr, "torch_gan: flag %s has no value\n", argv[argc - 1]);
    return 1;
  }
  torch::set_num_threads(threads);
  torch::manual_seed(0);
  const auto wanted = [&](const std::string& m) {
    return ("," + models + ",").find("," + m + ",") != std::string::npos;
  };
  if (wanted("dcgan64")) {
    std::printf("PyTorch %s DCGAN 3x64x64, batch 128, %d thread(s)%s\n", TORCH_VERSION,
                torch::get_num_threads(), bf16 ? ", CPU autocast to bfloat16" : "");
    bench_dcgan64(threads, dcgan64_steps, rounds, sample_batches, bf16);
    if (models == "dcgan64") return 0;
  }
  const auto train = aigc::load_mnist_format<float>(data, aigc::Split::train);
  // Images in [-1, 1], as the examples train on.
  const torch::Tensor images = torch::from_blob(const_cast<float*>(train.images.data()),
                                                {train.size(), train.features()}, torch::kFloat32)
                                   .mul(2)
                                   .sub(1);
  std::printf("PyTorch %s GANs, batch 64, %d thread(s)%s\n", TORCH_VERSION,
              torch::get_num_threads(), bf16 ? ", CPU autocast to bfloat16" : "");
  if (wanted("gan")) {
    const double s =
        bench("MLP GAN", mlp_generator(), mlp_discriminator(), 64, images, gan_steps, rounds, bf16);
    std::printf(
        "GAN_RESULT torch model=MLP_GAN threads=%d epoch_s=%.3f scaled_from_steps=%d "
        "precision=%s\n",
        threads, s, gan_steps, bf16 ? "bf16" : "fp32");
  }
  if (wanted("dcgan")) {
    const double s = bench("DCGAN", dcgan_generator(), dcgan_discriminator(), 100, images,
                           dcgan_steps, rounds, bf16);
    std::printf(
        "GAN_RESULT torch model=DCGAN threads=%d epoch_s=%.3f scaled_from_steps=%d precision=%s\n",
        threads, s, dcgan_steps, bf16 ? "bf16" : "fp32");
  }
  return 0;
}
