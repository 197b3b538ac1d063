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
