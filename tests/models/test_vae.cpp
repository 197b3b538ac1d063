#include <aigc/models/vae.hpp>
#include <catch2/catch.hpp>
#include <filesystem>

using namespace aigc;

TEST_CASE("VAE on a few hundred Fashion-MNIST images: the loss falls", "[vae][slow]") {
  const std::string dir = AIGC_FASHION_MNIST_DIR;
  if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz")) {
    FAIL("Fashion-MNIST not found in " << dir << " (install Debian's dataset-fashion-mnist)");
  }
  auto data = load_mnist_format<float>(dir, Split::test);
  data.images.conservativeResize(512, Eigen::NoChange);
  data.labels.resize(512);
  Rng init(0);
  auto enc = make_vae_encoder<float>(784, 200, 10, init);
  auto dec = make_vae_decoder<float>(10, 200, 784, init);
  VaeTrainer<float> trainer(*enc, *dec, {.latent = 10, .seed = 0});
  BatchLoader<float> loader(data, {.batch_size = 64, .seed = 0});
  const double before = trainer.evaluate(data);
  double first = 0, last = 0;
  for (int e = 0; e < 8; ++e) {
    const auto s = trainer.train_epoch(loader);
    CHECK(s.samples == 512);
    if (e == 0) first = s.train_loss;
    last = s.train_loss;
  }
  const double after = trainer.evaluate(data);
  INFO("test loss " << before << " -> " << after << ", train " << first << " -> " << last);
  CHECK(after < 0.75 * before);
  CHECK(last < first);
  const Tensor<float> samples = trainer.sample(4);
  CHECK(samples.rows() == 4);
  CHECK(samples.minCoeff() >= 0.0f);
  CHECK(samples.maxCoeff() <= 1.0f);
}

TEST_CASE("VaeTrainer rejects an encoder with the wrong output", "[vae]") {
  Rng init(0);
  auto enc = make_vae_encoder<float>(8, 4, 3, init);
  auto dec = make_vae_decoder<float>(3, 4, 8, init);
  VaeTrainer<float> trainer(*enc, *dec, {.latent = 2});
  REQUIRE_THROWS_AS(trainer.step(Tensor<float>::Zero(2, 8)), ShapeError);
}
