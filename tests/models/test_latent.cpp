#include <aigc/models/latent.hpp>
#include <catch2/catch.hpp>

using namespace aigc;

namespace {
struct SmallVae {
  std::unique_ptr<Sequential<double>> enc, dec;
  std::unique_ptr<VaeTrainer<double>> trainer;
  SmallVae() {
    Rng init(4);
    enc = make_vae_encoder<double>(6, 5, 3, init);
    dec = make_vae_decoder<double>(3, 5, 6, init);
    trainer = std::make_unique<VaeTrainer<double>>(*enc, *dec, VaeOptions{.latent = 3, .seed = 1});
  }
};
Tensor<double> random_images(Index n, std::uint64_t seed) {
  Rng rng(seed);
  Tensor<double> x(n, 6);
  rng.fill_uniform(x, 0.0, 1.0);
  return x;
}
}  // namespace

TEST_CASE("mean_code is the mean of the posterior means, whatever the batch", "[latent]") {
  SmallVae v;
  const Tensor<double> x = random_images(7, 2);
  const Tensor<double> all = v.trainer->encode_mean(x);
  const Tensor<double> expected = all.colwise().mean();
  REQUIRE(expected.cols() == 3);
  for (Index batch : {1, 3, 7, 100}) {
    const Tensor<double> m = mean_code(*v.trainer, x, batch);
    REQUIRE(m.rows() == 1);
    CHECK((m - expected).cwiseAbs().maxCoeff() < 1e-12);
  }
  CHECK_THROWS_WITH(mean_code(*v.trainer, Tensor<double>(0, 6)), Catch::Contains("no images"));
}

TEST_CASE("attribute_direction is the difference of the two mean codes", "[latent]") {
  SmallVae v;
  const Tensor<double> a = random_images(5, 3), b = random_images(4, 4);
  const Tensor<double> d = attribute_direction(*v.trainer, a, b);
  const Tensor<double> expected = mean_code(*v.trainer, a) - mean_code(*v.trainer, b);
  CHECK((d - expected).cwiseAbs().maxCoeff() < 1e-12);
  CHECK(d.cwiseAbs().maxCoeff() > 0);  // two different sets have different mean codes
}

TEST_CASE("latent_walk moves each code along the direction, one row of steps per code",
          "[latent]") {
  Tensor<double> z(2, 3), d(1, 3);
  z << 1, 2, 3, -1, 0, 4;
  d << 10, 20, 30;
  const Tensor<double> w = latent_walk(z, d, {0.0, 0.5, 1.0});
  REQUIRE(w.rows() == 6);
  CHECK(w.row(0) == z.row(0));
  CHECK(w(1, 1) == 2 + 10);
  CHECK(w(2, 2) == 3 + 30);
  CHECK(w.row(3) == z.row(1));
  CHECK(w(5, 0) == -1 + 10);
  CHECK_THROWS_AS(latent_walk(z, Tensor<double>(1, 2), {1.0}), ShapeError);
  CHECK_THROWS_WITH(latent_walk(z, d, {}), Catch::Contains("no steps"));
}

TEST_CASE("images_of_class keeps the images of one label, in order", "[latent]") {
  Dataset<float> data;
  data.images = Tensor<float>(4, 2);
  data.images << 0, 0, 1, 1, 2, 2, 3, 3;
  data.labels = {5, 7, 5, 1};
  data.num_classes = 8;
  const Tensor<float> fives = images_of_class(data, 5);
  REQUIRE(fives.rows() == 2);
  CHECK(fives(0, 0) == 0);
  CHECK(fives(1, 0) == 2);
  CHECK_THROWS_WITH(images_of_class(data, 3), Catch::Contains("no image has label 3"));
}

TEST_CASE("fill_truncated_normal draws N(0, 1) truncated to [-t, t]", "[latent]") {
  Tensor<double> z(200, 50);
  Rng rng(3);
  fill_truncated_normal(rng, z, 1.0);
  CHECK(z.cwiseAbs().maxCoeff() <= 1.0);
  // The variance of N(0, 1) truncated to [-1, 1]: 1 - 2 phi(1) / (2 Phi(1) - 1) = 0.29112.
  CHECK(std::abs(z.mean()) < 0.01);
  CHECK(std::abs(z.squaredNorm() / static_cast<double>(z.size()) - 0.29112) < 0.01);

  // A threshold no draw reaches: the draws of fill_normal, bitwise.
  Tensor<double> wide(20, 7), plain(20, 7);
  Rng a(5), b(5);
  fill_truncated_normal(a, wide, 100.0);
  b.fill_normal(plain);
  CHECK(wide == plain);
  CHECK_THROWS_WITH(fill_truncated_normal(a, wide, 0.0), Catch::Contains("threshold 0"));
  CHECK_THROWS_WITH(fill_truncated_normal(a, wide, -1.0), Catch::Contains("not positive"));
}
