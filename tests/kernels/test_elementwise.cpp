#include <aigc/core/rng.hpp>
#include <aigc/kernels/elementwise.hpp>
#include <aigc/kernels/losses.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <vector>

#include "support/random.hpp"

using namespace aigc;
using aigc::test::random_vector;

namespace {

template <class T>
T naive_act(T v, Activation act, T slope) {
  switch (act) {
    case Activation::identity:
      return v;
    case Activation::relu:
      return v > T(0) ? v : T(0);
    case Activation::leaky_relu:
      return v > T(0) ? v : slope * v;
    case Activation::sigmoid:
      return T(1) / (T(1) + std::exp(-v));
    case Activation::tanh:
      return std::tanh(v);
  }
  return v;
}

template <class T>
T naive_act_backward(T dy, T y, Activation act, T slope) {
  switch (act) {
    case Activation::identity:
      return dy;
    case Activation::relu:
      return y > T(0) ? dy : T(0);
    case Activation::leaky_relu:
      return y > T(0) ? dy : slope * dy;
    case Activation::sigmoid:
      return dy * y * (T(1) - y);
    case Activation::tanh:
      return dy * (T(1) - y * y);
  }
  return dy;
}

const Activation all_acts[] = {Activation::identity, Activation::relu, Activation::leaky_relu,
                               Activation::sigmoid, Activation::tanh};
template <class T, class A>
void check_pointwise() {
  const T slope = T(0.2);
  for (Index cols : test::odd_sizes) {
    const Index rows = 3;
    const auto x = random_vector<T>(rows * cols, 1, -3.0, 3.0),
               b = random_vector<T>(cols, 2, -3.0, 3.0);
    const auto dy = random_vector<T>(rows * cols, 3, -3.0, 3.0);
    for (Activation act : all_acts) {
      for (bool bias : {true, false}) {
        std::vector<T> y = x;
        kernels::bias_activation_forward<T, A>(y.data(), bias ? b.data() : nullptr, rows, cols, act,
                                               slope);
        std::vector<T> dx(y.size());
        kernels::activation_backward<T, A>(dy.data(), y.data(), dx.data(), rows * cols, act, slope);
        for (Index r = 0; r < rows; ++r) {
          for (Index c = 0; c < cols; ++c) {
            const auto i = static_cast<std::size_t>(r * cols + c);
            const T want =
                naive_act<T>(x[i] + (bias ? b[static_cast<std::size_t>(c)] : T(0)), act, slope);
            INFO("act " << static_cast<int>(act) << " cols " << cols << " arch " << A::name());
            REQUIRE(y[i] == Approx(want).epsilon(test::libm_tolerance<T>()).margin(1e-30));
            REQUIRE(dx[i] == Approx(naive_act_backward<T>(dy[i], y[i], act, slope))
                                 .epsilon(test::libm_tolerance<T>())
                                 .margin(1e-30));
          }
        }
      }
    }
  }
}

template <class T, class A>
void check_losses() {
  for (Index n : test::odd_sizes) {
    const auto z = random_vector<T>(n, 4, -30.0, 30.0), t = random_vector<T>(n, 5, 0.0, 1.0);
    const auto mu = random_vector<T>(n, 6, -3.0, 3.0), lv = random_vector<T>(n, 7, -3.0, 3.0);
    const T scale = T(0.25);
    std::vector<T> dz(z.size()), dmu(z.size()), dlv(z.size());
    const double bce = kernels::bce_with_logits<T, A>(z.data(), t.data(), n, dz.data(), scale);
    const double se = kernels::squared_error<T, A>(z.data(), t.data(), n, nullptr, scale);
    const double kl =
        kernels::gaussian_kl<T, A>(mu.data(), lv.data(), n, dmu.data(), dlv.data(), scale);
    double bce_ref = 0, se_ref = 0, kl_ref = 0;
    for (std::size_t i = 0; i < z.size(); ++i) {
      const double zi = z[i], ti = t[i];
      bce_ref += std::max(zi, 0.0) - zi * ti + std::log1p(std::exp(-std::abs(zi)));
      const double s = 1 / (1 + std::exp(-zi));
      REQUIRE(dz[i] == Approx(scale * (s - ti)).epsilon(test::libm_tolerance<T>()).margin(1e-6));
      se_ref += (zi - ti) * (zi - ti);
      const double e = std::exp(static_cast<double>(lv[i]));
      kl_ref += -0.5 * (1 + lv[i] - static_cast<double>(mu[i]) * mu[i] - e);
      REQUIRE(dmu[i] == Approx(scale * mu[i]));
      REQUIRE(dlv[i] == Approx(scale * 0.5 * (e - 1))
                            .epsilon(test::libm_tolerance<T>())
                            .margin(test::libm_tolerance<T>()));
    }
    INFO("n " << n << " arch " << A::name());
    CHECK(bce == Approx(bce_ref).epsilon(10 * test::libm_tolerance<T>()));
    CHECK(se == Approx(se_ref).epsilon(10 * test::libm_tolerance<T>()));
    CHECK(kl == Approx(kl_ref).epsilon(10 * test::libm_tolerance<T>()));
  }
}

template <class T, class A>
void check_reparameterize_and_sums() {
  for (Index n : test::odd_sizes) {
    const auto mu = random_vector<T>(n, 8, -3.0, 3.0), lv = random_vector<T>(n, 9, -3.0, 3.0),
               eps = random_vector<T>(n, 10, -3.0, 3.0), dz = random_vector<T>(n, 11, -3.0, 3.0);
    std::vector<T> z(mu.size()), sd(mu.size());
    kernels::reparameterize<T, A>(mu.data(), lv.data(), eps.data(), z.data(), sd.data(), n);
    std::vector<T> dmu = random_vector<T>(n, 12, -3.0, 3.0),
                   dlv = random_vector<T>(n, 13, -3.0, 3.0);
    const auto dmu0 = dmu, dlv0 = dlv;
    kernels::reparameterize_backward<T, A>(dz.data(), eps.data(), sd.data(), dmu.data(), dlv.data(),
                                           n);
    for (std::size_t i = 0; i < mu.size(); ++i) {
      const T s = std::exp(T(0.5) * lv[i]);
      REQUIRE(sd[i] == Approx(s).epsilon(test::libm_tolerance<T>()));
      REQUIRE(z[i] == Approx(mu[i] + eps[i] * s).epsilon(test::libm_tolerance<T>()).margin(1e-6));
      REQUIRE(dmu[i] == dmu0[i] + dz[i]);
      REQUIRE(dlv[i] == Approx(dlv0[i] + dz[i] * eps[i] * sd[i] * T(0.5))
                            .epsilon(test::libm_tolerance<T>())
                            .margin(1e-6));
    }
    // Column sums add the rows in order, exactly as the naive loop does.
    const Index rows = 5;
    const auto x = random_vector<T>(rows * n, 14, -3.0, 3.0);
    std::vector<T> out = random_vector<T>(n, 15, -3.0, 3.0), want = out;
    kernels::column_sums<T, A>(x.data(), rows, n, out.data(), true);
    for (Index r = 0; r < rows; ++r) {
      for (Index c = 0; c < n; ++c)
        want[static_cast<std::size_t>(c)] += x[static_cast<std::size_t>(r * n + c)];
    }
    REQUIRE(out == want);
    kernels::column_sums<T, A>(x.data(), rows, n, out.data(), false);
    for (Index c = 0; c < n; ++c) {
      T s = 0;
      for (Index r = 0; r < rows; ++r) s += x[static_cast<std::size_t>(r * n + c)];
      REQUIRE(out[static_cast<std::size_t>(c)] == s);
    }
  }
}

}  // namespace

TEST_CASE("bias + activation and its backward match naive loops", "[elementwise]") {
  check_pointwise<float, kernels::simd_arch>();
  check_pointwise<double, kernels::simd_arch>();
  check_pointwise<float, kernels::scalar_arch>();
  check_pointwise<double, kernels::scalar_arch>();
}

TEST_CASE("BCE with logits, squared error and Gaussian KL match naive loops", "[elementwise]") {
  check_losses<float, kernels::simd_arch>();
  check_losses<double, kernels::simd_arch>();
  check_losses<float, kernels::scalar_arch>();
  check_losses<double, kernels::scalar_arch>();
}

TEST_CASE("reparameterisation and column sums match naive loops", "[elementwise]") {
  check_reparameterize_and_sums<float, kernels::simd_arch>();
  check_reparameterize_and_sums<double, kernels::simd_arch>();
  check_reparameterize_and_sums<float, kernels::scalar_arch>();
  check_reparameterize_and_sums<double, kernels::scalar_arch>();
}

TEST_CASE("copy, fill and gather_rows", "[elementwise]") {
  for (Index n : test::odd_sizes) {
    const auto src = random_vector<float>(n * 3, 16, -3.0, 3.0);
    std::vector<float> dst(src.size());
    kernels::copy(src.data(), dst.data(), n * 3);
    REQUIRE(dst == src);
    kernels::fill(dst.data(), n * 3, 2.5f);
    for (float v : dst) REQUIRE(v == 2.5f);
    const std::vector<Index> index = {2, 0, 2, 1};
    std::vector<float> rows(4 * static_cast<std::size_t>(n));
    kernels::gather_rows(src.data(), n, index.data(), 4, rows.data());
    for (std::size_t r = 0; r < 4; ++r) {
      REQUIRE(std::memcmp(rows.data() + r * n, src.data() + index[r] * n, n * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("elementwise kernels and loss sums are bitwise the same for 1, 2 and 3 threads",
          "[elementwise][threads]") {
  const Index rows = 128, cols = 784, n = rows * cols;
  const auto z = random_vector<float>(n, 20, -8.0, 8.0), t = random_vector<float>(n, 21, 0.0, 1.0);
  const auto b = random_vector<float>(cols, 22, -3.0, 3.0);
  std::vector<std::vector<float>> outputs;
  std::vector<double> sums;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    std::vector<float> y = z, dz(z.size()), dx(z.size()), cs(cols);
    kernels::bias_activation_forward(y.data(), b.data(), rows, cols, Activation::sigmoid, 0.f);
    kernels::activation_backward(t.data(), y.data(), dx.data(), n, Activation::sigmoid, 0.f);
    kernels::column_sums(dx.data(), rows, cols, cs.data(), false);
    const double bce = kernels::bce_with_logits(z.data(), t.data(), n, dz.data(), 1.f);
    const double kl = kernels::gaussian_kl(z.data(), t.data(), n, static_cast<float*>(nullptr),
                                           static_cast<float*>(nullptr), 1.f);
    y.insert(y.end(), dz.begin(), dz.end());
    y.insert(y.end(), dx.begin(), dx.end());
    y.insert(y.end(), cs.begin(), cs.end());
    outputs.push_back(std::move(y));
    sums.push_back(bce);
    sums.push_back(kl);
  }
  set_num_threads(0);
  for (std::size_t i = 1; i < outputs.size(); ++i) {
    REQUIRE(std::memcmp(outputs[0].data(), outputs[i].data(), outputs[0].size() * sizeof(float)) ==
            0);
    REQUIRE(sums[0] == sums[2 * i]);
    REQUIRE(sums[1] == sums[2 * i + 1]);
  }
}
