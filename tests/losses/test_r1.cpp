// The R1 penalty's tapeless weight gradient against finite differences of the penalty in double.
#include <aigc/layers/batchnorm.hpp>
#include <aigc/layers/conv2d.hpp>
#include <aigc/layers/dense.hpp>
#include <aigc/layers/sequential.hpp>
#include <aigc/losses/r1.hpp>
#include <aigc/testing/gradcheck.hpp>
#include <catch2/catch.hpp>

using namespace aigc;

namespace {

// R = gamma / 2 * mean_i |grad_x sum_j D(x_j)|_i^2 by one backward.
double r1_value(Sequential<double>& d, const Tensor<double>& x, double gamma) {
  d.set_needs_input_grad(true);
  d.set_needs_param_grads(false);
  const Tensor<double>& y = d.forward(x);
  const Tensor<double> ones = Tensor<double>::Ones(y.rows(), y.cols());
  const Tensor<double> g = d.backward(ones);
  return 0.5 * gamma * g.squaredNorm() / static_cast<double>(x.rows());
}

void check_r1(Sequential<double>& d, const Tensor<double>& x) {
  const double gamma = 3.0;
  R1Workspace<double> w;
  d.zero_grad();
  const double r = r1_penalty(d, x, gamma, w, 1e-5);
  CHECK(r == Approx(r1_value(d, x, gamma)).epsilon(1e-12));
  std::vector<Tensor<double>> analytic;
  for (Param<double>* p : d.params()) analytic.push_back(p->grad);
  double scale = 0.0;
  for (const Tensor<double>& a : analytic) scale = std::max(scale, a.cwiseAbs().maxCoeff());
  REQUIRE(scale > 0.0);
  // Element by element: |a - n| <= 1e-6 (max(|a|, |n|) + 1e-2 max|grad|); the last layer's
  // bias has no effect on grad_x D, so both are (near) 0 there.
  for (std::size_t i = 0; i < analytic.size(); ++i) {
    Param<double>& p = *d.params()[i];
    const Tensor<double> numeric = numeric_gradient([&] { return r1_value(d, x, gamma); }, p.value);
    INFO(p.name);
    const Tensor<double>& a = analytic[i];
    const Tensor<double> bound =
        1e-6 * (a.cwiseAbs().cwiseMax(numeric.cwiseAbs()).array() + 1e-2 * scale).matrix();
    CHECK(((a - numeric).cwiseAbs() - bound).maxCoeff() <= 0.0);
  }
}

}  // namespace

TEST_CASE("R1: the tapeless weight gradient matches finite differences of the penalty (MLP)",
          "[r1][gradcheck]") {
  Rng rng(1);
  Sequential<double> d;
  d.set_name("d");
  d.emplace<Dense<double>>("fc1", 6, 8, rng, DenseOptions{.activation = Activation::tanh});
  d.emplace<Dense<double>>("fc2", 8, 5, rng, DenseOptions{.activation = Activation::sigmoid});
  d.emplace<Dense<double>>("fc3", 5, 1, rng);
  check_r1(d, random_input(4, 6, 2));
}

TEST_CASE("R1: conv and BatchNorm D; the running statistics are restored", "[r1][gradcheck]") {
  Rng rng(3);
  Sequential<double> d;
  d.set_name("d");
  d.emplace<Conv2d<double>>(
      "conv1", 1, 3, 3, 5, 5, rng,
      Conv2dOptions{.stride = 2, .padding = 1, .activation = Activation::tanh});
  d.emplace<BatchNorm2d<double>>("bn", 3);
  d.emplace<Dense<double>>("fc", 27, 1, rng);
  const Tensor<double> x = random_input(4, 25, 4);
  d.forward(x);  // running statistics away from their start
  const Tensor<double> mean = d.buffers()[0]->value;
  R1Workspace<double> w;
  r1_penalty(d, x, 1.0, w);
  CHECK(d.buffers()[0]->value == mean);
  CHECK(d.needs_input_grad());
  check_r1(d, x);
}
