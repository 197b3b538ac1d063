#include <aigc/models/conv_vae.hpp>
#include <aigc/models/vae.hpp>
#include <catch2/catch.hpp>
#include <cmath>

using namespace aigc;

TEST_CASE("Conv VAE: 3x64x64 shapes, latent 128, and a training step", "[conv_vae]") {
  Rng rng(2);
  auto enc = make_conv_vae_encoder<float>(3, 64, 128, rng);
  auto dec = make_conv_vae_decoder<float>(128, 3, 64, rng);
  Tensor<float> x(2, 3 * 64 * 64);
  rng.fill_uniform(x, 0.0, 1.0);
  CHECK(enc->forward(x).cols() == 256);
  Tensor<float> z(2, 128);
  rng.fill_normal(z);
  CHECK(dec->forward(z).cols() == 3 * 64 * 64);
  std::vector<std::string> convs;
  for (Param<float>* p : dec->params())
    if (p->name.find(".conv") != std::string::npos && p->name.find("weight") != std::string::npos)
      convs.push_back(p->name);
  CHECK(convs.size() == 4);
  REQUIRE_THROWS_WITH(make_conv_vae_encoder<float>(3, 60, 128, rng),
                      Catch::Contains("image size must be a power of two in [8, 256], got 60"));
  // A few steps on one small batch (grey 16x16, narrow) lower the loss.
  auto e16 = make_conv_vae_encoder<float>(1, 16, 4, rng, 8);
  auto d16 = make_conv_vae_decoder<float>(4, 1, 16, rng, 8);
  VaeTrainer<float> trainer(*e16, *d16, {.latent = 4});
  Tensor<float> batch(8, 256);
  for (Index i = 0; i < batch.rows(); ++i)
    for (Index j = 0; j < 256; ++j) batch(i, j) = (j / 16 + i) % 4 < 2 ? 0.9f : 0.1f;
  const double first = trainer.step(batch).first;
  double last = first;
  for (int i = 0; i < 20; ++i) last = trainer.step(batch).first;
  CHECK(std::isfinite(last));
  CHECK(last < first);
}
