// Learning-rate schedules: warm-up, linear and cosine decay as factors of the base rate, followed
// by Adam and SGD; the constant schedule changes nothing.
#include <aigc/optim/adam.hpp>
#include <aigc/optim/schedule.hpp>
#include <aigc/optim/sgd.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>

using namespace aigc;

TEST_CASE("LR schedules: warm-up, linear and cosine factors", "[optim][schedule]") {
  const LrSchedule constant{};
  CHECK(constant.is_constant());
  CHECK(lr_factor(constant, 0) == 1.0);
  CHECK(lr_factor(constant, 1000000) == 1.0);

  const LrSchedule warm{.warmup_steps = 4};
  CHECK(lr_factor(warm, 0) == 0.25);
  CHECK(lr_factor(warm, 2) == 0.75);
  CHECK(lr_factor(warm, 3) == 1.0);
  CHECK(lr_factor(warm, 50) == 1.0);

  const LrSchedule linear{.decay = LrDecay::linear, .total_steps = 10, .final_factor = 0.1};
  CHECK(lr_factor(linear, 0) == 1.0);
  CHECK(lr_factor(linear, 5) == Approx(0.55));
  CHECK(lr_factor(linear, 10) == Approx(0.1));
  CHECK(lr_factor(linear, 20) == Approx(0.1));

  const LrSchedule cosine{.decay = LrDecay::cosine, .warmup_steps = 2, .total_steps = 12};
  CHECK(lr_factor(cosine, 0) == 0.5);
  CHECK(lr_factor(cosine, 2) == Approx(1.0));
  CHECK(lr_factor(cosine, 7) == Approx(0.5));
  CHECK(lr_factor(cosine, 4) == Approx(0.5 * (1 + std::cos(std::numbers::pi * 0.2))));
  CHECK(lr_factor(cosine, 12) == Approx(0.0).margin(1e-15));

  REQUIRE_THROWS_WITH(check_schedule({.decay = LrDecay::cosine}, "x"),
                      Catch::Contains("needs total steps"));
  REQUIRE_THROWS_WITH(parse_lr_decay("step"), Catch::Contains("'step'"));
  CHECK(parse_lr_decay("cosine") == LrDecay::cosine);
}

TEST_CASE("LR schedules: Adam and SGD follow the schedule; constant is bitwise the plain rate",
          "[optim][schedule]") {
  Param<double> a("a", 1, 1), b("b", 1, 1);
  a.value << 1.0;
  b.value << 1.0;
  Adam<double> plain({&a}, {.lr = 0.1}), warm({&b}, {.lr = 0.1});
  warm.set_schedule({.warmup_steps = 2});
  CHECK(warm.current_lr() == 0.05);
  a.grad << 1.0;
  b.grad << 1.0;
  plain.step();
  warm.step();
  // Adam's first step moves by lr (m_hat / sqrt(v_hat) = 1): half the rate, half the step.
  CHECK(1.0 - b.value(0, 0) == Approx((1.0 - a.value(0, 0)) / 2));
  CHECK(warm.current_lr() == 0.1);

  Param<float> p("p", 1, 3), q("q", 1, 3);
  p.value << 1, 2, 3;
  q.value = p.value;
  Sgd<float> s1({&p}, {.lr = 0.1, .momentum = 0.9}), s2({&q}, {.lr = 0.1, .momentum = 0.9});
  s2.set_schedule({});
  for (int i = 0; i < 5; ++i) {
    p.grad << 0.1f, -0.2f, 0.3f;
    q.grad = p.grad;
    s1.step();
    s2.step();
  }
  CHECK(p.value == q.value);
  Param<double> r("r", 1, 1);
  r.value << 0.0;
  Sgd<double> lin({&r}, {.lr = 1.0});
  lin.set_schedule({.decay = LrDecay::linear, .total_steps = 4});
  for (int i = 0; i < 6; ++i) {
    r.grad << -1.0;
    lin.step();
  }
  CHECK(r.value(0, 0) == Approx(1.0 + 0.75 + 0.5 + 0.25));
}
