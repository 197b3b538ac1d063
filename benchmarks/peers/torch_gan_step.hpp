// PyTorch's 64x64 DCGAN and the GAN training step of the PyTorch peers (torch_gan, torch_ddp):
// the same step as aigc's GanTrainer (PyTorch's DCGAN example), Adam 2e-4 (0.5, 0.999), the
// non-saturating BCE objective.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <vector>

#include "bf16_autocast.hpp"

namespace torch_peers {

namespace nn = torch::nn;

inline nn::ConvTranspose2d deconv(int in, int out, int k, int s, int p) {
  return nn::ConvTranspose2d(
      nn::ConvTranspose2dOptions(in, out, k).stride(s).padding(p).bias(false));
}

inline nn::Conv2d conv(int in, int out, int k, int s, int p) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(s).padding(p).bias(false));
}

// PyTorch's DCGAN example at 64x64 (dcgan/main.py: nz 100, ngf = ndf = 64, no biases).
inline nn::Sequential dcgan64_generator() {
  return nn::Sequential(
      nn::Unflatten(nn::UnflattenOptions(1, {100, 1, 1})), deconv(100, 512, 4, 1, 0),
      nn::BatchNorm2d(512), nn::ReLU(), deconv(512, 256, 4, 2, 1), nn::BatchNorm2d(256), nn::ReLU(),
      deconv(256, 128, 4, 2, 1), nn::BatchNorm2d(128), nn::ReLU(), deconv(128, 64, 4, 2, 1),
      nn::BatchNorm2d(64), nn::ReLU(), deconv(64, 3, 4, 2, 1), nn::Tanh(), nn::Flatten());
}

inline nn::Sequential dcgan64_discriminator() {
  const auto leaky = nn::LeakyReLUOptions().negative_slope(0.2);
  return nn::Sequential(nn::Unflatten(nn::UnflattenOptions(1, {3, 64, 64})), conv(3, 64, 4, 2, 1),
                        nn::LeakyReLU(leaky), conv(64, 128, 4, 2, 1), nn::BatchNorm2d(128),
                        nn::LeakyReLU(leaky), conv(128, 256, 4, 2, 1), nn::BatchNorm2d(256),
                        nn::LeakyReLU(leaky), conv(256, 512, 4, 2, 1), nn::BatchNorm2d(512),
                        nn::LeakyReLU(leaky), conv(512, 1, 4, 1, 0), nn::Flatten());
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Called with the model whose gradients are complete, just before its Adam step.
using BeforeStep = std::function<void(nn::Sequential&)>;

// One D step and one G step at batch `batch` as step() returns it (real batches taken in turn):
// D on a real batch and on G(z) for fresh z, D updated; then G's loss on the same fake batch
// through the updated D, G updated. With bf16, the forward passes and the losses run under CPU
// autocast to bfloat16 (bf16_autocast.hpp).
inline std::function<void()> gan_step(nn::Sequential g, nn::Sequential d, int64_t latent,
                                      const torch::Tensor& images, int64_t batch, bool bf16 = false,
                                      BeforeStep before_step = {}) {
  auto opt_g = std::make_shared<torch::optim::Adam>(
      g->parameters(), torch::optim::AdamOptions(2e-4).betas({0.5, 0.999}));
  auto opt_d = std::make_shared<torch::optim::Adam>(
      d->parameters(), torch::optim::AdamOptions(2e-4).betas({0.5, 0.999}));
  auto at = std::make_shared<int64_t>(0);
  return [=]() mutable {
    const int64_t n = images.size(0);
    if (*at + batch > n) *at = 0;
    const torch::Tensor real = images.slice(0, *at, *at + batch);
    *at += batch;
    torch::Tensor fake, d_loss, g_loss;
    {
      const Bf16Autocast autocast(bf16);
      fake = g->forward(torch::randn({batch, latent}));
    }
    opt_d->zero_grad();
    {
      const Bf16Autocast autocast(bf16);
      const torch::Tensor real_logits = d->forward(real);
      const torch::Tensor fake_logits = d->forward(fake.detach());
      d_loss = torch::binary_cross_entropy_with_logits(real_logits, torch::ones_like(real_logits)) +
               torch::binary_cross_entropy_with_logits(fake_logits, torch::zeros_like(fake_logits));
    }
    d_loss.backward();
    if (before_step) before_step(d);
    opt_d->step();
    opt_g->zero_grad();
    {
      const Bf16Autocast autocast(bf16);
      const torch::Tensor logits = d->forward(fake);
      g_loss = torch::binary_cross_entropy_with_logits(logits, torch::ones_like(logits));
    }
    g_loss.backward();
    if (before_step) before_step(g);
    opt_g->step();
  };
}

}  // namespace torch_peers
