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
  const double first = trainer.step(batch).loss;
  double last = first;
  for (int i = 0; i < 20; ++i) last = trainer.step(batch).loss;
  CHECK(std::isfinite(last));
  CHECK(last < first);
}

namespace {

// 40 images of 1 x 8 x 8 bytes: a bright square at a position of its own, in [0, 1].
ByteDataset conv_vae_test_images() {
  ByteDataset d;
  d.count = 40;
  d.channels = 1;
  d.height = d.width = 8;
  for (Index i = 0; i < d.count; ++i) {
    for (Index y = 0; y < 8; ++y)
      for (Index x = 0; x < 8; ++x)
        d.pixels.push_back(std::abs(y - i % 5 - 2) < 2 && std::abs(x - i / 5) < 2 ? 230 : 20);
  }
  return d;
}

// A small conv VAE, its trainer and an augmenting loader over bytes, built as a fresh process.
struct ConvVaeRun {
  std::unique_ptr<Sequential<float>> enc, dec;
  std::unique_ptr<VaeTrainer<float>> trainer;
  std::unique_ptr<BatchLoader<float>> loader;
  explicit ConvVaeRun(const ByteDataset& data) {
    Rng init(5);
    enc = make_conv_vae_encoder<float>(1, 8, 4, init, 4);
    dec = make_conv_vae_decoder<float>(4, 1, 8, init, 4);
    trainer = std::make_unique<VaeTrainer<float>>(*enc, *dec, VaeOptions{.latent = 4, .seed = 5});
    LoaderOptions o{.batch_size = 16, .seed = 9};
    o.augment = {.flip = true, .translate = 2};
    loader = std::make_unique<BatchLoader<float>>(data, o);
  }
  std::vector<Tensor<float>> params() const {
    std::vector<Tensor<float>> out;
    for (Param<float>* p : trainer->optimizer().params()) out.push_back(p->value);
    return out;
  }
};

}  // namespace

TEST_CASE("Conv VAE on bytes with augmentation: 3 epochs straight equal 1 + checkpoint + 2",
          "[conv_vae][resume]") {
  const ByteDataset data = conv_vae_test_images();
  ConvVaeRun straight(data);
  for (int e = 0; e < 3; ++e) straight.trainer->train_epoch(*straight.loader);
  StateDict saved;
  {
    ConvVaeRun first(data);
    first.trainer->train_epoch(*first.loader);
    first.trainer->save_state(saved);
    save_loader(saved, *first.loader);
  }
  ConvVaeRun resumed(data);
  resumed.trainer->load_state(saved);
  load_loader(saved, *resumed.loader);
  for (int e = 0; e < 2; ++e) resumed.trainer->train_epoch(*resumed.loader);
  const auto a = straight.params(), b = resumed.params();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == b[i]);  // bitwise
  CHECK(ConvVaeRun(data).params()[0] != a[0]);                     // training moved the parameters
}
