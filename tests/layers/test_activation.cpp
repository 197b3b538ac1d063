#include <aigc/layers/activation.hpp>
#include <aigc/testing/gradcheck.hpp>
#include <catch2/catch.hpp>
#include <cmath>

using namespace aigc;

TEST_CASE("Activation forwards match their formulas", "[activation]") {
  Tensor<double> x(1, 4);
  x << -2.0, -0.5, 0.5, 3.0;
  ReLU<double> relu;
  LeakyReLU<double> leaky(0.2);
  Sigmoid<double> sig;
  Tanh<double> th;
  for (Index i = 0; i < 4; ++i) {
    const double v = x(0, i);
    CHECK(relu.forward(x)(0, i) == std::max(v, 0.0));
    CHECK(leaky.forward(x)(0, i) == Approx(v > 0 ? v : 0.2 * v));
    CHECK(sig.forward(x)(0, i) == Approx(1 / (1 + std::exp(-v))));
    CHECK(th.forward(x)(0, i) == Approx(std::tanh(v)));
  }
}

TEST_CASE("Activation gradients match finite differences", "[activation][gradcheck]") {
  ReLU<double> relu;
  LeakyReLU<double> leaky(0.2);
  Sigmoid<double> sig;
  Tanh<double> th;
  Module<double>* mods[] = {&relu, &leaky, &sig, &th};
  for (Module<double>* m : mods) {
    const auto r = check_module_gradients(*m, random_input(3, 11, 4));
    CHECK(r.input_error < 1e-6);
  }
}

TEST_CASE("LeakyReLU rejects a non-positive slope", "[activation]") {
  REQUIRE_THROWS_AS(LeakyReLU<float>(0.0), ArgumentError);
}
