#include <aigc/metrics/elbo.hpp>
#include <catch2/catch.hpp>
#include <cmath>

using namespace aigc;

TEST_CASE("Reconstruction BCE and MSE match the naive formulas", "[elbo]") {
  Tensor<double> x(2, 3), p(2, 3);
  x << 0, 1, 0.5, 1, 0.2, 0;
  p << 0.1, 0.8, 0.5, 1.0, 0.3, 0.0;
  double bce = 0, se = 0;
  for (Index i = 0; i < 6; ++i) {
    const double q = std::clamp(p.data()[i], 1e-7, 1 - 1e-7), t = x.data()[i];
    bce += -(t * std::log(q) + (1 - t) * std::log(1 - q));
    se += (t - p.data()[i]) * (t - p.data()[i]);
  }
  CHECK(reconstruction_bce(x, p) == Approx(bce / 2).epsilon(1e-12));
  CHECK(reconstruction_mse(x, p) == Approx(se / 6).epsilon(1e-12));
  REQUIRE_THROWS_AS(reconstruction_mse(x, Tensor<double>(3, 2)), ShapeError);
}

TEST_CASE("vae_scores: ELBO is minus the test loss, reconstructions improve with training",
          "[elbo]") {
  Dataset<double> data;
  data.images.resize(64, 16);
  Rng rng(3);
  rng.fill_uniform(data.images, 0.0, 1.0);
  data.images = (data.images.array() > 0.5).cast<double>();
  data.height = 4;
  data.width = 4;
  Rng init(1);
  auto enc = make_vae_encoder<double>(16, 8, 2, init);
  auto dec = make_vae_decoder<double>(2, 8, 16, init);
  VaeTrainer<double> trainer(*enc, *dec, {.latent = 2, .adam = {.lr = 1e-2}, .seed = 4});
  const VaeScores before = vae_scores(trainer, data, 10);
  CHECK(before.images == 64);
  CHECK(before.elbo < 0);
  for (int i = 0; i < 200; ++i) trainer.step(data.images);
  const VaeScores after = vae_scores(trainer, data, 10);
  CHECK(after.elbo > before.elbo);
  CHECK(after.reconstruction_bce < before.reconstruction_bce);
  CHECK(after.reconstruction_mse < before.reconstruction_mse);
  // The ELBO is a one-sample estimate of -(BCE + KL); the posterior-mean reconstruction BCE is
  // below it in magnitude up to sampling noise.
  CHECK(after.reconstruction_bce < -after.elbo + 1.0);
}
