#include <aigc/layers/dropout.hpp>
#include <aigc/testing/gradcheck.hpp>
#include <catch2/catch.hpp>

using namespace aigc;

TEST_CASE("Dropout zeroes a fraction p and scales the rest by 1/(1-p)", "[dropout]") {
  Dropout<float> drop(0.3, 11);
  Tensor<float> x = Tensor<float>::Constant(100, 101, 2.0f);
  const Tensor<float> y = drop.forward(x);
  Index zeros = 0;
  for (Index i = 0; i < y.size(); ++i) {
    const float v = y.data()[i];
    if (v == 0.0f) {
      ++zeros;
    } else {
      REQUIRE(v == Approx(2.0 / 0.7).epsilon(1e-6));
    }
  }
  const double frac = static_cast<double>(zeros) / static_cast<double>(y.size());
  CHECK(frac == Approx(0.3).margin(0.02));  // 10100 draws: sd ~0.005
  // the backward uses the same mask
  const Tensor<float> dy = Tensor<float>::Constant(100, 101, 1.0f);
  const Tensor<float> dx = drop.backward(dy);
  CHECK((dx.array() == (y.array() / 2.0f)).all());
  // a new mask per call, the same sequence for the same seed
  const Tensor<float> y2 = drop.forward(x);
  CHECK((y2.array() != y.array()).any());
  Dropout<float> again(0.3, 11);
  CHECK((again.forward(x).array() == y.array()).all());
}

TEST_CASE("Dropout is the identity in eval mode and for p = 0", "[dropout][gradcheck]") {
  Dropout<double> drop(0.5, 1);
  drop.set_training(false);
  const Tensor<double> x = random_input(3, 7, 1);
  CHECK((drop.forward(x).array() == x.array()).all());
  const auto r = check_module_gradients(drop, x);
  CHECK(r.input_error < 1e-6);
  Dropout<double> none(0.0, 1);
  CHECK((none.forward(x).array() == x.array()).all());
  REQUIRE_THROWS_AS(Dropout<float>(1.0), ArgumentError);
  REQUIRE_THROWS_AS(Dropout<float>(-0.1), ArgumentError);
}
