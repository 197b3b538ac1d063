#include <aigc/losses/bce.hpp>
#include <aigc/losses/gaussian_kl.hpp>
#include <aigc/losses/mse.hpp>
#include <aigc/testing/gradcheck.hpp>
#include <catch2/catch.hpp>
#include <cmath>

using namespace aigc;

namespace {
Tensor<double> targets01(Index r, Index c, std::uint64_t seed) {
  Rng rng(seed);
  Tensor<double> t(r, c);
  rng.fill_uniform(t, 0.0, 1.0);
  return t;
}
}  // namespace

TEST_CASE("BCE with logits matches the naive formula and is stable", "[bce]") {
  Tensor<double> z(1, 4), t(1, 4);
  z << -3.0, -0.1, 0.7, 2.5;
  t << 0.0, 1.0, 0.3, 1.0;
  double naive = 0;
  for (Index i = 0; i < 4; ++i) {
    const double p = 1 / (1 + std::exp(-z(0, i)));
    naive += -(t(0, i) * std::log(p) + (1 - t(0, i)) * std::log(1 - p));
  }
  CHECK(bce_with_logits(z, t, Reduction::sum) == Approx(naive).epsilon(1e-12));
  CHECK(bce_with_logits(z, t, Reduction::mean) == Approx(naive / 4).epsilon(1e-12));

  Tensor<float> big(1, 4), tb(1, 4);
  big << 1000.f, -1000.f, 90.f, -90.f;
  tb << 0.f, 1.f, 1.f, 0.f;
  Tensor<float> d;
  const double l = bce_with_logits(big, tb, Reduction::sum, &d);
  CHECK(std::isfinite(l));
  CHECK(l == Approx(2000.0));
  CHECK(d.allFinite());
  CHECK(d(0, 0) == Approx(1.0f));
  CHECK(d(0, 1) == Approx(-1.0f));
}

TEST_CASE("BCE with logits gradient matches finite differences", "[bce][gradcheck]") {
  for (Reduction red : {Reduction::sum, Reduction::mean}) {
    Tensor<double> z = random_input(3, 9, 1);
    const Tensor<double> t = targets01(3, 9, 2);
    Tensor<double> d;
    bce_with_logits(z, t, red, &d);
    const auto num = numeric_gradient([&] { return bce_with_logits(z, t, red); }, z);
    CHECK(relative_error(d, num) < 1e-6);
  }
}

TEST_CASE("MSE value and gradient", "[mse][gradcheck]") {
  for (Reduction red : {Reduction::sum, Reduction::mean}) {
    Tensor<double> x = random_input(2, 5, 3);
    const Tensor<double> t = random_input(2, 5, 4);
    Tensor<double> d;
    const double l = mse(x, t, red, &d);
    const double naive = (x - t).squaredNorm() / (red == Reduction::mean ? 10.0 : 1.0);
    CHECK(l == Approx(naive).epsilon(1e-12));
    const auto num = numeric_gradient([&] { return mse(x, t, red); }, x);
    CHECK(relative_error(d, num) < 1e-6);
  }
  REQUIRE_THROWS_AS(mse(Tensor<double>(2, 3), Tensor<double>(3, 2), Reduction::sum), ShapeError);
}

TEST_CASE("Gaussian KL value and gradients", "[kl][gradcheck]") {
  for (Reduction red : {Reduction::sum, Reduction::mean}) {
    Tensor<double> mu = random_input(3, 4, 5);
    Tensor<double> lv = random_input(3, 4, 6);
    Tensor<double> dmu, dlv;
    const double kl = gaussian_kl(mu, lv, red, &dmu, &dlv);
    double naive = 0;
    for (Index i = 0; i < mu.size(); ++i) {
      const double m = mu.data()[i], v = lv.data()[i];
      naive += 0.5 * (m * m + std::exp(v) - 1 - v);
    }
    if (red == Reduction::mean) naive /= 12.0;
    CHECK(kl == Approx(naive).epsilon(1e-12));
    auto f = [&] { return gaussian_kl(mu, lv, red); };
    CHECK(relative_error(dmu, numeric_gradient(f, mu)) < 1e-6);
    CHECK(relative_error(dlv, numeric_gradient(f, lv)) < 1e-6);
  }
  // KL of the prior with itself is zero.
  CHECK(gaussian_kl(Tensor<double>::Zero(2, 3).eval(), Tensor<double>::Zero(2, 3).eval(),
                    Reduction::sum) == 0.0);
}

TEST_CASE("Reparameterisation gradients match finite differences", "[kl][gradcheck]") {
  Tensor<double> mu = random_input(2, 3, 7);
  Tensor<double> lv = random_input(2, 3, 8);
  const Tensor<double> eps = random_input(2, 3, 9);
  const Tensor<double> r = random_input(2, 3, 10);
  Reparameterization<double> rep;
  auto f = [&] { return rep.forward_with_noise(mu, lv, eps).cwiseProduct(r).sum(); };
  rep.forward_with_noise(mu, lv, eps);
  Tensor<double> dmu = Tensor<double>::Zero(2, 3), dlv = Tensor<double>::Zero(2, 3);
  rep.backward(r, dmu, dlv);
  CHECK(relative_error(dmu, numeric_gradient(f, mu)) < 1e-6);
  CHECK(relative_error(dlv, numeric_gradient(f, lv)) < 1e-6);
  const Tensor<double>& z = rep.forward_with_noise(mu, lv, eps);
  CHECK(z(1, 2) == Approx(mu(1, 2) + eps(1, 2) * std::exp(lv(1, 2) / 2)));
}
