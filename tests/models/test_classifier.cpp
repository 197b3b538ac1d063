#include <aigc/data/byte_dataset.hpp>
#include <aigc/data/dataset.hpp>
#include <aigc/data/image_folder.hpp>
#include <aigc/io/png.hpp>
#include <aigc/losses/cross_entropy.hpp>
#include <aigc/metrics/frechet.hpp>
#include <aigc/models/classifier.hpp>
#include <aigc/optim/adam.hpp>
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

TEST_CASE("The shipped weights are a version-1 file that loads as 1x28x28 and saves byte for byte",
          "[classifier]") {
  const ClassifierData data = read_classifier_data(AIGC_CLASSIFIER_WEIGHTS);
  CHECK(data.shape() == "1x28x28");
  CHECK(data.classes == 10);
  CHECK(data.data_set.empty());
  CHECK(data.version_one());
  auto net = FashionClassifier<float>::load(AIGC_CLASSIFIER_WEIGHTS);
  CHECK(net->data().shape() == "1x28x28");
  test::TempDir dir("weights_v1");
  net->save(dir / "again.bin");
  const auto shipped = test::read_file(AIGC_CLASSIFIER_WEIGHTS);
  CHECK(shipped[8] == 1);  // u32 version 1
  CHECK(test::read_file(dir / "again.bin") == shipped);
  // A fresh Fashion-MNIST classifier is written as version 1 too, of the same size.
  FashionClassifier<float> fresh(3);
  fresh.save(dir / "fresh.bin");
  CHECK(test::read_file(dir / "fresh.bin").size() == shipped.size());
  CHECK(test::read_file(dir / "fresh.bin")[8] == 1);
}

namespace {

// <dir>/<class>/<i>.png: `per_class` RGB images of class c, each mostly channel c (red, green,
// blue) with noise, 14x12 and 12x14 in turn.
void write_colour_classes(const std::filesystem::path& dir, int classes, int per_class) {
  Rng rng(11);
  for (int c = 0; c < classes; ++c) {
    const std::filesystem::path folder = dir / ("colour" + std::to_string(c));
    std::filesystem::create_directories(folder);
    for (int i = 0; i < per_class; ++i) {
      Image img;
      img.width = i % 2 ? 12 : 14;
      img.height = i % 2 ? 14 : 12;
      img.channels = 3;
      img.pixels.resize(static_cast<std::size_t>(img.width * img.height * 3));
      for (std::size_t p = 0; p < img.pixels.size(); ++p) {
        const bool main = static_cast<int>(p % 3) == c;
        img.pixels[p] = static_cast<unsigned char>((main ? 150 : 20) + rng.below(80));
      }
      write_png((folder / (std::to_string(i) + ".png")).string(), img);
    }
  }
}

}  // namespace

TEST_CASE("A classifier of an image folder's shape trains, and its weights record shape and data",
          "[classifier]") {
  test::TempDir dir("classifier_folder");
  write_colour_classes(dir.path / "images", 3, 10);
  ImageFolderOptions options;
  options.channels = 3;
  options.image_size = 20;
  const ByteDataset all = read_image_folder(dir / "images", options);
  const HoldoutSplit split = split_holdout(all, 0.1, 5);
  const Dataset<float> train = to_dataset<float>(split.train);
  REQUIRE(train.features() == 3 * 20 * 20);

  ClassifierData data;
  data.channels = 3;
  data.height = data.width = 20;
  data.classes = 3;
  data.data_set = dir / "images";
  data.split_seed = 5;
  data.holdout = 0.1;
  data.class_names = split.train.class_names;
  ImageClassifier<float> net(1, data);
  // 20x20 -> 10x10 -> 5x5: two convs, then fc1 64*5*5 -> 128.
  CHECK(net.params().size() == 10);  // conv1 (no bias), bn1 (2), conv2, bn2 (2), fc1 (2), fc2 (2)
  const double before = net.accuracy(train.images, train.labels);
  Adam<float> adam(net.params(), {.lr = 3e-3});
  Tensor<float> dlogits;
  for (int step = 0; step < 30; ++step) {
    net.set_training(true);
    adam.zero_grad();
    cross_entropy(net.forward(train.images), train.labels, Reduction::mean, &dlogits);
    net.backward(dlogits);
    adam.step();
  }
  const double after = net.accuracy(train.images, train.labels);
  INFO("train accuracy " << before << " before, " << after << " after 30 steps");
  CHECK(after >= 0.9);
  CHECK(after > before);

  const std::string path = dir / "rgb.bin";
  net.save(path);
  CHECK(test::read_file(path)[8] == 2);  // u32 version 2
  const ClassifierData read = read_classifier_data(path);
  CHECK(read.shape() == "3x20x20");
  CHECK(read.classes == 3);
  CHECK(read.data_set == data.data_set);
  CHECK(read.split_seed == 5);
  CHECK(read.holdout == 0.1);
  CHECK(read.class_names == std::vector<std::string>{"colour0", "colour1", "colour2"});
  auto loaded = ImageClassifier<float>::load(path);
  CHECK(loaded->data().shape() == "3x20x20");
  CHECK(loaded->logits(train.images) == net.logits(train.images));

  // Images of another shape are refused, naming both shapes.
  const Tensor<float> small = Tensor<float>::Zero(2, 3 * 16 * 16);
  REQUIRE_THROWS_WITH(loaded->features(small),
                      Catch::Contains("3x20x20") && Catch::Contains("2 x 768"));
  // The file's tensors do not fit the Fashion-MNIST classifier, nor its shape another one.
  FashionClassifier<float> fashion;
  REQUIRE_THROWS_WITH(load_weights(path, fashion.params(), fashion.buffers()),
                      Catch::Contains(path) && Catch::Contains("classifier.conv1.weight"));
  // A damaged header is caught by the CRC.
  auto bytes = test::read_file(path);
  bytes[13] ^= 0x01;  // inside u32 channels
  test::write_file(path, bytes, false);
  REQUIRE_THROWS_WITH(read_classifier_data(path), Catch::Contains("CRC"));
}
