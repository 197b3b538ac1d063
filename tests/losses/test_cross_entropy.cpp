#include <aigc/losses/cross_entropy.hpp>
#include <aigc/testing/gradcheck.hpp>
#include <catch2/catch.hpp>
#include <cmath>

using namespace aigc;

TEST_CASE("cross_entropy matches the naive formula and is stable", "[cross_entropy]") {
  Tensor<double> z(2, 3);
  z << 1.0, 2.0, 0.5, -1.0, 0.0, 3.0;
  const std::vector<int> y = {1, 0};
  double naive = 0;
  for (Index r = 0; r < 2; ++r) {
    const double s = std::exp(z(r, 0)) + std::exp(z(r, 1)) + std::exp(z(r, 2));
    naive += -std::log(std::exp(z(r, y[static_cast<std::size_t>(r)])) / s);
  }
  CHECK(cross_entropy(z, y, Reduction::sum) == Approx(naive).epsilon(1e-12));
  CHECK(cross_entropy(z, y, Reduction::mean) == Approx(naive / 2).epsilon(1e-12));
  Tensor<float> big(1, 2);
  big << 1000.f, -1000.f;
  Tensor<float> d;
  CHECK(cross_entropy(big, {1}, Reduction::sum, &d) == Approx(2000.0));
  CHECK(d(0, 0) == Approx(1.0f));
  CHECK(d(0, 1) == Approx(-1.0f));
  REQUIRE_THROWS_WITH(cross_entropy(z, {0, 3}, Reduction::sum),
                      Catch::Contains("label 3 at index 1"));
  REQUIRE_THROWS_AS(cross_entropy(z, {0}, Reduction::sum), ShapeError);
}

TEST_CASE("cross_entropy gradient matches finite differences", "[cross_entropy][gradcheck]") {
  for (Reduction red : {Reduction::sum, Reduction::mean}) {
    Tensor<double> z = random_input(5, 7, 11);
    const std::vector<int> y = {0, 6, 3, 3, 1};
    Tensor<double> d;
    cross_entropy(z, y, red, &d);
    const auto num = numeric_gradient([&] { return cross_entropy(z, y, red); }, z);
    CHECK(relative_error(d, num) < 1e-6);
  }
}
