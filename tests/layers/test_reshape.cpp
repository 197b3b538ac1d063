#include <aigc/layers/dense.hpp>
#include <aigc/layers/reshape.hpp>
#include <aigc/layers/sequential.hpp>
#include <aigc/testing/gradcheck.hpp>
#include <catch2/catch.hpp>

using namespace aigc;

TEST_CASE("Reshape and Flatten pass rows through, checking the size", "[reshape]") {
  Reshape<double> r({3, 2, 2});
  r.set_name("g.view");
  CHECK(r.features() == 12);
  const Tensor<double> x = random_input(2, 12, 1);
  CHECK(&r.forward(x) == &x);
  CHECK(&r.backward(x) == &x);
  REQUIRE_THROWS_AS(r.forward(Tensor<double>::Zero(2, 10)), ShapeError);
  REQUIRE_THROWS_WITH(r.forward(Tensor<double>::Zero(2, 10)), Catch::Contains("g.view") &&
                                                                  Catch::Contains("{3, 2, 2}") &&
                                                                  Catch::Contains("[2 x 10]"));
  REQUIRE_THROWS_AS(Reshape<double>({3, 0}), ArgumentError);
  Flatten<double> f;
  CHECK(&f.forward(x) == &x);
}

TEST_CASE("Reshape inside Sequential keeps the gradients", "[reshape][gradcheck]") {
  Rng rng(1);
  Sequential<double> net;
  net.emplace<Dense<double>>("fc", 5, 12, rng);
  net.emplace<Reshape<double>>("view", std::vector<Index>{3, 2, 2});
  net.emplace<Flatten<double>>("flat");
  net.emplace<Dense<double>>("out", 12, 2, rng);
  const auto res = check_module_gradients(net, random_input(3, 5, 2));
  CHECK(res.input_error < 1e-6);
  CHECK(res.max_param_error < 1e-6);
}
