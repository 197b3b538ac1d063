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

TEST_CASE("VaeTrainer's kl_weight scales the KL term's gradient only", "[vae]") {
  // Same init, data and noise: the gradient is linear in beta, g(2) - g(1) = g(1) - g(0) != 0.
  std::vector<Tensor<double>> grads;
  for (double beta : {0.0, 1.0, 2.0}) {
    Rng init(3), data(4);
    auto enc = make_vae_encoder<double>(6, 5, 2, init);
    auto dec = make_vae_decoder<double>(2, 5, 6, init);
    VaeTrainer<double> trainer(*enc, *dec, {.latent = 2, .kl_weight = beta});
    Tensor<double> x(4, 6);
    data.fill_uniform(x, 0.0, 1.0);
    trainer.step(x);
    grads.push_back(enc->params()[0]->grad);
  }
  const Tensor<double> second = grads[2] - grads[1], first = grads[1] - grads[0];
  CHECK(first.norm() > 1e-6);
  CHECK((second - first).norm() < 1e-9 * first.norm() + 1e-12);
  Rng init(0);
  auto enc = make_vae_encoder<float>(6, 5, 2, init);
  auto dec = make_vae_decoder<float>(2, 5, 6, init);
  REQUIRE_THROWS_WITH(VaeTrainer<float>(*enc, *dec, {.latent = 2, .kl_weight = -1.0}),
                      Catch::Contains("kl_weight"));
}
