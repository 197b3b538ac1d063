#include <aigc/core/config.hpp>
#include <aigc/kernels/partition.hpp>
#include <aigc/layers/activation.hpp>
#include <aigc/layers/batchnorm.hpp>
#include <aigc/layers/sequential.hpp>
#include <aigc/testing/gradcheck.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>

using namespace aigc;

namespace {

// y by the definition, with the batch's statistics (train) per channel of batch x C*S.
Tensor<double> naive_batchnorm(const Tensor<double>& x, Index C, const Tensor<double>& gamma,
                               const Tensor<double>& beta, double eps, std::vector<double>& mean,
                               std::vector<double>& var) {
  const Index S = x.cols() / C, count = x.rows() * S;
  Tensor<double> y(x.rows(), x.cols());
  mean.assign(static_cast<std::size_t>(C), 0.0);
  var.assign(static_cast<std::size_t>(C), 0.0);
  for (Index c = 0; c < C; ++c) {
    double m = 0, v = 0;
    for (Index n = 0; n < x.rows(); ++n)
      for (Index s = 0; s < S; ++s) m += x(n, c * S + s);
    m /= count;
    for (Index n = 0; n < x.rows(); ++n)
      for (Index s = 0; s < S; ++s) v += (x(n, c * S + s) - m) * (x(n, c * S + s) - m);
    v /= count;
    for (Index n = 0; n < x.rows(); ++n)
      for (Index s = 0; s < S; ++s)
        y(n, c * S + s) = gamma(0, c) * (x(n, c * S + s) - m) / std::sqrt(v + eps) + beta(0, c);
    mean[static_cast<std::size_t>(c)] = m;
    var[static_cast<std::size_t>(c)] = v;
  }
  return y;
}

}  // namespace

TEST_CASE("BatchNorm forward and running statistics match hand-computed values", "[batchnorm]") {
  // (channels, positions): BatchNorm1d over 7 and 17 features (tails of the vectors), 2d over
  // 3 channels of 7x7 and 1 channel of 4x4.
  const std::pair<Index, Index> cases[] = {{7, 1}, {17, 1}, {3, 49}, {1, 16}, {33, 1}};
  for (auto [C, S] : cases) {
    INFO("channels " << C << " positions " << S);
    std::unique_ptr<BatchNorm<double>> bn;
    if (S == 1) {
      bn = std::make_unique<BatchNorm1d<double>>(C);
    } else {
      bn = std::make_unique<BatchNorm2d<double>>(C);
    }
    Rng rng(2);
    rng.fill_uniform(bn->weight().value, 0.5, 1.5);
    rng.fill_uniform(bn->bias().value, -1.0, 1.0);
    const Index batch = 5;
    Tensor<double> x = random_input(batch, C * S, 3);
    x.array() = 2.0 * x.array() + 0.7;
    std::vector<double> mean, var;
    const Tensor<double> ref =
        naive_batchnorm(x, C, bn->weight().value, bn->bias().value, 1e-5, mean, var);
    const Tensor<double> y = bn->forward(x);
    CHECK(relative_error(y, ref) < 1e-13);
    // two updates: running = 0.9 running + 0.1 stat, variance unbiased (count / (count - 1))
    bn->forward(x);
    const double count = static_cast<double>(batch * S), unbias = count / (count - 1);
    for (Index c = 0; c < C; ++c) {
      const double m = mean[static_cast<std::size_t>(c)], v = var[static_cast<std::size_t>(c)];
      const double rm = 0.9 * (0.9 * 0.0 + 0.1 * m) + 0.1 * m;
      const double rv = 0.9 * (0.9 * 1.0 + 0.1 * v * unbias) + 0.1 * v * unbias;
      CHECK(bn->running_mean().value(0, c) == Approx(rm).epsilon(1e-13));
      CHECK(bn->running_var().value(0, c) == Approx(rv).epsilon(1e-13));
    }
    // eval: the running statistics, no update
    bn->set_training(false);
    const Tensor<double> ye = bn->forward(x);
    for (Index n = 0; n < batch; ++n)
      for (Index c = 0; c < C; ++c)
        for (Index s = 0; s < S; ++s) {
          const double z = (x(n, c * S + s) - bn->running_mean().value(0, c)) /
                               std::sqrt(bn->running_var().value(0, c) + 1e-5) *
                               bn->weight().value(0, c) +
                           bn->bias().value(0, c);
          REQUIRE(ye(n, c * S + s) == Approx(z).epsilon(1e-13).margin(1e-13));
        }
    const Tensor<double> rm_before = bn->running_mean().value;
    bn->forward(x);
    CHECK((bn->running_mean().value.array() == rm_before.array()).all());
  }
}

TEST_CASE("BatchNorm gradients match finite differences (train and eval)",
          "[batchnorm][gradcheck]") {
  for (bool training : {true, false}) {
    for (bool affine : {true, false}) {
      INFO("training " << training << " affine " << affine);
      BatchNorm1d<double> bn1(7, {.affine = affine});
      BatchNorm2d<double> bn2(3, {.affine = affine});
      Rng rng(4);
      if (affine) {
        rng.fill_uniform(bn1.weight().value, 0.5, 1.5);
        rng.fill_uniform(bn1.bias().value, -1.0, 1.0);
        rng.fill_uniform(bn2.weight().value, 0.5, 1.5);
        rng.fill_uniform(bn2.bias().value, -1.0, 1.0);
      }
      rng.fill_uniform(bn1.running_var().value, 0.5, 2.0);
      rng.fill_uniform(bn2.running_var().value, 0.5, 2.0);
      bn1.set_training(training);
      bn2.set_training(training);
      const auto r1 = check_module_gradients(bn1, random_input(5, 7, 5));
      CHECK(r1.input_error < 1e-6);
      CHECK(r1.max_param_error < 1e-6);
      const auto r2 = check_module_gradients(bn2, random_input(4, 3 * 10, 6));
      CHECK(r2.input_error < 1e-6);
      CHECK(r2.max_param_error < 1e-6);
    }
  }
}

TEST_CASE("BatchNorm exposes named running statistics through Sequential", "[batchnorm]") {
  Sequential<float> g;
  g.emplace<BatchNorm2d<float>>("bn1", 4);
  g.emplace<BatchNorm1d<float>>("bn2", 8);
  g.set_name("generator");
  const auto b = g.buffers();
  REQUIRE(b.size() == 4);
  CHECK(b[0]->name == "generator.bn1.running_mean");
  CHECK(b[1]->name == "generator.bn1.running_var");
  CHECK(b[3]->name == "generator.bn2.running_var");
  CHECK((b[1]->value.array() == 1.0f).all());
  const auto p = g.params();
  REQUIRE(p.size() == 4);
  CHECK(p[0]->name == "generator.bn1.weight");
  CHECK(p[1]->name == "generator.bn1.bias");
}

TEST_CASE("BatchNorm errors name the layer and the shapes", "[batchnorm]") {
  BatchNorm2d<float> bn(3);
  bn.set_name("d.bn2");
  REQUIRE_THROWS_WITH(bn.forward(Tensor<float>::Zero(2, 10)),
                      Catch::Contains("d.bn2") && Catch::Contains("[2 x 10]"));
  BatchNorm1d<float> bn1(4);
  REQUIRE_THROWS_AS(bn1.forward(Tensor<float>::Zero(2, 5)), ShapeError);
  REQUIRE_THROWS_AS(bn1.forward(Tensor<float>::Zero(1, 4)), ArgumentError);  // one value each
  REQUIRE_THROWS_AS(BatchNorm1d<float>(0), ArgumentError);
}

TEST_CASE("BatchNorm is bitwise the same for 1, 2 and 3 threads", "[batchnorm]") {
  std::vector<Tensor<float>> outs;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    for (Index S : {1, 49}) {
      BatchNorm2d<float> bn(S == 1 ? 300 : 64);
      Tensor<float> x(64, S == 1 ? 300 : 64 * 49), dy(x.rows(), x.cols());
      Rng rng(7);
      rng.fill_normal(x);
      rng.fill_normal(dy);
      outs.push_back(bn.forward(x));
      outs.push_back(bn.backward(dy));
      outs.push_back(bn.weight().grad);
      outs.push_back(bn.running_var().value);
    }
  }
  set_num_threads(0);
  const std::size_t per = outs.size() / 3;
  for (std::size_t i = 0; i < per; ++i) {
    CHECK((outs[i].array() == outs[per + i].array()).all());
    CHECK((outs[i].array() == outs[2 * per + i].array()).all());
  }
}

namespace {

// BatchNorm with `act` fused against BatchNorm then the activation layer: forward, input and
// parameter gradients bitwise equal, in train and eval mode.
template <class BN>
void check_fused_activation(Activation act, Index channels, Index cols, std::uint64_t seed) {
  const double slope = 0.2;
  Sequential<float> plain;
  BN& a = plain.emplace<BN>("bn", channels);
  plain.emplace<ActivationLayer<float>>("act", act, slope);
  BN b(channels, {.activation = act, .negative_slope = slope});
  Rng rng(seed);
  rng.fill_uniform(a.weight().value, 0.5, 1.5);
  rng.fill_uniform(a.bias().value, -0.5, 0.5);
  rng.fill_uniform(a.running_mean().value, -0.5, 0.5);
  rng.fill_uniform(a.running_var().value, 0.5, 2.0);
  b.weight().value = a.weight().value;
  b.bias().value = a.bias().value;
  b.running_mean().value = a.running_mean().value;
  b.running_var().value = a.running_var().value;
  Tensor<float> x(6, cols), dy(6, cols);
  rng.fill_normal(x);
  rng.fill_normal(dy);
  for (bool training : {true, false}) {
    INFO("activation " << activation_name(act) << " training " << training << " cols " << cols);
    plain.set_training(training);
    b.set_training(training);
    a.weight().grad.setZero();
    a.bias().grad.setZero();
    b.weight().grad.setZero();
    b.bias().grad.setZero();
    const Tensor<float> y_plain = plain.forward(x);
    CHECK(b.forward(x) == y_plain);
    const Tensor<float> dx_plain = plain.backward(dy);
    CHECK(b.backward(dy) == dx_plain);
    CHECK(b.weight().grad == a.weight().grad);
    CHECK(b.bias().grad == a.bias().grad);
    CHECK(b.running_mean().value == a.running_mean().value);
    CHECK(b.running_var().value == a.running_var().value);
  }
}

}  // namespace

TEST_CASE("BatchNorm with a fused activation equals BatchNorm then the activation bitwise",
          "[batchnorm]") {
  for (Activation act : {Activation::relu, Activation::leaky_relu, Activation::identity}) {
    check_fused_activation<BatchNorm1d<float>>(act, 37, 37, 1);
    check_fused_activation<BatchNorm2d<float>>(act, 3, 3 * 21, 2);  // partial vectors
    check_fused_activation<BatchNorm2d<float>>(act, 4, 4 * 64, 3);  // whole vectors
  }
}

TEST_CASE("BatchNorm with a fused activation: gradients, model-file options and errors",
          "[batchnorm][gradcheck]") {
  for (Activation act : {Activation::leaky_relu, Activation::relu}) {
    for (bool training : {true, false}) {
      INFO("activation " << activation_name(act) << " training " << training);
      BatchNorm2d<double> bn(3, {.activation = act, .negative_slope = 0.3});
      Rng rng(5);
      rng.fill_uniform(bn.weight().value, 0.5, 1.5);
      rng.fill_uniform(bn.bias().value, -1.0, 1.0);
      rng.fill_uniform(bn.running_var().value, 0.5, 2.0);
      bn.set_training(training);
      const auto r = check_module_gradients(bn, random_input(4, 3 * 10, 6));
      CHECK(r.input_error < 1e-6);
      CHECK(r.max_param_error < 1e-6);
    }
  }
  BatchNorm2d<float> leaky(8, {.activation = Activation::leaky_relu, .negative_slope = 0.2});
  Config c;
  leaky.write_config(c);
  const auto back = BatchNorm2d<float>::from_config(c);
  CHECK(back->options().activation == Activation::leaky_relu);
  CHECK(back->options().negative_slope == 0.2);
  Config plain_config;
  BatchNorm2d<float>(8).write_config(plain_config);
  CHECK_FALSE(plain_config.contains("activation"));  // plain BatchNorm's files as before
  CHECK(BatchNorm2d<float>::from_config(plain_config)->options().activation ==
        Activation::identity);
  CHECK_THROWS_WITH(
      BatchNorm2d<float>(8, {.activation = Activation::leaky_relu, .negative_slope = 0.0}),
      Catch::Contains("negative_slope must be > 0"));
  CHECK_THROWS_WITH(BatchNorm2d<float>(8, {.activation = Activation::tanh}),
                    Catch::Contains("must be identity, relu or leaky_relu, got tanh"));
}

TEST_CASE("BatchNorm recomputes xhat from an input that stays with the bits it would have stored",
          "[batchnorm]") {
  // A BatchNorm whose input stays until its backward (input_stable, as in a Sequential after the
  // first layer) keeps a pointer to it and recomputes xhat in the backward passes; one whose input
  // may change stores xhat. Both give the same outputs and gradients bitwise, in train mode, in
  // eval mode, and in train mode again after an eval forward in between (the per-mode state).
  struct Case {
    Index channels, cols;
    Activation act;
  };
  for (const Case& c : {Case{37, 37, Activation::identity}, Case{3, 3 * 21, Activation::relu},
                        Case{4, 4 * 64, Activation::leaky_relu}}) {
    INFO("channels " << c.channels << " cols " << c.cols);
    const auto make = [&]() -> std::unique_ptr<BatchNorm<float>> {
      const BatchNormOptions o{.activation = c.act, .negative_slope = 0.2};
      if (c.channels == c.cols) return std::make_unique<BatchNorm1d<float>>(c.channels, o);
      return std::make_unique<BatchNorm2d<float>>(c.channels, o);
    };
    const auto stored = make(), recomputed = make();
    recomputed->set_input_stable(true);
    Rng rng(11);
    for (BatchNorm<float>* bn : {stored.get(), recomputed.get()}) {
      Rng init(5);
      init.fill_uniform(bn->weight().value, 0.5, 1.5);
      init.fill_uniform(bn->bias().value, -0.5, 0.5);
    }
    Tensor<float> x(6, c.cols), x_eval(5, c.cols), dy(6, c.cols), dy_eval(5, c.cols);
    rng.fill_normal(x);
    rng.fill_normal(x_eval);
    rng.fill_normal(dy);
    rng.fill_normal(dy_eval);
    const auto same = [&](const char* what) {
      INFO(what);
      CHECK(stored->weight().grad == recomputed->weight().grad);
      CHECK(stored->bias().grad == recomputed->bias().grad);
    };
    // Train.
    CHECK(stored->forward(x) == recomputed->forward(x));
    CHECK(stored->backward(dy) == recomputed->backward(dy));
    same("train");
    // Train forward, then an eval forward and backward, then the train backward.
    CHECK(stored->forward(x) == recomputed->forward(x));
    stored->set_training(false);
    recomputed->set_training(false);
    CHECK(stored->forward(x_eval) == recomputed->forward(x_eval));
    CHECK(stored->backward(dy_eval) == recomputed->backward(dy_eval));
    same("eval");
    stored->set_training(true);
    recomputed->set_training(true);
    CHECK(stored->backward(dy) == recomputed->backward(dy));
    same("train after eval");
    // Eval forward, then a train forward (which moves the running statistics), then the eval
    // backward: xhat is that of the eval forward's statistics.
    stored->set_training(false);
    recomputed->set_training(false);
    CHECK(stored->forward(x_eval) == recomputed->forward(x_eval));
    stored->set_training(true);
    recomputed->set_training(true);
    CHECK(stored->forward(x) == recomputed->forward(x));
    stored->set_training(false);
    recomputed->set_training(false);
    CHECK(stored->backward(dy_eval) == recomputed->backward(dy_eval));
    same("eval backward after a train forward");
    stored->set_training(true);
    recomputed->set_training(true);
    // The recomputing layer does read its input in the backward: changed in between (which the
    // promise of input_stable rules out), its input gradient changes.
    Tensor<float> x_changed = x;
    stored->forward(x);
    recomputed->forward(x_changed);
    x_changed.array() += 1.0f;
    CHECK_FALSE(stored->backward(dy) == recomputed->backward(dy));
  }
}
