// fit: a resumed run ends bitwise where an uninterrupted one ends (checkpoint, CSV logs, loss.png),
// a non-finite value stops it naming the last good checkpoint, and every output can be switched
// off.
#include <aigc/models/cvae.hpp>
#include <aigc/models/gan.hpp>
#include <aigc/models/vae.hpp>
#include <aigc/training/fit.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>

#include "support/idx_files.hpp"

using namespace aigc;

namespace {

// 40 random binary 4x4 images with labels 0..3.
Dataset<float> fit_test_data() {
  Dataset<float> d;
  Rng rng(11);
  d.images.resize(40, 16);
  rng.fill_uniform(d.images, 0.0, 1.0);
  d.images = (d.images.array() > 0.5f).cast<float>();
  for (int i = 0; i < 40; ++i) d.labels.push_back(i % 4);
  d.height = d.width = 4;
  d.num_classes = 4;
  return d;
}

// A tiny VAE, its trainer and loader, as a fresh process builds them.
struct FitVae {
  Rng init{5};
  std::unique_ptr<Sequential<float>> enc = make_vae_encoder<float>(16, 8, 2, init);
  std::unique_ptr<Sequential<float>> dec = make_vae_decoder<float>(2, 8, 16, init);
  VaeTrainer<float> trainer{*enc, *dec, {.latent = 2, .seed = 5}};
  BatchLoader<float> loader;
  explicit FitVae(const Dataset<float>& data) : loader(data, {.batch_size = 16, .seed = 5}) {}
};

FitOptions quiet_fit(const std::string& out, int epochs) {
  return {.epochs = epochs, .out = out, .name = "vae", .progress = false, .print = false};
}

std::string without_seconds(const std::string& csv) {
  std::string out;
  for (std::size_t at = 0; at < csv.size();) {
    const std::size_t eol = csv.find('\n', at);
    const std::string line = csv.substr(at, eol - at);
    out += line.substr(0, line.rfind(',')) + "\n";  // seconds is metrics.csv's last column
    at = eol + 1;
  }
  return out;
}

// A custom model: learns the mean image by gradient steps on 0.5 |x - m|^2; its loss turns nan at
// step `nan_at`.
struct MeanTrainer {
  struct Stats {
    double loss = 0.0;
    std::array<StepValue, 1> values() const { return {StepValue{"loss", loss}}; }
  };
  Tensor<float> mean = Tensor<float>::Zero(1, 16);
  std::int64_t steps = 0, nan_at = -1;

  Stats step(const Tensor<float>& x) {
    const Tensor<float> diff = x.rowwise() - mean.row(0);
    mean += 0.1f * diff.colwise().mean();
    ++steps;
    return {steps == nan_at ? std::nan("") : 0.5 * diff.squaredNorm() / x.rows()};
  }
  void train_epoch(BatchLoader<float>& loader, const std::function<void(const Stats&)>& on_step) {
    Tensor<float> x;
    while (loader.next(x)) on_step(step(x));
  }
  std::int64_t step_count() const { return steps; }
  void save_state(StateDict& s) const {
    s.put_array("mean", mean.data(), 1, 16);
    s.put_int("steps", steps);
  }
  void load_state(const StateDict& s) {
    s.get_array("mean", mean.data(), 16);
    steps = s.get_int("steps");
  }
};

}  // namespace

TEST_CASE("fit: 3 epochs straight equal 2 + kill + resume from the folder, bit for bit",
          "[fit][resume]") {
  const Dataset<float> data = fit_test_data();
  test::TempDir dir("fit-resume");
  {
    FitVae run(data);
    FitOptions o = quiet_fit(dir / "straight", 3);
    o.checkpoint_every = 1;
    o.keep = 0;
    const FitResult r = fit(run.trainer, run.loader, o);
    CHECK(r.epochs == 3);
    CHECK(r.steps == 9);
    CHECK(r.last_checkpoint == dir / "straight/checkpoints/vae-000000000009.aigc");
    REQUIRE(r.last_epoch.size() == 3);
    CHECK(r.last_epoch[0].first == "loss");
  }
  {
    FitVae run(data);
    FitOptions o = quiet_fit(dir / "cut", 2);
    o.checkpoint_every = 1;
    o.keep = 0;
    fit(run.trainer, run.loader, o);
  }
  // Killed at step 4 of 6, after logging steps 5 and 6 and epoch 2.
  for (const char* step : {"5", "6"})
    std::filesystem::remove(dir /
                            (std::string("cut/checkpoints/vae-00000000000") + step + ".aigc"));
  {
    FitVae run(data);
    FitOptions o = quiet_fit(dir / "cut", 3);
    o.checkpoint_every = 1;
    o.keep = 0;
    o.resume = dir / "cut/checkpoints";
    const FitResult r = fit(run.trainer, run.loader, o);
    CHECK(r.steps == 9);
  }
  CHECK(test::read_file(dir / "cut/checkpoints/vae-000000000009.aigc") ==
        test::read_file(dir / "straight/checkpoints/vae-000000000009.aigc"));
  CHECK(test::read_text(dir / "cut/steps.csv") == test::read_text(dir / "straight/steps.csv"));
  CHECK(without_seconds(test::read_text(dir / "cut/metrics.csv")) ==
        without_seconds(test::read_text(dir / "straight/metrics.csv")));
  // loss.png is redrawn from the kept rows: the resumed run's curves are the whole run's.
  CHECK(test::read_file(dir / "cut/loss.png") == test::read_file(dir / "straight/loss.png"));
  CHECK(std::filesystem::exists(dir / "cut/tensorboard"));
}

TEST_CASE("fit trains a conditional VAE and a cGAN, reading the labels from the loader", "[fit]") {
  const Dataset<float> data = fit_test_data();
  test::TempDir dir("fit-conditional");
  Rng init(2);
  auto enc = make_cvae_encoder<float>(16, 8, 2, 4, init);
  auto dec = make_cvae_decoder<float>(2, 8, 16, 4, init);
  CvaeTrainer<float> cvae(*enc, *dec, {.latent = 2});
  BatchLoader<float> loader(data, {.batch_size = 16});
  FitOptions o = quiet_fit(dir / "cvae", 2);
  o.epoch_metrics = {{"test_loss", [&] { return cvae.evaluate(data); }}};
  const FitResult r = fit(cvae, loader, o);
  CHECK(r.steps == 6);
  REQUIRE(r.last_epoch.size() == 4);
  CHECK(r.last_epoch[3].first == "test_loss");
  CHECK(std::isfinite(r.last_epoch[3].second));

  auto g = make_mlp_generator<float>(4, 16, init, 4);
  auto d = make_mlp_discriminator<float>(16, init, 4);
  CganTrainer<float> cgan(*g, *d, {.latent = 4, .d_steps = 2});
  BatchLoader<float> gan_loader(data, {.batch_size = 16});
  o = quiet_fit(dir / "cgan", 1);
  o.name = "cgan";
  const FitResult rg = fit(cgan, gan_loader, o);
  CHECK(rg.steps == 3);
  // g_loss has a value on every second step only: the others are nan in steps.csv.
  const std::string steps = test::read_text(dir / "cgan/steps.csv");
  CHECK(steps.rfind("epoch,step,d_loss,g_loss,d_real,d_fake\n", 0) == 0);
  CHECK(steps.find(",nan,") != std::string::npos);
}

TEST_CASE("fit: a nan loss stops the run and names the last good checkpoint", "[fit]") {
  const Dataset<float> data = fit_test_data();
  test::TempDir dir("fit-nan");
  MeanTrainer model;
  model.nan_at = 5;
  BatchLoader<float> loader(data, {.batch_size = 16});
  FitOptions o = quiet_fit(dir / "run", 4);
  o.name = "mean";
  o.checkpoint_every = 2;
  REQUIRE_THROWS_WITH(fit(model, loader, o),
                      Catch::Contains("step 5: loss is nan") &&
                          Catch::Contains("the last good checkpoint is " +
                                          dir / "run/checkpoints/mean-000000000004.aigc"));
  // With the stop off, the run ends and the epoch's mean is nan.
  MeanTrainer again;
  again.nan_at = 2;
  BatchLoader<float> loader2(data, {.batch_size = 16});
  o = quiet_fit(dir / "off", 1);
  o.stop_on_non_finite = false;
  o.checkpoints = false;
  CHECK(std::isnan(fit(again, loader2, o).last_epoch[0].second));
  // Before any checkpoint: "(none)".
  MeanTrainer early;
  early.nan_at = 1;
  BatchLoader<float> loader3(data, {.batch_size = 16});
  REQUIRE_THROWS_WITH(fit(early, loader3, quiet_fit(dir / "early", 1)),
                      Catch::Contains("the last good checkpoint is (none)"));
}

TEST_CASE("fit: every output can be switched off; on_epoch_end writes pictures", "[fit]") {
  const Dataset<float> data = fit_test_data();
  test::TempDir dir("fit-off");
  MeanTrainer model;
  BatchLoader<float> loader(data, {.batch_size = 16});
  FitOptions o = quiet_fit(dir / "none", 2);
  o.csv = o.tensorboard = o.plot = o.checkpoints = false;
  const FitResult r = fit(model, loader, o);
  CHECK(r.steps == 6);
  CHECK(r.files.empty());
  CHECK(r.last_checkpoint.empty());
  CHECK(std::filesystem::is_empty(dir / "none"));

  MeanTrainer all;
  BatchLoader<float> loader2(data, {.batch_size = 16});
  o = quiet_fit(dir / "all", 2);
  o.name = "mean";
  std::FILE* progress = std::tmpfile();
  o.progress = true;
  o.progress_file = progress;
  int ends = 0;
  o.on_epoch_end = [&](FitEpoch& e) {
    ++ends;
    CHECK(e.step() == 3 * e.epoch());
    e.image("mean", make_grid(all.mean, 1, 4, 4, 1));
  };
  const FitResult r2 = fit(all, loader2, o);
  CHECK(ends == 2);
  for (const char* f : {"steps.csv", "metrics.csv", "loss.png", "mean.png"})
    CHECK(std::filesystem::exists(dir / ("all/" + std::string(f))));
  CHECK(std::filesystem::exists(dir / "all/checkpoints/mean-000000000006.aigc"));
  CHECK(r2.summary(dir / "all").find("loss.png") != std::string::npos);
  std::rewind(progress);
  char line[256] = {};
  REQUIRE(std::fgets(line, sizeof line, progress));
  CHECK(std::string(line).rfind("epoch 1  ", 0) == 0);
  std::fclose(progress);
  FitOptions bad = quiet_fit(dir / "all", -1);
  REQUIRE_THROWS_WITH(fit(all, loader2, bad), Catch::Contains("epochs"));
}
