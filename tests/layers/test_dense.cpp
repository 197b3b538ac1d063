#include <aigc/layers/dense.hpp>
#include <aigc/testing/gradcheck.hpp>
#include <catch2/catch.hpp>

using namespace aigc;

TEST_CASE("Dense forward matches a naive loop", "[dense]") {
  Rng rng(1);
  Dense<double> fc(7, 5, rng, {.activation = Activation::identity});
  const Tensor<double> x = random_input(3, 7, 2);
  const Tensor<double>& y = fc.forward(x);
  REQUIRE(y.rows() == 3);
  REQUIRE(y.cols() == 5);
  for (Index b = 0; b < 3; ++b) {
    for (Index o = 0; o < 5; ++o) {
      double s = fc.bias().value(0, o);
      for (Index i = 0; i < 7; ++i) s += x(b, i) * fc.weight().value(o, i);
      CHECK(y(b, o) == Approx(s).epsilon(1e-12));
    }
  }
}

TEST_CASE("Dense initialisation follows torch.nn.Linear's bounds", "[dense]") {
  Rng rng(3);
  Dense<float> fc(100, 50, rng);
  const float bound = 1.0f / 10.0f;
  CHECK(fc.weight().value.maxCoeff() <= bound);
  CHECK(fc.weight().value.minCoeff() >= -bound);
  CHECK(fc.weight().value.maxCoeff() > 0.9f * bound);
  CHECK(fc.bias().value.cols() == 50);
}

TEST_CASE("Dense gradients match finite differences", "[dense][gradcheck]") {
  const Activation acts[] = {Activation::identity, Activation::relu, Activation::leaky_relu,
                             Activation::sigmoid, Activation::tanh};
  for (Activation act : acts) {
    for (bool bias : {true, false}) {
      Rng rng(5);
      Dense<double> fc(7, 5, rng, {.bias = bias, .activation = act, .negative_slope = 0.2});
      const auto r = check_module_gradients(fc, random_input(4, 7, 9));
      INFO("activation " << static_cast<int>(act) << " bias " << bias);
      CHECK(r.input_error < 1e-6);
      CHECK(r.max_param_error < 1e-6);
    }
  }
}

TEST_CASE("Dense gradients accumulate over backward calls", "[dense]") {
  Rng rng(5);
  Dense<double> fc(3, 2, rng);
  const Tensor<double> x = random_input(2, 3, 1);
  const Tensor<double> dy = random_input(2, 2, 2);
  fc.zero_grad();
  fc.forward(x);
  fc.backward(dy);
  const Tensor<double> once = fc.weight().grad;
  fc.forward(x);
  fc.backward(dy);
  CHECK(relative_error(fc.weight().grad, 2 * once) < 1e-14);
}

TEST_CASE("Dense rejects a wrong input shape, naming both shapes", "[dense]") {
  Rng rng(5);
  Dense<float> fc(784, 400, rng);
  fc.set_name("encoder.fc1");
  Tensor<float> x(2, 100);
  x.setZero();
  REQUIRE_THROWS_AS(fc.forward(x), ShapeError);
  REQUIRE_THROWS_WITH(fc.forward(x), Catch::Contains("encoder.fc1") && Catch::Contains("784") &&
                                         Catch::Contains("[2 x 100]"));
  REQUIRE_THROWS_AS(Dense<float>(0, 3, rng), ArgumentError);
}

TEST_CASE("Dense skips dX when not needed", "[dense]") {
  Rng rng(5);
  Dense<double> fc(3, 2, rng);
  fc.set_needs_input_grad(false);
  fc.forward(random_input(2, 3, 1));
  CHECK(fc.backward(random_input(2, 2, 2)).size() == 0);
  CHECK(fc.weight().grad.norm() > 0);
}

TEST_CASE("Dense with needs_param_grads off leaves the gradients alone and still gives dX",
          "[dense]") {
  Rng rng(5);
  Dense<double> fc(6, 4, rng, {.activation = Activation::leaky_relu, .negative_slope = 0.2});
  const Tensor<double> x = random_input(3, 6, 1);
  const Tensor<double> dy = random_input(3, 4, 2);
  fc.forward(x);
  fc.weight().grad.setConstant(0.5);
  fc.bias().grad.setConstant(-0.25);
  const Tensor<double> dx_full = fc.backward(dy);
  fc.weight().grad.setConstant(0.5);
  fc.bias().grad.setConstant(-0.25);
  fc.set_needs_param_grads(false);
  const Tensor<double> dx_only = fc.backward(dy);
  CHECK(dx_only == dx_full);
  CHECK((fc.weight().grad.array() == 0.5).all());
  CHECK((fc.bias().grad.array() == -0.25).all());
}
