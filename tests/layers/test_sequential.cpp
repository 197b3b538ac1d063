#include <aigc/layers/activation.hpp>
#include <aigc/layers/dense.hpp>
#include <aigc/layers/reshape.hpp>
#include <aigc/layers/sequential.hpp>
#include <catch2/catch.hpp>

#include "support/gradcheck.hpp"

using namespace aigc;

TEST_CASE("Sequential names parameters by path", "[sequential]") {
  Rng rng(1);
  Sequential<float> net;
  net.emplace<Dense<float>>("fc1", 4, 3, rng);
  net.emplace<ReLU<float>>("act");
  net.emplace<Dense<float>>("fc2", 3, 2, rng, DenseOptions{.bias = false});
  net.set_name("encoder");
  const auto p = net.params();
  REQUIRE(p.size() == 3);
  CHECK(p[0]->name == "encoder.fc1.weight");
  CHECK(p[1]->name == "encoder.fc1.bias");
  CHECK(p[2]->name == "encoder.fc2.weight");
}

TEST_CASE("Sequential gradients match finite differences", "[sequential][gradcheck]") {
  Rng rng(2);
  Sequential<double> net;
  net.emplace<Dense<double>>("fc1", 6, 5, rng, DenseOptions{.activation = Activation::tanh});
  net.emplace<LeakyReLU<double>>("act", 0.1);
  net.emplace<Dense<double>>("fc2", 5, 3, rng);
  net.emplace<Sigmoid<double>>("out");
  const auto r = test::check_module_gradients(net, test::random_input(4, 6, 3));
  CHECK(r.input_error < 1e-6);
  CHECK(r.max_param_error < 1e-6);
}

TEST_CASE("Sequential shape errors name the layer", "[sequential]") {
  Rng rng(2);
  Sequential<float> net;
  REQUIRE_THROWS_AS(net.forward(Tensor<float>::Zero(1, 1)), ArgumentError);
  net.emplace<Dense<float>>("fc1", 6, 5, rng);
  net.emplace<Dense<float>>("fc2", 4, 3, rng);
  net.set_name("decoder");
  REQUIRE_THROWS_WITH(net.forward(Tensor<float>::Zero(2, 6)), Catch::Contains("decoder.fc2") &&
                                                                   Catch::Contains("[2 x 5]"));
}

TEST_CASE("Sequential passes needs_param_grads to every child, also to ones added later",
          "[sequential]") {
  Rng rng(2);
  Sequential<float> net;
  auto& fc1 = net.emplace<Dense<float>>("fc1", 6, 5, rng);
  net.set_needs_param_grads(false);
  auto& fc2 = net.emplace<Dense<float>>("fc2", 5, 3, rng);
  CHECK(!fc1.needs_param_grads());
  CHECK(!fc2.needs_param_grads());
  net.zero_grad();
  net.forward(Tensor<float>::Ones(2, 6));
  const Tensor<float>& dx = net.backward(Tensor<float>::Ones(2, 3));
  CHECK(dx.rows() == 2);
  CHECK(dx.cwiseAbs().sum() > 0.0f);
  for (Param<float>* p : net.params()) CHECK(p->grad.isZero(0.0f));
  net.set_needs_param_grads(true);
  CHECK(fc1.needs_param_grads());
  net.backward(Tensor<float>::Ones(2, 3));
  CHECK(!fc1.weight().grad.isZero(0.0f));
}

TEST_CASE("Sequential: only children fed by a previous child keep a pointer to their input",
          "[sequential]") {
  // A reshape (which returns its input) first: the first Dense is fed the caller's tensor, which
  // the caller overwrites between forward and backward; the gradients must not see that.
  auto build = [](Rng& rng) {
    auto net = std::make_unique<Sequential<double>>();
    net->emplace<Flatten<double>>("flat");
    net->emplace<Dense<double>>("fc1", 6, 5, rng, DenseOptions{.activation = Activation::tanh});
    net->emplace<Dense<double>>("fc2", 5, 3, rng);
    return net;
  };
  Rng r1(3), r2(3), data(4);
  auto a = build(r1), b = build(r2);
  Tensor<double> x(4, 6), dy(4, 3);
  data.fill_uniform(x, -1.0, 1.0);
  data.fill_uniform(dy, -1.0, 1.0);
  const Tensor<double> x0 = x;
  a->forward(x);
  x.setConstant(7.0);  // the caller reuses its buffer before backward
  const Tensor<double> dxa = a->backward(dy);
  b->forward(x0);
  const Tensor<double> dxb = b->backward(dy);
  CHECK(dxa == dxb);
  const auto pa = a->params(), pb = b->params();
  for (std::size_t i = 0; i < pa.size(); ++i) CHECK(pa[i]->grad == pb[i]->grad);
  CHECK(!(*a)[1].input_stable());  // fed the caller's x (through the flatten)
  CHECK((*a)[2].input_stable());   // fed fc1's output
  // A container whose caller promises a stable input passes the promise to its first children.
  a->set_input_stable(true);
  a->forward(x0);
  CHECK((*a)[1].input_stable());
}
