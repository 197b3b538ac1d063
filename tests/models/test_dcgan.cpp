#include <aigc/models/dcgan.hpp>
#include <aigc/models/gan.hpp>
#include <catch2/catch.hpp>
#include <cmath>

using namespace aigc;

TEST_CASE("DCGAN builders: shapes, names and initialisation", "[dcgan]") {
  Rng rng(0);
  auto g = make_dcgan_generator<float>(100, rng);
  auto d = make_dcgan_discriminator<float>(rng);
  Tensor<float> z(3, 100);
  rng.fill_normal(z);
  const Tensor<float>& x = g->forward(z);
  CHECK(x.rows() == 3);
  CHECK(x.cols() == 28 * 28);
  CHECK(x.cwiseAbs().maxCoeff() <= 1.0f);
  CHECK(d->forward(x).cols() == 1);
  CHECK(d->forward(x).rows() == 3);
  bool seen_bn = false;
  for (Param<float>* p : g->params()) {
    if (p->name == "generator.bn1.weight") {
      seen_bn = true;
      CHECK(std::abs(p->value.mean() - 1.0f) < 0.01f);
    }
    if (p->name == "generator.conv2.weight") {
      const double sd = std::sqrt(p->value.array().square().mean());
      CHECK(sd == Approx(0.02).epsilon(0.05));
    }
  }
  CHECK(seen_bn);
}

TEST_CASE("DCGAN discriminators without BatchNorm: no BN layers, each image's logit its own",
          "[dcgan]") {
  // In training mode a D with BatchNorm scores an image against its batch (the statistics are
  // the batch's); without, the first two images score the same alone and in a batch of five.
  auto batch_dependence = [](Sequential<float>& d, Index in) {
    Rng data(3);
    Tensor<float> x(5, in);
    data.fill_uniform(x, -1.0, 1.0);
    d.set_training(true);
    const Tensor<float> all = d.forward(x);
    const Tensor<float> two = d.forward(Tensor<float>(x.topRows(2)));
    return (all.topRows(2) - two).cwiseAbs().maxCoeff();
  };
  auto bn_params = [](Sequential<float>& d) {  // weights and shifts of the BatchNorm layers
    int n = 0;
    for (const Param<float>* p : d.params()) n += p->name.find(".bn") != std::string::npos;
    return n;
  };
  for (const bool colour : {false, true}) {
    Rng rng(0);
    auto with = colour ? make_dcgan_discriminator<float>(3, 16, rng, 4)
                       : make_dcgan_discriminator<float>(rng, 8);
    auto without = colour ? make_dcgan_discriminator<float>(3, 16, rng, 4, false)
                          : make_dcgan_discriminator<float>(rng, 8, false);
    const Index in = colour ? 3 * 16 * 16 : 28 * 28;
    CHECK(bn_params(*with) == (colour ? 2 : 4));
    CHECK(bn_params(*without) == 0);
    CHECK(batch_dependence(*with, in) > 1e-3f);
    CHECK(batch_dependence(*without, in) <= 1e-6f);
  }
}

TEST_CASE("Conditional DCGANs: the label into G's code and D's channels, a cGAN step",
          "[dcgan][gan]") {
  for (const bool colour : {false, true}) {
    Rng rng(0);
    const DcganOptions o{.features = 4, .num_classes = 3};
    auto g = colour ? make_dcgan_generator<float>(6, 3, 16, rng, o)
                    : make_dcgan_generator<float>(6, rng, o);
    auto d = colour ? make_dcgan_discriminator<float>(3, 16, rng, o)
                    : make_dcgan_discriminator<float>(rng, o);
    const Index image = colour ? 3 * 16 * 16 : 28 * 28;
    REQUIRE(conditioning_layers(*g).size() == 1);
    REQUIRE(conditioning_layers(*d).size() == 1);
    // The label changes G's image for the same z and D's logit for the same image: one batch of
    // two equal rows with two labels (in training mode BatchNorm takes the batch's mean away, so a
    // label shared by the whole batch would not show).
    Tensor<float> z(2, 6);
    rng.fill_normal(z);
    z.row(1) = z.row(0);
    conditioning_layers(*g)[0]->set_labels({0, 2});
    const Tensor<float> x = g->forward(z);
    REQUIRE(x.cols() == image);
    CHECK((x.row(0) - x.row(1)).cwiseAbs().maxCoeff() > 1e-3f);
    Tensor<float> same(2, image);
    same.row(0) = x.row(0);
    same.row(1) = x.row(0);
    conditioning_layers(*d)[0]->set_labels({0, 1});
    const Tensor<float> logits = d->forward(same);
    REQUIRE(logits.cols() == 1);
    CHECK(std::abs(logits(0, 0) - logits(1, 0)) > 1e-6f);
    // First convolutions: G's takes z and the one-hot code, D's the image's and the code's
    // channels (4 x (C + 3) x 4 x 4 weights).
    for (Param<float>* p : d->params()) {
      if (p->name == "discriminator.conv1.weight")
        CHECK(p->value.size() == 4 * ((colour ? 3 : 1) + 3) * 16);
    }
    // A cGAN step moves both networks.
    CganTrainer<float> trainer(*g, *d, {.latent = 6, .fixed_samples = 3});
    const Tensor<float> g_before = g->params().front()->value;
    Tensor<float> real(4, image);
    rng.fill_uniform(real, -1.0, 1.0);
    const auto s = trainer.step(real, {0, 1, 2, 1});
    CHECK(std::isfinite(s.d_loss));
    CHECK(g->params().front()->value != g_before);
  }
  Rng rng(1);
  REQUIRE_THROWS_WITH(make_dcgan_generator<float>(6, rng, DcganOptions{.num_classes = -1}),
                      Catch::Contains("num_classes"));
}

TEST_CASE("DCGAN: the G step leaves D's gradients (conv, BatchNorm) as the D step left them",
          "[dcgan][gan]") {
  auto run = [](int d_steps, std::vector<Tensor<float>>& d_grads, double& g_grad_norm) {
    Rng rng(0);
    auto g = make_dcgan_generator<float>(16, rng);
    auto d = make_dcgan_discriminator<float>(rng);
    GanTrainer<float> trainer(*g, *d, {.latent = 16, .d_steps = d_steps, .fixed_samples = 4});
    Tensor<float> real(4, 784);
    rng.fill_uniform(real, -1.0, 1.0);
    const auto s = trainer.step(real);
    CHECK(std::isfinite(s.d_loss));
    for (Param<float>* p : d->params()) d_grads.push_back(p->grad);
    g_grad_norm = 0;
    for (Param<float>* p : g->params()) g_grad_norm += p->grad.squaredNorm();
  };
  std::vector<Tensor<float>> with_g, without_g;
  double g_with = 0, g_without = 0;
  run(1, with_g, g_with);
  run(100, without_g, g_without);
  REQUIRE(with_g.size() == without_g.size());
  for (std::size_t i = 0; i < with_g.size(); ++i) CHECK(with_g[i] == without_g[i]);
  CHECK(g_with > 0.0);
  CHECK(g_without == 0.0);
}

TEST_CASE("DCGAN of PyTorch's example: 64x64 and 32x32 shapes, layers and a training step",
          "[dcgan]") {
  Rng rng(1);
  auto g = make_dcgan_generator<float>(100, 3, 64, rng);
  auto d = make_dcgan_discriminator<float>(3, 64, rng);
  // PyTorch's netG at 64: five transposed convolutions 100 -> 512 -> 256 -> 128 -> 64 -> 3, no
  // bias; netD: 3 -> 64 -> 128 -> 256 -> 512 -> 1.
  std::vector<std::string> g_weights, d_weights;
  Index g_count = 0, d_count = 0;
  for (Param<float>* p : g->params()) {
    g_count += p->value.size();
    if (p->name.find(".conv") != std::string::npos) g_weights.push_back(p->name);
    CHECK((p->name.find("bias") == std::string::npos || p->name.find(".bn") != std::string::npos));
  }
  for (Param<float>* p : d->params()) {
    d_count += p->value.size();
    if (p->name.find(".conv") != std::string::npos) d_weights.push_back(p->name);
  }
  CHECK(g_weights.size() == 5);
  CHECK(d_weights.size() == 5);
  // PyTorch's parameter counts for nz 100, ngf = ndf = 64, nc 3.
  CHECK(g_count == 3576704);
  CHECK(d_count == 2765568);
  Tensor<float> z(2, 100);
  rng.fill_normal(z);
  const Tensor<float>& x = g->forward(z);
  CHECK(x.cols() == 3 * 64 * 64);
  CHECK(x.cwiseAbs().maxCoeff() <= 1.0f);
  CHECK(d->forward(x).cols() == 1);
  CHECK(
      make_dcgan_generator<float>(16, 1, 32, rng, 8)->forward(Tensor<float>::Zero(2, 16)).cols() ==
      32 * 32);
  REQUIRE_THROWS_WITH(make_dcgan_generator<float>(100, 3, 48, rng),
                      Catch::Contains("image size must be 16, 32, 64 or 128, got 48"));
  REQUIRE_THROWS_WITH(make_dcgan_discriminator<float>(3, 28, rng),
                      Catch::Contains("make_dcgan_discriminator: image size must be"));
  // A training step at 3x32x32 (narrow, to stay quick) moves both networks.
  auto g32 = make_dcgan_generator<float>(8, 3, 32, rng, 8);
  auto d32 = make_dcgan_discriminator<float>(3, 32, rng, 8);
  GanTrainer<float> trainer(*g32, *d32, {.latent = 8, .fixed_samples = 4});
  const Tensor<float> g_before = g32->params().front()->value;
  const Tensor<float> d_before = d32->params().front()->value;
  Tensor<float> real(4, 3 * 32 * 32);
  rng.fill_uniform(real, -1.0, 1.0);
  const auto s = trainer.step(real);
  CHECK(std::isfinite(s.d_loss));
  CHECK(std::isfinite(s.g_loss));
  CHECK(g32->params().front()->value != g_before);
  CHECK(d32->params().front()->value != d_before);
}

TEST_CASE(
    "An eval pass at another batch size between forward and backward leaves the backward "
    "as it was (each mode keeps its own buffers)",
    "[dcgan]") {
  // G and D of the 16x16 DCGAN (transposed convolutions, BatchNorm, ReLU, tanh, convolutions,
  // LeakyReLU, sigmoid) and a conditional MLP G (conditioning, dense layers). Each net twice, from
  // one seed: `a` runs an eval-mode pass at batch 7 between its training forward and backward at
  // batch 4, `b` does not. Before the buffers were kept per mode, a's backward saw the eval
  // pass's outputs (a shape error); now both give the same dX and gradients, bit for bit.
  // `labels(net, rows)` sets a conditional net's labels before each forward.
  auto check = [](auto make, Index in, auto labels) {
    Rng ra(5), rb(5), data(6);
    auto a = make(ra);
    auto b = make(rb);
    Tensor<float> x4(4, in), x7(7, in), dy;
    data.fill_normal(x4);
    data.fill_normal(x7);
    labels(*a, 4);
    const Tensor<float> ya = a->forward(x4);
    a->set_training(false);
    labels(*a, 7);
    const Tensor<float> y7 = a->forward(x7);
    a->set_training(true);
    dy = Tensor<float>::Constant(ya.rows(), ya.cols(), 0.01f);
    a->zero_grad();
    b->zero_grad();
    a->set_needs_input_grad(true);
    b->set_needs_input_grad(true);
    const Tensor<float> dxa = a->backward(dy);
    labels(*b, 4);
    CHECK(b->forward(x4) == ya);
    const Tensor<float> dxb = b->backward(dy);
    CHECK(dxa == dxb);
    const auto pa = a->params(), pb = b->params();
    REQUIRE(pa.size() == pb.size());
    for (std::size_t i = 0; i < pa.size(); ++i) CHECK(pa[i]->grad == pb[i]->grad);
    // And the eval pass itself is what a fresh eval pass gives.
    b->set_training(false);
    labels(*b, 7);
    CHECK(b->forward(x7) == y7);
  };
  auto none = [](Sequential<float>&, Index) {};
  check([](Rng& r) { return make_dcgan_generator<float>(8, 3, 16, r, 4); }, 8, none);
  check([](Rng& r) { return make_dcgan_discriminator<float>(3, 16, r, 4); }, 3 * 16 * 16, none);
  check([](Rng& r) { return make_mlp_generator<float>(6, 12, r, 3); }, 6,
        [](Sequential<float>& g, Index rows) {
          std::vector<int> labels(static_cast<std::size_t>(rows));
          for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<int>(i * 7 % 3);
          if (rows == 7) labels[0] = 2;  // the eval pass's labels differ from the training pass's
          dynamic_cast<Conditioning<float>&>(g[0]).set_labels(labels);
        });
}

TEST_CASE(
    "Conditional DCGAN with EMA: G's BatchNorm statistics recomputed over every class's codes, "
    "the samples of the labels asked for",
    "[dcgan][gan][ema]") {
  Rng rng(2);
  auto g = make_dcgan_generator<float>(6, rng, DcganOptions{.features = 4, .num_classes = 3});
  auto d = make_dcgan_discriminator<float>(rng, DcganOptions{.features = 4, .num_classes = 3});
  CganTrainer<float> trainer(
      *g, *d, {.latent = 6, .fixed_samples = 3, .ema = true, .ema_batchnorm_codes = 9});
  Tensor<float> real(4, 784);
  for (int i = 0; i < 3; ++i) {
    rng.fill_uniform(real, -1.0, 1.0);
    trainer.step(real, {0, 1, 2, 1});
  }
  // The first sampling after the steps recomputes the statistics (over codes of every class),
  // then draws with the labels given, not those of the statistics' last batch: one z, classes 0
  // and 2, as G alone draws them with the recomputed statistics in place.
  Tensor<float> z(2, 6);
  rng.fill_normal(z);
  z.row(1) = z.row(0);
  const Tensor<float> x = trainer.generate(z, {0, 2});
  const Tensor<float> expect = trainer.with_sampling_weights([&] {
    conditioning_layers(*g)[0]->set_labels({0, 2});
    g->set_training(false);
    Tensor<float> out = g->forward(z);
    g->set_training(true);
    return out;
  });
  BatchNorm<float>* bn = nullptr;
  for_each_module<float>(*g, [&](Module<float>& m) {
    if (!bn) bn = dynamic_cast<BatchNorm<float>*>(&m);
  });
  REQUIRE(bn != nullptr);
  const Tensor<float> averaged =
      trainer.ema()->with_average([&] { return Tensor<float>(bn->running_mean().value); });
  const Tensor<float> inside =
      trainer.with_sampling_weights([&] { return Tensor<float>(bn->running_mean().value); });
  CHECK(inside != averaged);
  CHECK(x == expect);
  CHECK((x.row(0) - x.row(1)).cwiseAbs().maxCoeff() > 1e-4f);
}
