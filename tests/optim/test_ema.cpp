// The exponential moving average of a module's weights: its formula, its warm-up, the swap, and
// its state.
#include <aigc/layers/batchnorm.hpp>
#include <aigc/layers/dense.hpp>
#include <aigc/layers/sequential.hpp>
#include <aigc/optim/ema.hpp>
#include <catch2/catch.hpp>

using namespace aigc;

namespace {

std::unique_ptr<Sequential<float>> small_net(std::uint64_t seed) {
  Rng rng(seed);
  auto net = std::make_unique<Sequential<float>>();
  net->set_name("net");
  net->emplace<Dense<float>>("fc", 5, 3, rng);
  net->emplace<BatchNorm1d<float>>("bn", 3);
  return net;
}

}  // namespace

TEST_CASE("EMA: avg = d avg + (1 - d) value, with the warm-up decay min(d, (1 + n) / (10 + n))",
          "[ema]") {
  auto net = small_net(1);
  ExponentialMovingAverage<float> ema(*net, {.decay = 0.9});
  Param<float>& w = *net->params()[0];
  Tensor<float> expect = w.value;
  Rng rng(2);
  for (int n = 0; n < 30; ++n) {
    const double d = std::min(0.9, (1.0 + n) / (10.0 + n));
    CHECK(ema.decay() == Approx(d));
    rng.fill_normal(w.value);
    expect = (expect.array() + (w.value - expect).array() * static_cast<float>(1 - d)).matrix();
    ema.update();
  }
  CHECK(ema.updates() == 30);
  const Tensor<float> raw = w.value;
  ema.swap();
  CHECK(ema.swapped());
  CHECK((w.value - expect).cwiseAbs().maxCoeff() < 1e-6f);
  ema.swap();
  CHECK(w.value == raw);

  ExponentialMovingAverage<float> plain(*net, {.decay = 0.5, .warmup = false});
  CHECK(plain.decay() == 0.5);
  REQUIRE_THROWS_WITH(ExponentialMovingAverage<float>(*net, {.decay = 1.0}),
                      Catch::Contains("decay must be in [0, 1)"));
}

TEST_CASE(
    "EMA: BatchNorm's running statistics are averaged too; with_average swaps back on a throw",
    "[ema]") {
  auto net = small_net(3);
  ExponentialMovingAverage<float> ema(*net, {.decay = 0.5, .warmup = false});
  Buffer<float>& mean = *net->buffers()[0];
  const Tensor<float> start = mean.value;
  mean.value.setConstant(2.0f);
  ema.update();
  const Tensor<float> avg = ema.with_average([&] { return mean.value; });
  CHECK(avg == ((start.array() + 2.0f) * 0.5f).matrix());
  CHECK(mean.value == Tensor<float>::Constant(1, 3, 2.0f));
  REQUIRE_THROWS(ema.with_average([]() -> int { throw ArgumentError("inside"); }));
  CHECK(!ema.swapped());
  CHECK(mean.value == Tensor<float>::Constant(1, 3, 2.0f));
}

TEST_CASE("EMA: save_state and load_state restore the averages and the count exactly", "[ema]") {
  auto a = small_net(4), b = small_net(5);
  ExponentialMovingAverage<float> ea(*a), eb(*b);
  Rng rng(6);
  for (int i = 0; i < 3; ++i) {
    for (Param<float>* p : a->params()) rng.fill_normal(p->value);
    ea.update();
  }
  StateDict s;
  ea.save_state(s);
  CHECK(s.contains("ema/param/net.fc.weight"));
  CHECK(s.contains("ema/buffer/net.bn.running_var"));
  eb.load_state(s);
  CHECK(eb.updates() == 3);
  const Tensor<float> wa = ea.with_average([&] { return a->params()[0]->value; });
  const Tensor<float> wb = eb.with_average([&] { return b->params()[0]->value; });
  CHECK(wa == wb);
  StateDict without;
  REQUIRE_THROWS_WITH(eb.load_state(without), Catch::Contains("'ema/param/net.fc.weight'"));
}
