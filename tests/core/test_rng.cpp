#include <aigc/core/rng.hpp>
#include <catch2/catch.hpp>

using namespace aigc;

TEST_CASE("Rng repeats for the same seed and differs across seeds", "[rng]") {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next_u64();
    CHECK(x == b.next_u64());
    CHECK(x != c.next_u64());
  }
}

TEST_CASE("Rng uniform and normal have the right moments", "[rng]") {
  Rng rng(1);
  Tensor<double> u(1, 100000), n(1, 100000);
  rng.fill_uniform(u, -1.0, 3.0);
  rng.fill_normal(n, 2.0, 0.5);
  CHECK(u.minCoeff() >= -1.0);
  CHECK(u.maxCoeff() < 3.0);
  CHECK(u.mean() == Approx(1.0).margin(0.02));
  CHECK(n.mean() == Approx(2.0).margin(0.01));
  const double var = (n.array() - n.mean()).square().mean();
  CHECK(var == Approx(0.25).margin(0.005));
}

TEST_CASE("Rng snapshot restores the stream", "[rng]") {
  Rng rng(9);
  rng.normal();
  const auto snap = rng.snapshot();
  const double a = rng.normal(), b = rng.normal();
  rng.restore(snap);
  CHECK(rng.normal() == a);
  CHECK(rng.normal() == b);
  for (int i = 0; i < 1000; ++i) CHECK(rng.below(7) < 7);
}
