#include <aigc/data/dataset.hpp>
#include <aigc/metrics/frechet.hpp>
#include <aigc/models/classifier.hpp>
#include <catch2/catch.hpp>
#include <filesystem>

#include "support/idx_files.hpp"

using namespace aigc;

TEST_CASE("Weights files round-trip and reject corruption, wrong names and wrong shapes",
          "[classifier]") {
  test::TempDir dir("weights");
  const std::string path = dir / "w.bin";
  Rng rng(1);
  Dense<float> a(3, 2, rng), b(3, 2, rng), c(4, 2, rng);
  a.set_name("fc");
  b.set_name("fc");
  c.set_name("fc");
  save_weights(path, a.params());
  load_weights(path, b.params());
  CHECK(b.weight().value == a.weight().value);
  CHECK(b.bias().value == a.bias().value);
  REQUIRE_THROWS_WITH(load_weights(path, c.params()),
                      Catch::Contains("fc.weight") && Catch::Contains(path));
  Dense<float> other(3, 2, rng);
  other.set_name("other");
  REQUIRE_THROWS_WITH(load_weights(path, other.params()), Catch::Contains("'fc.weight'"));

  auto bytes = test::read_file(path);
  bytes[bytes.size() / 2] ^= 0x10;
  test::write_file(path, bytes, false);
  REQUIRE_THROWS_WITH(load_weights(path, b.params()),
                      Catch::Contains("CRC") && Catch::Contains(path));
  bytes.resize(10);
  test::write_file(path, bytes, false);
  REQUIRE_THROWS_WITH(load_weights(path, b.params()), Catch::Contains(path));
  REQUIRE_THROWS_WITH(load_weights(dir / "none.bin", b.params()), Catch::Contains("none.bin"));
}

TEST_CASE("Weights files carry BatchNorm's running statistics", "[classifier]") {
  test::TempDir dir("weights_bn");
  const std::string path = dir / "bn.bin";
  BatchNorm2d<float> a(3), b(3);
  a.set_name("bn");
  b.set_name("bn");
  a.running_mean().value << 0.5f, -1.0f, 2.0f;
  a.running_var().value << 4.0f, 0.25f, 9.0f;
  a.weight().value << 1.5f, 2.0f, -1.0f;
  save_weights(path, a.params(), a.buffers());
  load_weights(path, b.params(), b.buffers());
  CHECK(b.running_mean().value == a.running_mean().value);
  CHECK(b.running_var().value == a.running_var().value);
  CHECK(b.weight().value == a.weight().value);
  // A file without the buffers does not load into a model with them, and the reverse.
  save_weights(path, a.params());
  REQUIRE_THROWS_WITH(load_weights(path, b.params(), b.buffers()),
                      Catch::Contains("2 parameters, 2 buffers") && Catch::Contains(path));
  save_weights(path, a.params(), a.buffers());
  REQUIRE_THROWS_WITH(load_weights(path, b.params()), Catch::Contains("holds 4 tensors"));
}

TEST_CASE("The shipped classifier scores >= 91% on the Fashion-MNIST test set in eval mode",
          "[classifier]") {
  const auto test = load_mnist_format<float>(AIGC_FASHION_MNIST_DIR, Split::test);
  auto net = FashionClassifier<float>::load(AIGC_CLASSIFIER_WEIGHTS);
#ifdef AIGC_TEST_SANITIZED
  // Under the sanitizers (two minutes for 10,000 images) the first 1,000 (92.7%): the same code
  // runs, and the plain builds score the whole set.
  const Index n = 1000;
#else
  const Index n = test.size();
#endif
  const double accuracy = net->accuracy(
      test.images.topRows(n), std::vector<int>(test.labels.begin(), test.labels.begin() + n));
  INFO("test accuracy " << accuracy << " on " << n << " images");
  CHECK(accuracy >= 0.91);
  // Eval mode is deterministic (running statistics, no dropout): the same features twice.
  const Tensor<float> some = test.images.topRows(64);
  CHECK(net->features(some) == net->features(some));
  // The running statistics matter: reset to their initial values, the accuracy collapses (on the
  // first 2,000 test images, which are enough to show it).
  const Tensor<float> first = test.images.topRows(2000);
  const std::vector<int> first_labels(test.labels.begin(), test.labels.begin() + 2000);
  const double first_accuracy = net->accuracy(first, first_labels);
  for (Buffer<float>* b : net->buffers()) {
    b->value.setConstant(b->name.find("running_var") != std::string::npos ? 1.0f : 0.0f);
  }
  CHECK(net->accuracy(first, first_labels) < first_accuracy - 0.05);
}
