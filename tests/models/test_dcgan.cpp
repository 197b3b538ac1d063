#include <aigc/models/dcgan.hpp>
#include <aigc/models/gan.hpp>
#include <catch2/catch.hpp>
#include <cmath>

using namespace aigc;

TEST_CASE("DCGAN builders: shapes, names and initialisation", "[dcgan]") {
  Rng rng(0);
  auto g = make_dcgan_generator<float>(100, rng);
  auto d = make_dcgan_discriminator<float>(rng);
  Tensor<float> z(3, 100);
  rng.fill_normal(z);
  const Tensor<float>& x = g->forward(z);
  CHECK(x.rows() == 3);
  CHECK(x.cols() == 28 * 28);
  CHECK(x.cwiseAbs().maxCoeff() <= 1.0f);
  CHECK(d->forward(x).cols() == 1);
  CHECK(d->forward(x).rows() == 3);
  bool seen_bn = false;
  for (Param<float>* p : g->params()) {
    if (p->name == "generator.bn1.weight") {
      seen_bn = true;
      CHECK(std::abs(p->value.mean() - 1.0f) < 0.01f);
    }
    if (p->name == "generator.conv2.weight") {
      const double sd = std::sqrt(p->value.array().square().mean());
      CHECK(sd == Approx(0.02).epsilon(0.05));
    }
  }
  CHECK(seen_bn);
}

TEST_CASE("DCGAN: the G step leaves D's gradients (conv, BatchNorm) as the D step left them",
          "[dcgan][gan]") {
  auto run = [](int d_steps, std::vector<Tensor<float>>& d_grads, double& g_grad_norm) {
    Rng rng(0);
    auto g = make_dcgan_generator<float>(16, rng);
    auto d = make_dcgan_discriminator<float>(rng);
    GanTrainer<float> trainer(*g, *d, {.latent = 16, .d_steps = d_steps, .fixed_samples = 4});
    Tensor<float> real(4, 784);
    rng.fill_uniform(real, -1.0, 1.0);
    const auto s = trainer.step(real);
    CHECK(std::isfinite(s.d_loss));
    for (Param<float>* p : d->params()) d_grads.push_back(p->grad);
    g_grad_norm = 0;
    for (Param<float>* p : g->params()) g_grad_norm += p->grad.squaredNorm();
  };
  std::vector<Tensor<float>> with_g, without_g;
  double g_with = 0, g_without = 0;
  run(1, with_g, g_with);
  run(100, without_g, g_without);
  REQUIRE(with_g.size() == without_g.size());
  for (std::size_t i = 0; i < with_g.size(); ++i) CHECK(with_g[i] == without_g[i]);
  CHECK(g_with > 0.0);
  CHECK(g_without == 0.0);
}

TEST_CASE("DCGAN of PyTorch's example: 64x64 and 32x32 shapes, layers and a training step",
          "[dcgan]") {
  Rng rng(1);
  auto g = make_dcgan_generator<float>(100, 3, 64, rng);
  auto d = make_dcgan_discriminator<float>(3, 64, rng);
  // PyTorch's netG at 64: five transposed convolutions 100 -> 512 -> 256 -> 128 -> 64 -> 3, no
  // bias; netD: 3 -> 64 -> 128 -> 256 -> 512 -> 1.
  std::vector<std::string> g_weights, d_weights;
  Index g_count = 0, d_count = 0;
  for (Param<float>* p : g->params()) {
    g_count += p->value.size();
    if (p->name.find(".conv") != std::string::npos) g_weights.push_back(p->name);
    CHECK((p->name.find("bias") == std::string::npos || p->name.find(".bn") != std::string::npos));
  }
  for (Param<float>* p : d->params()) {
    d_count += p->value.size();
    if (p->name.find(".conv") != std::string::npos) d_weights.push_back(p->name);
  }
  CHECK(g_weights.size() == 5);
  CHECK(d_weights.size() == 5);
  // PyTorch's parameter counts for nz 100, ngf = ndf = 64, nc 3.
  CHECK(g_count == 3576704);
  CHECK(d_count == 2765568);
  Tensor<float> z(2, 100);
  rng.fill_normal(z);
  const Tensor<float>& x = g->forward(z);
  CHECK(x.cols() == 3 * 64 * 64);
  CHECK(x.cwiseAbs().maxCoeff() <= 1.0f);
  CHECK(d->forward(x).cols() == 1);
  CHECK(
      make_dcgan_generator<float>(16, 1, 32, rng, 8)->forward(Tensor<float>::Zero(2, 16)).cols() ==
      32 * 32);
  REQUIRE_THROWS_WITH(make_dcgan_generator<float>(100, 3, 48, rng),
                      Catch::Contains("image size must be 16, 32, 64 or 128, got 48"));
  REQUIRE_THROWS_WITH(make_dcgan_discriminator<float>(3, 28, rng),
                      Catch::Contains("make_dcgan_discriminator: image size must be"));
  // A training step at 3x32x32 (narrow, to stay quick) moves both networks.
  auto g32 = make_dcgan_generator<float>(8, 3, 32, rng, 8);
  auto d32 = make_dcgan_discriminator<float>(3, 32, rng, 8);
  GanTrainer<float> trainer(*g32, *d32, {.latent = 8, .fixed_samples = 4});
  const Tensor<float> g_before = g32->params().front()->value;
  const Tensor<float> d_before = d32->params().front()->value;
  Tensor<float> real(4, 3 * 32 * 32);
  rng.fill_uniform(real, -1.0, 1.0);
  const auto s = trainer.step(real);
  CHECK(std::isfinite(s.d_loss));
  CHECK(std::isfinite(s.g_loss));
  CHECK(g32->params().front()->value != g_before);
  CHECK(d32->params().front()->value != d_before);
}
