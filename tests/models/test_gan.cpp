#include <aigc/models/gan.hpp>
#include <aigc/testing/gradcheck.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>

using namespace aigc;

namespace {

const GanObjective all_objectives[] = {GanObjective::bce, GanObjective::lsgan, GanObjective::hinge,
                                       GanObjective::wasserstein};

// Tiny G (3 -> 6 -> 5, tanh) and D (5 -> 4 -> 1), built the same for the same seed.
std::unique_ptr<Sequential<double>> tiny_generator(std::uint64_t seed) {
  Rng rng(seed);
  auto g = std::make_unique<Sequential<double>>();
  g->emplace<Dense<double>>(
      "fc1", 3, 6, rng, DenseOptions{.activation = Activation::leaky_relu, .negative_slope = 0.2});
  g->emplace<Dense<double>>("fc2", 6, 5, rng, DenseOptions{.activation = Activation::tanh});
  return g;
}
std::unique_ptr<Sequential<double>> tiny_discriminator(std::uint64_t seed) {
  Rng rng(seed);
  auto d = std::make_unique<Sequential<double>>();
  d->emplace<Dense<double>>("fc1", 5, 4, rng, DenseOptions{.activation = Activation::tanh});
  d->emplace<Dense<double>>("fc2", 4, 1, rng);
  return d;
}

// Relative error, or the absolute one when both gradients vanish (e.g. the critic's last bias
// under the Wasserstein objective: d/db (mean D(G(z)) - mean D(x)) = 0).
double gradient_error(const Tensor<double>& analytic, const Tensor<double>& numeric) {
  if (analytic.norm() + numeric.norm() < 1e-8) return (analytic - numeric).norm();
  return relative_error(analytic, numeric);
}

std::vector<Tensor<double>> grads_of(Module<double>& m) {
  std::vector<Tensor<double>> out;
  for (Param<double>* p : m.params()) out.push_back(p->grad);
  return out;
}

}  // namespace

TEST_CASE("GanTrainer's D and G gradients match finite differences of the objective",
          "[gan][gradcheck]") {
  for (GanObjective objective : all_objectives) {
    const double smoothing = objective == GanObjective::bce ? 0.1 : 0.0;
    auto g = tiny_generator(1), d = tiny_discriminator(2);
    GanTrainer<double> trainer(*g, *d,
                               {.latent = 3,
                                .objective = objective,
                                .label_smoothing = smoothing,
                                .clip = 10.0,
                                .fixed_samples = 4});
    Tensor<double> real = random_input(7, 5, 3);
    trainer.step(real);
    const Tensor<double> z = trainer.noise();

    // D's gradient at its parameters before the update, on real and G(z) with G before its update.
    auto g0 = tiny_generator(1), d0 = tiny_discriminator(2);
    const Tensor<double> fake = g0->forward(z);
    auto d_loss = [&] {
      return gan_loss(objective, GanTerm::d_real, d0->forward(real), nullptr, smoothing) +
             gan_loss(objective, GanTerm::d_fake, d0->forward(fake));
    };
    const auto dp = d->params(), dp0 = d0->params();
    for (std::size_t i = 0; i < dp.size(); ++i) {
      INFO(to_string(objective) << " D parameter " << dp[i]->name);
      CHECK(gradient_error(dp[i]->grad, numeric_gradient(d_loss, dp0[i]->value)) < 1e-6);
    }
    // G's gradient at its parameters before the update, through the updated D.
    auto g_loss = [&] { return gan_loss(objective, GanTerm::g, d->forward(g0->forward(z))); };
    const auto gp = g->params(), gp0 = g0->params();
    for (std::size_t i = 0; i < gp.size(); ++i) {
      INFO(to_string(objective) << " G parameter " << gp[i]->name);
      CHECK(gradient_error(gp[i]->grad, numeric_gradient(g_loss, gp0[i]->value)) < 1e-6);
    }
  }
}

TEST_CASE("the G step leaves D's gradients exactly as the D step left them", "[gan]") {
  for (GanObjective objective : all_objectives) {
    // Same seeds: one trainer takes a G step after its D step, the other does not (yet).
    auto g1 = tiny_generator(1), d1 = tiny_discriminator(2);
    auto g2 = tiny_generator(1), d2 = tiny_discriminator(2);
    const GanOptions with_g{.latent = 3, .objective = objective, .d_steps = 1};
    GanOptions without_g = with_g;
    without_g.d_steps = 1000;
    GanTrainer<double> a(*g1, *d1, with_g), b(*g2, *d2, without_g);
    const Tensor<double> real = random_input(6, 5, 4);
    const auto sa = a.step(real);
    const auto sb = b.step(real);
    INFO(to_string(objective));
    CHECK(sa.g_step);
    CHECK(!sb.g_step);
    CHECK(sa.d_loss == sb.d_loss);
    const auto ga = grads_of(*d1), gb = grads_of(*d2);
    for (std::size_t i = 0; i < ga.size(); ++i) CHECK(ga[i] == gb[i]);
    for (Param<double>* p : g1->params()) CHECK(!p->grad.isZero(0.0));
    for (Param<double>* p : g2->params()) CHECK(p->grad.isZero(0.0));
    // D's flags are back to a D step's after the G step.
    CHECK(d1->needs_param_grads());
    CHECK(!d1->needs_input_grad());
  }
}

TEST_CASE("GanTrainer: D steps per G step, weight clipping, fixed noise", "[gan]") {
  auto g = tiny_generator(1), d = tiny_discriminator(2);
  GanTrainer<double> trainer(*g, *d,
                             {.latent = 3,
                              .objective = GanObjective::wasserstein,
                              .d_steps = 3,
                              .clip = 0.05,
                              .fixed_samples = 8});
  const Tensor<double> real = random_input(6, 5, 4);
  for (int i = 0; i < 7; ++i) trainer.step(real);
  CHECK(trainer.discriminator_optimizer().steps() == 7);
  CHECK(trainer.generator_optimizer().steps() == 2);
  CHECK(trainer.step_count() == 7);
  for (Param<double>* p : d->params()) CHECK(p->value.cwiseAbs().maxCoeff() <= 0.05);
  const Tensor<double> a = trainer.sample_fixed(), b = trainer.sample_fixed();
  CHECK(a.rows() == 8);
  CHECK(a == b);
  CHECK(trainer.fixed_noise().rows() == 8);
}

TEST_CASE("GanTrainer errors name the flag or the shapes", "[gan]") {
  auto g = tiny_generator(1), d = tiny_discriminator(2);
  REQUIRE_THROWS_WITH(GanTrainer<double>(*g, *d, {.latent = 3, .d_steps = 0}),
                      Catch::Contains("d_steps"));
  REQUIRE_THROWS_WITH(
      GanTrainer<double>(*g, *d,
                         {.latent = 3, .objective = GanObjective::hinge, .label_smoothing = 0.1}),
      Catch::Contains("label_smoothing") && Catch::Contains("hinge"));
  REQUIRE_THROWS_WITH(
      GanTrainer<double>(*g, *d, {.latent = 3, .objective = GanObjective::wasserstein, .clip = 0}),
      Catch::Contains("clip"));
  GanTrainer<double> trainer(*g, *d, {.latent = 3});
  REQUIRE_THROWS_WITH(trainer.step(Tensor<double>::Zero(4, 6)),
                      Catch::Contains("generator output") && Catch::Contains("[4 x 6]"));
  // A D with two outputs.
  Rng rng(0);
  Sequential<double> d2;
  d2.emplace<Dense<double>>("fc", 5, 2, rng);
  GanTrainer<double> bad(*g, d2, {.latent = 3});
  REQUIRE_THROWS_WITH(bad.step(Tensor<double>::Zero(4, 5)), Catch::Contains("[4 x 2]"));
}

TEST_CASE("cGAN: labels reach G and D, fixed labels give one grid row per class", "[gan]") {
  Rng rng(0);
  auto g = make_mlp_generator<float>(8, 20, rng, 10);
  auto d = make_mlp_discriminator<float>(20, rng, 10);
  CganTrainer<float> trainer(*g, *d, {.latent = 8, .fixed_samples = 100});
  CHECK(trainer.conditional());
  CHECK(trainer.fixed_labels()[0] == 0);
  CHECK(trainer.fixed_labels()[9] == 0);
  CHECK(trainer.fixed_labels()[10] == 1);
  CHECK(trainer.fixed_labels()[99] == 9);
  Tensor<float> real(6, 20);
  rng.fill_uniform(real, -1.0, 1.0);
  const std::vector<int> labels = {0, 1, 2, 3, 4, 9};
  trainer.step(real, labels);
  CHECK(conditioning_layer(*g).labels() == trainer.fake_labels());
  REQUIRE_THROWS_WITH(trainer.step(real), Catch::Contains("needs the labels"));
  const std::vector<int> short_labels = {0, 1};
  REQUIRE_THROWS_WITH(trainer.step(real, short_labels), Catch::Contains("one label per row"));
  const std::vector<int> bad = {0, 1, 2, 3, 4, 10};
  REQUIRE_THROWS_WITH(trainer.step(real, bad), Catch::Contains("label 10"));
  const Tensor<float> grid = trainer.sample_fixed();
  CHECK(grid.rows() == 100);
  CHECK(grid.cols() == 20);
  CHECK(grid.cwiseAbs().maxCoeff() <= 1.0f);
  REQUIRE_THROWS_AS(conditioning_layer(*g, 1), ArgumentError);
}

TEST_CASE("cGAN: fake labels drawn with the given class frequencies", "[gan]") {
  Rng rng(0);
  auto g = make_mlp_generator<float>(8, 20, rng, 4);
  auto d = make_mlp_discriminator<float>(20, rng, 4);
  Tensor<float> real(200, 20);
  rng.fill_uniform(real, -1.0, 1.0);
  const std::vector<int> labels(200, 0);
  auto histogram = [&](const GanOptions& o, int steps) {
    CganTrainer<float> trainer(*g, *d, o);
    std::vector<int> h(4, 0);
    for (int s = 0; s < steps; ++s) {
      trainer.step(real, labels);
      for (int l : trainer.fake_labels()) ++h[static_cast<std::size_t>(l)];
    }
    return h;
  };
  // 1 : 0 : 3 : 6 over 2,000 labels: class 1 never, the others near 200, 600 and 1,200.
  const std::vector<int> h = histogram({.latent = 8, .class_frequencies = {1, 0, 3, 6}}, 10);
  CHECK(h[1] == 0);
  CHECK(h[0] + h[1] + h[2] + h[3] == 2000);
  CHECK(std::abs(h[0] - 200) < 60);
  CHECK(std::abs(h[2] - 600) < 90);
  CHECK(std::abs(h[3] - 1200) < 100);
  // Equal frequencies draw exactly the uniform labels of no frequencies at all.
  CHECK(histogram({.latent = 8, .class_frequencies = {5, 5, 5, 5}}, 3) ==
        histogram({.latent = 8}, 3));
  // A data set's class counts.
  Dataset<float> data;
  data.num_classes = 3;
  data.labels = {2, 0, 2, 2};
  CHECK(class_counts(data) == std::vector<double>{1, 0, 3});
  data.labels.push_back(3);
  REQUIRE_THROWS_WITH(class_counts(data), Catch::Contains("label 3"));
  // Bad frequencies are refused at construction, naming the option.
  for (const std::vector<double>& bad :
       {std::vector<double>{1, 2, 3}, std::vector<double>{1, -1, 1, 1},
        std::vector<double>{0, 0, 0, 0}, std::vector<double>{1, 1, std::nan(""), 1}}) {
    REQUIRE_THROWS_WITH(CganTrainer<float>(*g, *d, {.latent = 8, .class_frequencies = bad}),
                        Catch::Contains("class_frequencies"));
  }
  auto plain_g = make_mlp_generator<float>(8, 20, rng);
  auto plain_d = make_mlp_discriminator<float>(20, rng);
  REQUIRE_THROWS_WITH(
      GanTrainer<float>(*plain_g, *plain_d, {.latent = 8, .class_frequencies = {1}}),
      Catch::Contains("conditional"));
}

TEST_CASE("MLP GAN and cGAN on a few dozen Fashion-MNIST images stay finite", "[gan][slow]") {
  const std::string dir = AIGC_FASHION_MNIST_DIR;
  if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz")) {
    FAIL("Fashion-MNIST not found in " << dir << " (install Debian's dataset-fashion-mnist)");
  }
  auto data = load_mnist_format<float>(dir, Split::test, PixelScale::symmetric);
  data.images.conservativeResize(48, Eigen::NoChange);
  data.labels.resize(48);
  for (GanObjective objective : all_objectives) {
    for (int classes : {0, 10}) {
      if (classes && (objective == GanObjective::lsgan || objective == GanObjective::hinge))
        continue;
      Rng init(0);
      auto g = make_mlp_generator<float>(64, 784, init, classes);
      auto d = make_mlp_discriminator<float>(784, init, classes);
      const GanOptions options{.objective = objective};
      auto trainer = classes ? std::make_unique<CganTrainer<float>>(*g, *d, options)
                             : std::make_unique<GanTrainer<float>>(*g, *d, options);
      BatchLoader<float> loader(data, {.batch_size = 16, .seed = 0});
      INFO(to_string(objective) << ", " << classes << " classes");
      for (int e = 0; e < 2; ++e) {
        const auto s = trainer->train_epoch(loader);
        CHECK(s.samples == 48);
        CHECK(s.d_steps == 3);
        CHECK(s.g_steps == 3);
        CHECK(std::isfinite(s.d_loss));
        CHECK(std::isfinite(s.g_loss));
        CHECK(std::isfinite(s.d_real));
        CHECK(std::isfinite(s.d_fake));
      }
      const Tensor<float> samples = trainer->sample_fixed();
      CHECK(samples.allFinite());
      CHECK(samples.cwiseAbs().maxCoeff() <= 1.0f);
      for (Param<float>* p : g->params()) CHECK(p->value.allFinite());
      for (Param<float>* p : d->params()) CHECK(p->value.allFinite());
    }
  }
}
