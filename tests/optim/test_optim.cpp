#include <aigc/optim/adam.hpp>
#include <aigc/optim/sgd.hpp>
#include <catch2/catch.hpp>
#include <cmath>

using namespace aigc;

// Hand-computed values follow torch.optim's documented update rules, step by step.

TEST_CASE("SGD with momentum matches torch.optim.SGD", "[optim]") {
  Param<float> p("w", 1, 2);
  p.value << 1.0f, -2.0f;
  Sgd<float> sgd({&p}, {.lr = 0.1, .momentum = 0.9});
  p.grad << 0.5f, 1.0f;
  sgd.step();  // buf = g; p = p - lr * g
  CHECK(p.value(0, 0) == Approx(0.95f));
  CHECK(p.value(0, 1) == Approx(-2.1f));
  p.grad << 0.5f, 1.0f;
  sgd.step();  // buf = 0.9 * g + g = 1.9 g; p -= 0.1 * 1.9 g
  CHECK(p.value(0, 0) == Approx(0.95f - 0.095f));
  CHECK(p.value(0, 1) == Approx(-2.1f - 0.19f));
}

TEST_CASE("SGD with weight decay and nesterov", "[optim]") {
  Param<double> p("w", 1, 1);
  p.value << 2.0;
  Sgd<double> sgd({&p}, {.lr = 0.5, .momentum = 0.5, .weight_decay = 0.1, .nesterov = true});
  p.grad << 1.0;
  sgd.step();  // g = 1 + 0.2 = 1.2; buf = 1.2; g = 1.2 + 0.5 * 1.2 = 1.8; p = 2 - 0.9
  CHECK(p.value(0, 0) == Approx(1.1).epsilon(1e-12));
  REQUIRE_THROWS_AS(Sgd<double>({&p}, {.lr = -1.0}), ArgumentError);
}

TEST_CASE("Adam matches torch.optim.Adam on hand-computed steps", "[optim]") {
  Param<double> p("w", 1, 1);
  p.value << 1.0;
  Adam<double> adam({&p}, {.lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8});
  // Step 1, g = 2: m = 0.2, v = 0.004; m_hat = 2, v_hat = 4; p = 1 - 0.1 * 2 / (2 + 1e-8).
  p.grad << 2.0;
  adam.step();
  const double p1 = 1.0 - 0.1 * 2.0 / (2.0 + 1e-8);
  CHECK(p.value(0, 0) == Approx(p1).epsilon(1e-12));
  // Step 2, g = -1: m = 0.18 - 0.1 = 0.08, v = 0.003996 + 0.001 = 0.004996.
  p.grad << -1.0;
  adam.step();
  const double m = 0.08, v = 0.004996;
  const double expected =
      p1 - 0.1 / (1 - 0.81) * m / (std::sqrt(v) / std::sqrt(1 - 0.998001) + 1e-8);
  CHECK(p.value(0, 0) == Approx(expected).epsilon(1e-12));
  CHECK(adam.steps() == 2);
}

TEST_CASE("AdamW decays weights decoupled from the gradient", "[optim]") {
  Param<float> p("w", 1, 1);
  p.value << 1.0f;
  Adam<float> adamw({&p}, {.lr = 0.1, .weight_decay = 0.5, .decoupled_weight_decay = true});
  p.grad << 0.0f;
  adamw.step();  // m = v = 0: p = 1 * (1 - 0.05) - 0
  CHECK(p.value(0, 0) == Approx(0.95f));
}

TEST_CASE("Adam in float agrees with double to float rounding", "[optim]") {
  Param<float> pf("w", 1, 3);
  Param<double> pd("w", 1, 3);
  pf.value << 0.5f, -0.25f, 2.0f;
  pd.value = pf.value.cast<double>();
  Adam<float> af({&pf});
  Adam<double> ad({&pd});
  for (int s = 0; s < 20; ++s) {
    pf.grad << 0.3f * s, -1.0f, 0.01f;
    pd.grad = pf.grad.cast<double>();
    af.step();
    ad.step();
  }
  for (Index i = 0; i < 3; ++i) CHECK(pf.value(0, i) == Approx(pd.value(0, i)).epsilon(1e-6));
}

TEST_CASE("clip_grad_norm scales to the maximum norm", "[optim]") {
  Param<float> a("a", 1, 2), b("b", 1, 1);
  a.grad << 3.0f, 0.0f;
  b.grad << 4.0f;
  const double n = clip_grad_norm<float>({&a, &b}, 1.0);
  CHECK(n == Approx(5.0));
  CHECK(a.grad(0, 0) == Approx(0.6f).epsilon(1e-5));
  CHECK(b.grad(0, 0) == Approx(0.8f).epsilon(1e-5));
}
