// The GAN trainer's tools (EMA, spectral norm, schedules, DiffAugment/ADA, R1): each off leaves the
// trainer as it was, each on survives a checkpoint and a fresh process bit for bit.
#include <aigc/io/checkpoint.hpp>
#include <aigc/models/dcgan.hpp>
#include <aigc/models/gan.hpp>
#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>

#include "support/idx_files.hpp"

using namespace aigc;

namespace {

// 24 images (16x16) of random bytes in [-1, 1]: 3 batches of 8 per epoch.
const Dataset<float>& random_images() {
  static const Dataset<float> data = [] {
    test::TempDir dir("gan-tools");
    std::vector<std::uint8_t> pixels(24 * 16 * 16);
    Rng bytes(5);
    for (auto& p : pixels) p = static_cast<std::uint8_t>(bytes.below(256));
    test::write_file(dir / "images.gz", test::idx_bytes(3, {24, 16, 16}, pixels), true);
    return read_idx_images<float>(dir / "images.gz", PixelScale::symmetric);
  }();
  return data;
}

using Setup = std::function<void(GanOptions&, Sequential<float>& g, Sequential<float>& d)>;

// A small 16x16 DCGAN (latent 16, 8 features: the tools, not the model, are under test) with the
// options and layers `setup` changes, built from scratch.
struct ToolRun {
  std::unique_ptr<Sequential<float>> g, d;
  std::unique_ptr<GanTrainer<float>> trainer;
  std::unique_ptr<BatchLoader<float>> loader;

  ToolRun(const Setup& setup, std::uint64_t seed = 3) {
    Rng init(seed);
    g = make_dcgan_generator<float>(16, 1, 16, init, 8);
    d = make_dcgan_discriminator<float>(1, 16, init, 8);
    GanOptions o{.latent = 16, .fixed_samples = 4, .seed = seed};
    if (setup) setup(o, *g, *d);
    trainer = std::make_unique<GanTrainer<float>>(*g, *d, o);
    loader = std::make_unique<BatchLoader<float>>(random_images(),
                                                  LoaderOptions{.batch_size = 8, .seed = seed});
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
  std::vector<Tensor<float>> tensors() const {
    std::vector<Tensor<float>> out;
    for (Module<float>* m :
         {static_cast<Module<float>*>(g.get()), static_cast<Module<float>*>(d.get())}) {
      for (Param<float>* p : m->params()) out.push_back(p->value);
      for (Buffer<float>* b : m->buffers()) out.push_back(b->value);
    }
    return out;
  }
};

// 4 epochs straight against 2 + a checkpoint in the middle of epoch 3 + a fresh process + the
// rest: the same parameters, buffers and samples, bit for bit; returns the straight run's samples.
Tensor<float> check_resume(const Setup& setup) {
  ToolRun straight(setup);
  for (int e = 0; e < 4; ++e) straight.trainer->train_epoch(*straight.loader);
  std::vector<std::uint8_t> saved;
  {
    ToolRun first(setup);
    for (int e = 0; e < 2; ++e) first.trainer->train_epoch(*first.loader);
    first.trainer->train_epoch(*first.loader, [&](const auto&) {
      if (first.trainer->step_count() == 7) saved = serialize_checkpoint(first.state());
    });
  }
  REQUIRE(!saved.empty());
  ToolRun resumed(setup);
  resumed.load(parse_checkpoint(saved.data(), saved.size(), "tools.aigc"));
  resumed.trainer->train_epoch(*resumed.loader);
  resumed.trainer->train_epoch(*resumed.loader);
  const auto a = straight.tensors(), b = resumed.tensors();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == b[i]);
  const Tensor<float> samples = straight.trainer->sample_fixed();
  CHECK(samples == resumed.trainer->sample_fixed());
  return samples;
}

}  // namespace

TEST_CASE("GAN tools: EMA samples from the average and resumes bit for bit", "[gan][ema][resume]") {
  const Setup ema = [](GanOptions& o, Sequential<float>&, Sequential<float>&) { o.ema = true; };
  const Tensor<float> averaged = check_resume(ema);
  ToolRun plain(nullptr);
  for (int e = 0; e < 4; ++e) plain.trainer->train_epoch(*plain.loader);
  // The same training (EMA changes nothing but the samples), other samples.
  ToolRun with(ema);
  for (int e = 0; e < 4; ++e) with.trainer->train_epoch(*with.loader);
  const auto a = plain.tensors(), b = with.tensors();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == b[i]);
  CHECK(plain.trainer->sample_fixed() != averaged);
  CHECK(with.trainer->ema()->updates() == 12);
  // A checkpoint without the averages is refused by a trainer with EMA.
  REQUIRE_THROWS_WITH(with.trainer->load_state(plain.state()), Catch::Contains("ema/"));
}

TEST_CASE(
    "GAN tools: EMA samples with G's BatchNorm statistics recomputed for the averaged weights, "
    "without changing training",
    "[gan][ema]") {
  const Setup ema = [](GanOptions& o, Sequential<float>&, Sequential<float>&) {
    o.ema = true;
    o.ema_batchnorm_codes = 20;  // 3 batches of 8
  };
  const Setup averaged = [](GanOptions& o, Sequential<float>&, Sequential<float>&) {
    o.ema = true;
    o.ema_batchnorm_codes = 0;
  };
  ToolRun with(ema), without(averaged);
  // Sampling between the steps of one run and not in the other: the same training, bit for bit.
  for (int e = 0; e < 2; ++e) {
    with.trainer->train_epoch(*with.loader, [&](const auto&) { with.trainer->sample(5); });
    without.trainer->train_epoch(*without.loader);
  }
  const auto a = with.tensors(), b = without.tensors();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == b[i]);
  StateDict sa = with.state(), sb = without.state();
  for (const StateEntry& e : sa.entries()) {
    if (e.name.rfind("ema/param/", 0) != 0 && e.name.rfind("ema/buffer/", 0) != 0) continue;
    Tensor<float> ta(e.rows, e.cols), tb(e.rows, e.cols);
    sa.get_tensor(e.name, ta);
    sb.get_tensor(e.name, tb);
    CHECK(ta == tb);
  }

  // Inside: the statistics of the averaged weights over the codes, the same on every call; the
  // average's own (averaged) statistics without the option.
  BatchNorm<float>* bn = nullptr;
  for_each_module<float>(*with.g, [&](Module<float>& m) {
    if (!bn) bn = dynamic_cast<BatchNorm<float>*>(&m);
  });
  REQUIRE(bn != nullptr);
  const Tensor<float> raw_mean = bn->running_mean().value;
  const Tensor<float> averaged_mean = without.trainer->ema()->with_average(
      [&] { return Tensor<float>(without.g->buffers()[0]->value); });
  const Tensor<float> inside =
      with.trainer->with_sampling_weights([&] { return bn->running_mean().value; });
  CHECK(inside != averaged_mean);
  CHECK(inside != raw_mean);
  CHECK(with.trainer->with_sampling_weights([&] { return bn->running_mean().value; }) == inside);
  CHECK(without.trainer->with_sampling_weights(
            [&] { return Tensor<float>(without.g->buffers()[0]->value); }) == averaged_mean);
  CHECK(bn->running_mean().value == raw_mean);  // G's own statistics back afterwards

  // They are update_batchnorm's: the mean of the batches' means of the averaged weights.
  const Tensor<float> expect = with.trainer->ema()->with_average([&] {
    const std::vector<Tensor<float>> kept = [&] {
      std::vector<Tensor<float>> v;
      for (Buffer<float>* b : with.g->buffers()) v.push_back(b->value);
      return v;
    }();
    Rng rng(3 ^ 0xB47C4E5EEDULL);  // the trainer's seed (3) and its generator of these codes
    Tensor<float> z(8, 16);
    update_batchnorm<float>(*with.g, 3, [&](Index) {
      rng.fill_normal(z);
      with.g->forward(z);
    });
    Tensor<float> m = bn->running_mean().value;
    const std::vector<Buffer<float>*> buffers = with.g->buffers();
    for (std::size_t i = 0; i < buffers.size(); ++i) buffers[i]->value = kept[i];
    return m;
  });
  CHECK(inside == expect);

  // A checkpoint of other weights at the same update count: recomputed, not the kept statistics.
  ToolRun other(ema, 4);
  for (int e = 0; e < 2; ++e) other.trainer->train_epoch(*other.loader);
  REQUIRE(other.trainer->ema()->updates() == with.trainer->ema()->updates());
  with.trainer->load_state(other.state());
  CHECK(with.trainer->with_sampling_weights([&] { return bn->running_mean().value; }) != inside);
}

TEST_CASE("GAN tools: spectral norm on D, G or both trains and resumes bit for bit",
          "[gan][spectral_norm][resume]") {
  check_resume(
      [](GanOptions& o, Sequential<float>&, Sequential<float>&) { o.spectral_norm_d = true; });
  check_resume([](GanOptions& o, Sequential<float>&, Sequential<float>&) {
    o.spectral_norm_d = o.spectral_norm_g = true;
    o.ema = true;
  });
  ToolRun run(
      [](GanOptions& o, Sequential<float>&, Sequential<float>&) { o.spectral_norm_g = true; });
  CHECK(run.g->buffers().size() == 4 + 2 * 3);  // BatchNorm's 2 x 2, u and v of 3 convolutions
  CHECK(run.d->buffers().size() == 2);
  StateDict s = run.state();
  CHECK(s.contains("buffer/generator.conv1.weight_u"));
  run.trainer->train_epoch(*run.loader);
  CHECK(spectral_norm_layers<float>(*run.g).size() == 3);
}

TEST_CASE("GAN tools: separate G and D schedules are followed and resume bit for bit",
          "[gan][schedule][resume]") {
  const Setup cosine = [](GanOptions& o, Sequential<float>&, Sequential<float>&) {
    o.adam_g.lr = 4e-4;
    o.schedule_g = {.decay = LrDecay::cosine, .warmup_steps = 2, .total_steps = 12};
    o.schedule_d = {.decay = LrDecay::linear, .total_steps = 12, .final_factor = 0.5};
  };
  check_resume(cosine);
  ToolRun run(cosine);
  CHECK(run.trainer->generator_optimizer().current_lr() == Approx(2e-4));
  for (int e = 0; e < 2; ++e) run.trainer->train_epoch(*run.loader);
  CHECK(run.trainer->generator_optimizer().current_lr() ==
        Approx(4e-4 * 0.5 * (1 + std::cos(3.14159265358979 * 0.4))));
  CHECK(run.trainer->discriminator_optimizer().current_lr() == Approx(2e-4 * 0.75));
}

TEST_CASE("GAN tools: DiffAugment, ADA and R1 train and resume bit for bit",
          "[gan][diff_augment][r1][resume]") {
  check_resume([](GanOptions& o, Sequential<float>&, Sequential<float>&) { o.diffaugment = true; });
  check_resume([](GanOptions& o, Sequential<float>&, Sequential<float>&) {
    o.ada = true;
    o.ada_interval = 2;
    o.ada_kimg = 0.1;  // 16 images per adjustment: p moves by 0.16
  });
  check_resume([](GanOptions& o, Sequential<float>&, Sequential<float>&) { o.r1_gamma = 1.0; });
  ToolRun ada([](GanOptions& o, Sequential<float>&, Sequential<float>&) {
    o.ada = true;
    o.ada_interval = 1;
    o.ada_kimg = 0.08;  // 8 images: p moves by 0.1 a step
  });
  REQUIRE(ada.trainer->augment() != nullptr);
  CHECK(ada.trainer->augment()->probability() == 0.0);
  for (int e = 0; e < 2; ++e) ada.trainer->train_epoch(*ada.loader);
  const double p = ada.trainer->augment()->probability();
  CHECK(p >= 0.0);
  CHECK(p <= 0.6 + 1e-9);
  CHECK(std::abs(p * 10 - std::round(p * 10)) < 1e-9);  // whole steps of 0.1
  CHECK(ada.state().contains("augment/ada"));
}

TEST_CASE("GAN tools: lazy R1 is R1 of gamma k in every k-th D step and none between",
          "[gan][r1][resume]") {
  check_resume([](GanOptions& o, Sequential<float>&, Sequential<float>&) {
    o.r1_gamma = 1.0;
    o.r1_interval = 3;
  });
  const Tensor<float> real = random_images().images.topRows(8);
  const auto equal = [](const std::vector<Tensor<float>>& a, const std::vector<Tensor<float>>& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](const auto& x, const auto& y) { return x == y; });
  };
  const auto r1 = [](double gamma, int interval) {
    return [=](GanOptions& o, Sequential<float>&, Sequential<float>&) {
      o.r1_gamma = gamma;
      o.r1_interval = interval;
    };
  };
  // D step 0: the penalty with gamma 1 x 2, its value reported at gamma 1.
  ToolRun every(r1(2.0, 1)), lazy(r1(1.0, 2)), none(r1(0.0, 1));
  const GanStepStats a = every.trainer->step(real), b = lazy.trainer->step(real);
  CHECK(equal(lazy.tensors(), every.tensors()));
  CHECK(b.d_loss < a.d_loss);  // half the penalty's value
  // D step 1: none; the same step as a trainer without R1 from the same state.
  none.load(lazy.state());
  lazy.trainer->step(real);
  none.trainer->step(real);
  CHECK(equal(lazy.tensors(), none.tensors()));
  // D step 2: the penalty again.
  none.load(lazy.state());
  lazy.trainer->step(real);
  none.trainer->step(real);
  CHECK_FALSE(equal(lazy.tensors(), none.tensors()));
  GanOptions bad{.latent = 16};
  bad.r1_gamma = 1.0;
  bad.r1_interval = 0;
  ToolRun shapes(nullptr);
  CHECK_THROWS_WITH((GanTrainer<float>(*shapes.g, *shapes.d, bad)),
                    Catch::Contains("r1_interval > 0"));
}

TEST_CASE("GAN tools: options out of range are refused with the option named", "[gan][options]") {
  REQUIRE_THROWS_WITH(ToolRun([](GanOptions& o, Sequential<float>&, Sequential<float>&) {
                        o.ema = true;
                        o.ema_batchnorm_codes = -1;
                      }),
                      Catch::Contains("ema_batchnorm_codes must be >= 0"));
  REQUIRE_THROWS_WITH(ToolRun([](GanOptions& o, Sequential<float>&, Sequential<float>&) {
                        o.ada = true;
                        o.ada_target = 1.5;
                      }),
                      Catch::Contains("ada_target must be in [-1, 1]"));
}
