// Exact resume and determinism of the trainers, and the non-finite guard.
#include <aigc/io/checkpoint.hpp>
#include <aigc/layers/dropout.hpp>
#include <aigc/models/dcgan.hpp>
#include <aigc/models/gan.hpp>
#include <aigc/models/vae.hpp>
#include <catch2/catch.hpp>
#include <filesystem>

#include "support/idx_files.hpp"

using namespace aigc;

namespace {

// 320 Fashion-MNIST test images (5 batches of 64).
const Dataset<float>& small_fashion_mnist() {
  static const Dataset<float> data = [] {
    const std::string dir = AIGC_FASHION_MNIST_DIR;
    if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz")) {
      FAIL("Fashion-MNIST not found in " << dir << " (install Debian's dataset-fashion-mnist)");
    }
    auto d = load_mnist_format<float>(dir, Split::test);
    d.images.conservativeResize(320, Eigen::NoChange);
    d.labels.resize(320);
    return d;
  }();
  return data;
}

// A small VAE, its trainer and its loader, built from scratch as a fresh process would.
struct VaeRun {
  std::unique_ptr<Sequential<float>> enc, dec;
  std::unique_ptr<VaeTrainer<float>> trainer;
  std::unique_ptr<BatchLoader<float>> loader;

  // With `dropout`, the encoder is fc1, Dropout(0.5) "drop", fc2.
  explicit VaeRun(const Dataset<float>& data, std::uint64_t seed = 7, bool dropout = false) {
    Rng init(seed);
    enc = make_vae_encoder<float>(784, 64, 8, init);
    if (dropout) {
      enc = std::make_unique<Sequential<float>>();
      enc->set_name("encoder");
      enc->emplace<Dense<float>>("fc1", 784, 64, init,
                                 DenseOptions{.activation = Activation::relu});
      enc->emplace<Dropout<float>>("drop", 0.5, seed);
      enc->emplace<Dense<float>>("fc2", 64, 16, init);
    }
    dec = make_vae_decoder<float>(8, 64, 784, init);
    trainer =
        std::make_unique<VaeTrainer<float>>(*enc, *dec, VaeOptions{.latent = 8, .seed = seed});
    loader =
        std::make_unique<BatchLoader<float>>(data, LoaderOptions{.batch_size = 64, .seed = seed});
  }

  StateDict state() {
    StateDict s;
    trainer->save_state(s);
    save_loader(s, *loader);
    return s;
  }
  void load(const StateDict& s) {
    trainer->load_state(s);
    load_loader(s, *loader);
  }
  std::vector<Tensor<float>> params() const {
    std::vector<Tensor<float>> out;
    for (Param<float>* p : trainer->optimizer().params()) out.push_back(p->value);
    return out;
  }
};

}  // namespace

TEST_CASE("VAE: 4 epochs straight equal 2 + checkpoint + fresh process + 2, bit for bit",
          "[resume][vae]") {
  const auto& data = small_fashion_mnist();
  test::TempDir dir("resume-vae");
  VaeRun straight(data);
  for (int e = 0; e < 4; ++e) {
    straight.trainer->train_epoch(*straight.loader);
    straight.trainer->evaluate(data);  // evaluating draws from its own RNG, not training's
  }

  std::string path;
  {
    VaeRun first(data);
    for (int e = 0; e < 2; ++e) first.trainer->train_epoch(*first.loader);
    CheckpointManager m({.folder = dir / "ck"});
    path = m.save(first.state(), first.trainer->step_count());
  }
  VaeRun resumed(data, 7);
  resumed.load(read_checkpoint(path));
  CHECK(resumed.trainer->step_count() == 10);
  CHECK(resumed.loader->epoch() == 2);
  for (int e = 0; e < 2; ++e) resumed.trainer->train_epoch(*resumed.loader);

  const auto a = straight.params(), b = resumed.params();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == b[i]);  // bitwise: operator== on floats
  CHECK(straight.trainer->rng().next_u64() == resumed.trainer->rng().next_u64());
  // A run must have moved: the comparison would be empty if training did nothing.
  CHECK(VaeRun(data).params()[0] != a[0]);
}

TEST_CASE("Dropout's masks resume exactly: its generator is in the checkpoint",
          "[resume][vae][dropout]") {
  const auto& data = small_fashion_mnist();
  VaeRun straight(data, 7, true);
  for (int e = 0; e < 4; ++e) straight.trainer->train_epoch(*straight.loader);

  StateDict saved;
  {
    VaeRun first(data, 7, true);
    for (int e = 0; e < 2; ++e) first.trainer->train_epoch(*first.loader);
    const auto bytes = serialize_checkpoint(first.state());
    saved = parse_checkpoint(bytes.data(), bytes.size(), "dropout.aigc");
  }
  REQUIRE(saved.contains("module_rng/encoder.drop.rng"));
  VaeRun resumed(data, 7, true);
  resumed.load(saved);
  for (int e = 0; e < 2; ++e) resumed.trainer->train_epoch(*resumed.loader);
  const auto a = straight.params(), b = resumed.params();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == b[i]);

  // The masks matter: the same run without dropout ends elsewhere.
  VaeRun plain(data, 7);
  for (int e = 0; e < 4; ++e) plain.trainer->train_epoch(*plain.loader);
  CHECK(plain.params()[0] != a[0]);
  // A checkpoint without the generator, or with one the model lacks, is refused naming it.
  REQUIRE_THROWS_WITH(VaeRun(data, 7, true).load(plain.state()),
                      Catch::Contains("'encoder.drop.rng'") && Catch::Contains("missing"));
  StateDict extra = plain.state();
  save_rng(extra, "module_rng/encoder.drop.rng", Rng(1));
  REQUIRE_THROWS_WITH(plain.trainer->load_state(extra),
                      Catch::Contains("'encoder.drop.rng'") && Catch::Contains("not one of"));
}

TEST_CASE("VAE: a checkpoint in the middle of an epoch resumes exactly", "[resume][vae]") {
  const auto& data = small_fashion_mnist();
  VaeRun straight(data);
  for (int e = 0; e < 3; ++e) straight.trainer->train_epoch(*straight.loader);

  VaeRun first(data);
  std::vector<std::uint8_t> saved;
  first.trainer->train_epoch(*first.loader);
  first.trainer->train_epoch(*first.loader, [&](const auto&) {
    if (first.trainer->step_count() == 7) saved = serialize_checkpoint(first.state());
  });
  REQUIRE(!saved.empty());
  VaeRun resumed(data);
  resumed.load(parse_checkpoint(saved.data(), saved.size(), "mid-epoch"));
  CHECK(resumed.loader->batch_index() == 2);
  resumed.trainer->train_epoch(*resumed.loader);  // the rest of epoch 2
  resumed.trainer->train_epoch(*resumed.loader);
  const auto a = straight.params(), b = resumed.params();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == b[i]);
}

TEST_CASE("VAE: the same seed twice gives bitwise the same run", "[resume][vae]") {
  const auto& data = small_fashion_mnist();
  VaeRun one(data, 3), two(data, 3), other(data, 4);
  for (int e = 0; e < 2; ++e) {
    const auto s1 = one.trainer->train_epoch(*one.loader);
    const auto s2 = two.trainer->train_epoch(*two.loader);
    CHECK(s1.train_loss == s2.train_loss);
    other.trainer->train_epoch(*other.loader);
  }
  const auto a = one.params(), b = two.params(), c = other.params();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == b[i]);
  CHECK(a[0] != c[0]);
}

TEST_CASE("Resuming with another model or another loader is refused", "[resume][vae]") {
  const auto& data = small_fashion_mnist();
  VaeRun run(data);
  const StateDict s = run.state();
  Rng init(0);
  auto enc = make_vae_encoder<float>(784, 32, 8, init);
  auto dec = make_vae_decoder<float>(8, 32, 784, init);
  VaeTrainer<float> narrow(*enc, *dec, {.latent = 8});
  REQUIRE_THROWS_WITH(narrow.load_state(s), Catch::Contains("encoder.fc1.weight") &&
                                                Catch::Contains("[64 x 784]") &&
                                                Catch::Contains("[32 x 784]"));
  BatchLoader<float> other_batch(data, {.batch_size = 32, .seed = 7});
  REQUIRE_THROWS_WITH(load_loader(s, other_batch),
                      Catch::Contains("batch_size was 64") && Catch::Contains("is 32 now"));
}

TEST_CASE("A non-finite loss stops the VAE naming the step; the last checkpoint stays good",
          "[resume][vae][nan]") {
  test::TempDir dir("resume-nan");
  Dataset<float> data = small_fashion_mnist();
  VaeRun run(data);
  // One poisoned pixel in the third batch of the first epoch.
  const Index poisoned = run.loader->order()[2 * 64 + 5];
  data.images(poisoned, 300) = std::numeric_limits<float>::quiet_NaN();
  CheckpointManager m({.folder = dir / "ck", .keep_last = 2});
  std::string error;
  try {
    run.trainer->train_epoch(*run.loader,
                             [&](const auto&) { m.save(run.state(), run.trainer->step_count()); });
  } catch (const NumericError& e) {
    error = e.what();
  }
  INFO(error);
  REQUIRE(error.find("VaeTrainer: step ") != std::string::npos);
  CHECK(error.find("loss is not finite") != std::string::npos);
  CHECK(error.find("BCE") != std::string::npos);
  // The step that failed changed nothing; the newest checkpoint is the step before it and finite.
  const std::int64_t failed = std::stoll(error.substr(error.find("step ") + 5));
  CHECK(failed == 3);
  CHECK(run.trainer->step_count() == failed - 1);
  REQUIRE(m.latest());
  CHECK(*m.latest() == m.path_for(failed - 1));
  VaeRun back(data);
  back.load(read_checkpoint(*m.latest()));
  for (const auto& p : back.params()) CHECK(p.allFinite());
  for (std::size_t i = 0; i < back.params().size(); ++i) CHECK(back.params()[i] == run.params()[i]);
}

TEST_CASE("A non-finite gradient is reported with the tensor's name", "[resume][nan]") {
  Rng rng(0);
  Dense<float> fc(3, 2, rng);
  fc.set_name("decoder.fc4");
  REQUIRE_NOTHROW(check_finite_grads(fc.params(), "GanTrainer", 5));
  fc.bias().grad(0, 1) = std::numeric_limits<float>::infinity();
  REQUIRE_THROWS_AS(check_finite_grads(fc.params(), "GanTrainer", 5), NumericError);
  REQUIRE_THROWS_WITH(check_finite_grads(fc.params(), "GanTrainer", 5),
                      Catch::Contains("step 5") && Catch::Contains("'decoder.fc4.bias'"));
  fc.bias().grad(0, 1) = 0;
  fc.weight().grad(1, 2) = std::numeric_limits<float>::quiet_NaN();
  REQUIRE_THROWS_WITH(check_finite_grads(fc.params(), "GanTrainer", 6),
                      Catch::Contains("step 6") && Catch::Contains("'decoder.fc4.weight'"));
  for (Index n : {1, 7, 17, 33, 1000, 70001}) {
    Tensor<double> x = Tensor<double>::Ones(1, n);
    CHECK(kernels::all_finite(x.data(), n));
    x(0, n - 1) = -std::numeric_limits<double>::infinity();
    CHECK_FALSE(kernels::all_finite(x.data(), n));
    x(0, n - 1) = std::numeric_limits<double>::max();
    CHECK(kernels::all_finite(x.data(), n));
  }
}

TEST_CASE("VAE gradient clipping bounds the update's gradient norm", "[resume][vae]") {
  const auto& data = small_fashion_mnist();
  Rng init(1);
  auto enc = make_vae_encoder<float>(784, 32, 4, init);
  auto dec = make_vae_decoder<float>(4, 32, 784, init);
  VaeTrainer<float> clipped(*enc, *dec, {.latent = 4, .adam = {.lr = 1e-3}, .clip_grad_norm = 1.0});
  const Tensor<float> x = data.images.topRows(16);
  clipped.step(x);
  double norm = 0;
  for (Param<float>* p : clipped.optimizer().params()) norm += p->grad.squaredNorm();
  CHECK(std::sqrt(norm) <= 1.0 + 1e-4);
  CHECK(std::sqrt(norm) > 0.5);  // the raw norm of a summed BCE is far above 1; clipped to 1
  REQUIRE_THROWS_AS(VaeTrainer<float>(*enc, *dec, {.latent = 4, .clip_grad_norm = -1}),
                    ArgumentError);
}

namespace {

// The MLP GAN, or the DCGAN (conv, BatchNorm), of latent 16 on a set in [-1, 1], built from
// scratch, its products in `precision`.
struct GanRun {
  std::unique_ptr<Sequential<float>> g, d;
  std::unique_ptr<GanTrainer<float>> trainer;
  std::unique_ptr<BatchLoader<float>> loader;

  GanRun(const Dataset<float>& data, std::uint64_t seed, bool dcgan = false, Index batch = 64,
         Precision precision = Precision::fp32) {
    Rng init(seed);
    // The DCGAN at an eighth of its width (features 8): the same layers, 1/64 of the products.
    g = dcgan ? make_dcgan_generator<float>(16, init, 8) : make_mlp_generator<float>(16, 784, init);
    d = dcgan ? make_dcgan_discriminator<float>(init, 8) : make_mlp_discriminator<float>(784, init);
    trainer = std::make_unique<GanTrainer<float>>(
        *g, *d,
        GanOptions{
            .latent = 16, .d_steps = 2, .fixed_samples = 4, .seed = seed, .precision = precision});
    loader = std::make_unique<BatchLoader<float>>(data,
                                                  LoaderOptions{.batch_size = batch, .seed = seed});
  }
  StateDict state() {
    StateDict s;
    trainer->save_state(s);
    save_loader(s, *loader);
    return s;
  }
  void load(const StateDict& s) {
    trainer->load_state(s);
    load_loader(s, *loader);
  }
  std::vector<Tensor<float>> params() const {
    std::vector<Tensor<float>> out;
    for (Param<float>* p : g->params()) out.push_back(p->value);
    for (Param<float>* p : d->params()) out.push_back(p->value);
    return out;
  }
  std::vector<Tensor<float>> buffers() const {
    std::vector<Tensor<float>> out;
    for (Buffer<float>* b : g->buffers()) out.push_back(b->value);
    for (Buffer<float>* b : d->buffers()) out.push_back(b->value);
    return out;
  }
};

Dataset<float> symmetric(const Dataset<float>& unit) {
  Dataset<float> s = unit;
  s.images = (unit.images.array() * 2.0f - 1.0f).matrix();
  return s;
}

}  // namespace

TEST_CASE("MLP GAN: 4 epochs straight equal 2 + checkpoint + fresh process + 2, bit for bit",
          "[resume][gan]") {
  // 80 images in batches of 16: 5 batches per epoch.
  Dataset<float> data = symmetric(small_fashion_mnist());
  data.images.conservativeResize(80, Eigen::NoChange);
  data.labels.resize(80);
  GanRun straight(data, 11, false, 16);
  for (int e = 0; e < 4; ++e) straight.trainer->train_epoch(*straight.loader);

  std::vector<std::uint8_t> saved;
  {
    GanRun first(data, 11, false, 16);
    // d_steps = 2 over 5 batches per epoch: the checkpoint falls between a D and a G step.
    for (int e = 0; e < 2; ++e) first.trainer->train_epoch(*first.loader);
    CHECK(first.trainer->step_count() % 2 == 0);
    first.trainer->train_epoch(*first.loader, [&](const auto&) {
      if (first.trainer->step_count() == 11) saved = serialize_checkpoint(first.state());
    });
  }
  REQUIRE(!saved.empty());
  GanRun resumed(data, 11, false, 16);
  resumed.load(parse_checkpoint(saved.data(), saved.size(), "gan.aigc"));
  CHECK(resumed.trainer->step_count() == 11);
  resumed.trainer->train_epoch(*resumed.loader);  // the rest of epoch 3
  resumed.trainer->train_epoch(*resumed.loader);
  const auto a = straight.params(), b = resumed.params();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == b[i]);
  CHECK(straight.trainer->sample_fixed() == resumed.trainer->sample_fixed());
  CHECK(GanRun(data, 11, false, 16).params()[0] != a[0]);

  GanRun same_seed(data, 11, false, 16);
  for (int e = 0; e < 4; ++e) same_seed.trainer->train_epoch(*same_seed.loader);
  const auto c = same_seed.params();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == c[i]);
}

TEST_CASE("MLP GAN: a checkpoint of another GAN is refused naming the tensor", "[resume][gan]") {
  const Dataset<float> data = symmetric(small_fashion_mnist());
  GanRun run(data, 1);
  const StateDict s = run.state();
  Rng init(0);
  auto g = make_mlp_generator<float>(8, 784, init);
  auto d = make_mlp_discriminator<float>(784, init);
  GanTrainer<float> other(*g, *d, GanOptions{.latent = 8});
  REQUIRE_THROWS_WITH(other.load_state(s), Catch::Contains("latent size 16"));
}

TEST_CASE(
    "DCGAN (conv, BatchNorm): 2 epochs + checkpoint + fresh process + 2 equal 4, bit for bit, with "
    "FP32 and with bf16 products",
    "[resume][gan][dcgan]") {
  const Precision precision = GENERATE(Precision::fp32, Precision::bf16);
  INFO((precision == Precision::bf16 ? "bf16" : "fp32"));
  // 12 images of random bytes in a gzip'd IDX file: 3 batches of 4 per epoch.
  test::TempDir dir("resume-dcgan");
  std::vector<std::uint8_t> pixels(12 * 28 * 28);
  Rng bytes(5);
  for (auto& p : pixels) p = static_cast<std::uint8_t>(bytes.below(256));
  test::write_file(dir / "images.gz", test::idx_bytes(3, {12, 28, 28}, pixels), true);
  const Dataset<float> data = read_idx_images<float>(dir / "images.gz", PixelScale::symmetric);

  GanRun straight(data, 5, true, 4, precision);
  for (int e = 0; e < 4; ++e) straight.trainer->train_epoch(*straight.loader);
  std::string path;
  {
    GanRun first(data, 5, true, 4, precision);
    for (int e = 0; e < 2; ++e) first.trainer->train_epoch(*first.loader);
    path = CheckpointManager({.folder = dir / "ck"}).save(first.state(), 6);
  }
  GanRun resumed(data, 5, true, 4, precision);
  const StateDict s = read_checkpoint(path);
  CHECK(s.contains("buffer/generator.bn1.running_mean"));
  CHECK(s.contains("buffer/discriminator.bn2.running_var"));
  resumed.load(s);
  for (int e = 0; e < 2; ++e) resumed.trainer->train_epoch(*resumed.loader);

  const auto a = straight.params(), b = resumed.params();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == b[i]);
  const auto m = straight.buffers(), n = resumed.buffers();
  REQUIRE(m.size() == 10);  // G's 3 and D's 2 BatchNorms, mean and variance each
  REQUIRE(m.size() == n.size());
  for (std::size_t i = 0; i < m.size(); ++i) CHECK(m[i] == n[i]);
  CHECK(straight.trainer->sample_fixed() == resumed.trainer->sample_fixed());
  // Training moved the parameters and the running statistics.
  const GanRun fresh(data, 5, true, 4, precision);
  CHECK(fresh.params()[0] != a[0]);
  CHECK(fresh.buffers()[0] != m[0]);
}
