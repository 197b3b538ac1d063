#include <aigc/layers/dense.hpp>
#include <aigc/layers/module_tree.hpp>
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
