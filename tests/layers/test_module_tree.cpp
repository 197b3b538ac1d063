#include <aigc/layers/batchnorm.hpp>
#include <aigc/layers/dense.hpp>
#include <aigc/layers/dropout.hpp>
#include <aigc/layers/module_tree.hpp>
#include <aigc/layers/spectral_norm.hpp>
#include <catch2/catch.hpp>

using namespace aigc;

namespace {

// A custom layer that forgets to name its parameter after itself: every instance calls it "w".
struct ModuleTreeForgetful : Module<float> {
  Param<float> w{"w", 1, 2};
  const Tensor<float>& forward(const Tensor<float>& x) override { return x; }
  const Tensor<float>& backward(const Tensor<float>& dy) override { return dy; }
  std::vector<Param<float>*> params() override { return {&w}; }
};

}  // namespace

TEST_CASE("for_each_module visits every module, containers before their children",
          "[module_tree]") {
  Rng rng(1);
  Sequential<float> net;
  net.set_name("net");
  net.emplace<Dense<float>>("fc1", 2, 3, rng);
  auto& inner = net.add("inner", std::make_unique<Sequential<float>>());
  inner.emplace<Dense<float>>("fc2", 3, 3, rng);
  net.emplace<Dense<float>>("fc3", 3, 1, rng);
  std::vector<std::string> names;
  for_each_module<float>(net, [&](Module<float>& m) { names.push_back(m.name()); });
  CHECK(names ==
        std::vector<std::string>{"net", "net.fc1", "net.inner", "net.inner.fc2", "net.fc3"});
  CHECK_NOTHROW(check_unique_names<float>(net));
}

TEST_CASE("check_unique_names names both layers that share a parameter name", "[module_tree]") {
  Rng rng(1);
  Sequential<float> net;
  net.set_name("net");
  net.emplace<Dense<float>>("fc1", 2, 2, rng);
  net.add("a", std::make_unique<ModuleTreeForgetful>());
  net.add("b", std::make_unique<ModuleTreeForgetful>());
  CHECK_THROWS_AS(check_unique_names<float>(net), ArgumentError);
  CHECK_THROWS_WITH(check_unique_names<float>(net),
                    Catch::Contains("two parameters are named 'w'") &&
                        Catch::Contains("layer 'net.a'") && Catch::Contains("layer 'net.b'") &&
                        Catch::Contains("set_name"));
  // Sequential itself refuses a second child of one name.
  CHECK_THROWS_WITH(net.add("a", std::make_unique<ModuleTreeForgetful>()),
                    Catch::Contains("a layer named 'a' is already in the chain"));
}

TEST_CASE(
    "update_batchnorm: the running statistics become the mean of the batches' statistics; the "
    "other buffers, the generators, the momentum and the mode are as before",
    "[module_tree][batchnorm]") {
  Rng rng(4);
  Sequential<double> net;
  net.set_name("net");
  auto& fc = net.emplace<Dense<double>>("fc", 4, 3, rng);
  auto& bn = net.emplace<BatchNorm1d<double>>("bn", 3, BatchNormOptions{.momentum = 0.3});
  auto& drop = net.emplace<Dropout<double>>("drop", 0.5, 9);
  net.emplace<Dense<double>>("out", 3, 2, rng);
  REQUIRE(apply_spectral_norm<double>(net) == 2);  // fc and out: their u and v are buffers
  std::vector<Tensor<double>> batches;
  for (int k = 0; k < 5; ++k) {
    Tensor<double> x(6, 4);
    rng.fill_normal(x);
    batches.push_back(x);
  }
  net.set_training(false);
  const std::vector<Buffer<double>*> buffers = net.buffers();
  std::vector<Tensor<double>> before;
  for (const Buffer<double>* b : buffers) before.push_back(b->value);
  const Rng drop_before = drop.rng();

  // What the layer sees: fc's output of each batch (with the weights as they are).
  Tensor<double> mean = Tensor<double>::Zero(1, 3), var = Tensor<double>::Zero(1, 3);
  for (const Tensor<double>& x : batches) {
    const Tensor<double> h = fc.forward(x);
    for (Index c = 0; c < 3; ++c) {
      const double m = h.col(c).mean();
      mean(0, c) += m / 5.0;
      var(0, c) += (h.col(c).array() - m).square().sum() / 5.0 / 5.0;  // unbiased over 6 rows
    }
  }
  update_batchnorm<double>(net, 5,
                           [&](Index k) { net.forward(batches[static_cast<std::size_t>(k)]); });
  CHECK((bn.running_mean().value - mean).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((bn.running_var().value - var).cwiseAbs().maxCoeff() < 1e-12);
  for (std::size_t i = 0; i < buffers.size(); ++i) {
    if (buffers[i] == &bn.running_mean() || buffers[i] == &bn.running_var()) continue;
    CHECK(buffers[i]->value == before[i]);
  }
  CHECK(bn.options().momentum == 0.3);
  CHECK(!net.training());
  Rng after = drop.rng();
  Rng expect = drop_before;
  CHECK(after.next_u64() == expect.next_u64());
  REQUIRE_THROWS_WITH(bn.set_momentum(1.5), Catch::Contains("momentum must be in [0, 1]"));
}
