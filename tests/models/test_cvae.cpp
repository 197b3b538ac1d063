#include <aigc/models/cvae.hpp>
#include <catch2/catch.hpp>
#include <filesystem>

using namespace aigc;

TEST_CASE("CVAE builders and trainer: shapes and labels", "[cvae]") {
  Rng rng(0);
  auto enc = make_cvae_encoder<float>(12, 8, 3, 4, rng);
  auto dec = make_cvae_decoder<float>(3, 8, 12, 4, rng);
  CvaeTrainer<float> trainer(*enc, *dec, {.latent = 3});
  Tensor<float> x(5, 12);
  rng.fill_uniform(x, 0.0, 1.0);
  const std::vector<int> labels = {0, 1, 2, 3, 0};
  const VaeStepStats s = trainer.step(x, labels);
  CHECK(std::isfinite(s.bce));
  CHECK(s.kl >= 0.0);
  CHECK(s.loss == Approx(s.bce + s.kl));
  CHECK(s.samples == 5);
  REQUIRE_THROWS_WITH(trainer.step(x), Catch::Contains("needs the labels"));
  // The decoder sees the label before each of its two dense layers; every one got the batch's.
  REQUIRE(conditioning_layers(*dec).size() == 2);
  for (Conditioning<float>* c : conditioning_layers(*dec)) CHECK(c->labels() == labels);
  CHECK(conditioning_layer(*enc).labels() == labels);
  Tensor<float> z(4, 3);
  rng.fill_normal(z);
  const Tensor<float> img = trainer.decode(z, {3, 2, 1, 0});
  CHECK(img.rows() == 4);
  CHECK(img.cols() == 12);
  CHECK(img.minCoeff() >= 0.0f);
  CHECK(img.maxCoeff() <= 1.0f);
  // The label changes the decoded image.
  const Tensor<float> other = trainer.decode(z, {0, 0, 0, 0});
  CHECK(other.row(0) != img.row(0));
  CHECK(other.row(3) == img.row(3));
  CHECK(trainer.reconstruct(x, labels).rows() == 5);
  REQUIRE_THROWS_WITH(trainer.step(x, {0, 1}), Catch::Contains("2 labels for 5 rows"));
  REQUIRE_THROWS_WITH(trainer.step(x, {0, 1, 2, 3, 4}), Catch::Contains("label 4"));
  // A trainer told of only the decoder's first conditioning layer fails loudly, naming the other.
  Rng rng2(1);
  auto enc2 = make_cvae_encoder<float>(12, 8, 3, 4, rng2);
  auto dec2 = make_cvae_decoder<float>(3, 8, 12, 4, rng2);
  CvaeTrainer<float> partial(*enc2, *dec2, {&conditioning_layer(*enc2)},
                             {&conditioning_layer(*dec2)}, {.latent = 3});
  REQUIRE_THROWS_WITH(partial.step(x, labels), Catch::Contains("decoder.cond2"));
  REQUIRE_THROWS_WITH(CvaeTrainer<float>(*enc2, *dec2, {}, conditioning_layers(*dec2), {}),
                      Catch::Contains("a Conditioning layer each"));
}

TEST_CASE("CVAE on a few hundred Fashion-MNIST images: the loss falls", "[cvae][slow]") {
  const std::string dir = AIGC_FASHION_MNIST_DIR;
  if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz")) {
    FAIL("Fashion-MNIST not found in " << dir << " (install Debian's dataset-fashion-mnist)");
  }
  auto data = load_mnist_format<float>(dir, Split::test);
  data.images.conservativeResize(512, Eigen::NoChange);
  data.labels.resize(512);
  Rng init(0);
  auto enc = make_cvae_encoder<float>(784, 200, 10, 10, init);
  auto dec = make_cvae_decoder<float>(10, 200, 784, 10, init);
  CvaeTrainer<float> trainer(*enc, *dec, {.latent = 10});
  BatchLoader<float> loader(data, {.batch_size = 64, .seed = 0});
  const double before = trainer.evaluate(data);
  for (int e = 0; e < 6; ++e) CHECK(trainer.train_epoch(loader).samples == 512);
  const double after = trainer.evaluate(data);
  INFO("test loss " << before << " -> " << after);
  CHECK(after < 0.75 * before);
}
