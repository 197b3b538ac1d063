#include <aigc/core/rng.hpp>
#include <aigc/kernels/update.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <vector>

#include "support/random.hpp"

using namespace aigc;
using aigc::test::random_vector;

namespace {

template <class T>
constexpr double update_tolerance() {
  return sizeof(T) == 4 ? 1e-6 : 1e-14;
}

template <class T, class A>
void check_adam() {
  for (Index n : test::odd_sizes) {
    for (bool decoupled : {false, true}) {
      auto p = random_vector<T>(n, 1), m = random_vector<T>(n, 2), v = random_vector<T>(n, 3, 0, 1);
      const auto g = random_vector<T>(n, 4);
      auto pr = p, mr = m, vr = v;
      const T b1 = T(0.9), b2 = T(0.999), step = T(1e-3) / (1 - T(0.9)), b2s = std::sqrt(T(1) - b2),
              eps = T(1e-8), wd = T(0.01), decay = decoupled ? T(1) - T(1e-3) * wd : T(1);
      kernels::adam_update<T, A>(p.data(), g.data(), m.data(), v.data(), n, b1, b2, step, b2s, eps,
                                 decoupled ? T(0) : wd, decay);
      for (std::size_t i = 0; i < p.size(); ++i) {
        if (decoupled) pr[i] *= decay;
        T gi = g[i];
        if (!decoupled) gi += wd * pr[i];
        mr[i] += (gi - mr[i]) * (T(1) - b1);
        vr[i] = b2 * vr[i] + (T(1) - b2) * gi * gi;
        pr[i] -= step * (mr[i] / (std::sqrt(vr[i]) / b2s + eps));
        INFO("n " << n << " decoupled " << decoupled << " arch " << A::name());
        REQUIRE(m[i] == Approx(mr[i]).epsilon(update_tolerance<T>()).margin(update_tolerance<T>()));
        REQUIRE(v[i] == Approx(vr[i]).epsilon(update_tolerance<T>()).margin(update_tolerance<T>()));
        REQUIRE(p[i] == Approx(pr[i]).epsilon(update_tolerance<T>()).margin(update_tolerance<T>()));
      }
    }
  }
}

template <class T, class A>
void check_sgd() {
  for (Index n : test::odd_sizes) {
    for (int variant = 0; variant < 4; ++variant) {
      const bool nesterov = variant == 1, first = variant == 2;
      const T mu = variant == 3 ? T(0) : T(0.9), damp = nesterov ? T(0) : T(0.1), wd = T(0.01);
      auto p = random_vector<T>(n, 5), buf = random_vector<T>(n, 6);
      const auto g = random_vector<T>(n, 7);
      auto pr = p, br = buf;
      kernels::sgd_update<T, A>(p.data(), g.data(), buf.data(), n, T(0.1), mu, damp, wd, nesterov,
                                first);
      for (std::size_t i = 0; i < p.size(); ++i) {
        T gi = g[i] + wd * pr[i];
        if (mu != T(0)) {
          br[i] = first ? gi : mu * br[i] + (T(1) - damp) * gi;
          gi = nesterov ? gi + mu * br[i] : br[i];
        }
        pr[i] -= T(0.1) * gi;
        INFO("n " << n << " variant " << variant << " arch " << A::name());
        REQUIRE(p[i] == Approx(pr[i]).epsilon(update_tolerance<T>()).margin(update_tolerance<T>()));
        REQUIRE(buf[i] ==
                Approx(br[i]).epsilon(update_tolerance<T>()).margin(update_tolerance<T>()));
      }
    }
  }
}

template <class T, class A>
void check_norms() {
  for (Index n : test::odd_sizes) {
    auto x = random_vector<T>(n, 8);
    double ref = 0;
    for (T v : x) ref += static_cast<double>(v) * v;
    CHECK(kernels::sum_of_squares<T, A>(x.data(), n) ==
          Approx(ref).epsilon(10 * update_tolerance<T>()));
    const auto x0 = x;
    kernels::scale<T, A>(x.data(), n, T(0.5));
    for (std::size_t i = 0; i < x.size(); ++i) REQUIRE(x[i] == x0[i] * T(0.5));
  }
}

}  // namespace

TEST_CASE("adam_update matches the naive loop (Adam and AdamW)", "[update]") {
  check_adam<float, kernels::simd_arch>();
  check_adam<double, kernels::simd_arch>();
  check_adam<float, kernels::scalar_arch>();
  check_adam<double, kernels::scalar_arch>();
}

TEST_CASE("sgd_update matches the naive loop (momentum, dampening, nesterov)", "[update]") {
  check_sgd<float, kernels::simd_arch>();
  check_sgd<double, kernels::simd_arch>();
  check_sgd<float, kernels::scalar_arch>();
  check_sgd<double, kernels::scalar_arch>();
}

TEST_CASE("sum_of_squares and scale match naive loops", "[update]") {
  check_norms<float, kernels::simd_arch>();
  check_norms<double, kernels::simd_arch>();
  check_norms<float, kernels::scalar_arch>();
  check_norms<double, kernels::scalar_arch>();
}

TEST_CASE("update kernels are bitwise the same for 1, 2 and 3 threads", "[update][threads]") {
  const Index n = 313600;
  const auto g = random_vector<float>(n, 9);
  std::vector<std::vector<float>> out;
  std::vector<double> norms;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    auto p = random_vector<float>(n, 10), m = random_vector<float>(n, 11),
         v = random_vector<float>(n, 12, 0, 1);
    kernels::adam_update(p.data(), g.data(), m.data(), v.data(), n, 0.9f, 0.999f, 1e-2f, 0.03f,
                         1e-8f, 0.f, 1.f);
    norms.push_back(kernels::sum_of_squares(p.data(), n));
    p.insert(p.end(), m.begin(), m.end());
    p.insert(p.end(), v.begin(), v.end());
    out.push_back(std::move(p));
  }
  set_num_threads(0);
  for (std::size_t i = 1; i < out.size(); ++i) {
    REQUIRE(std::memcmp(out[0].data(), out[i].data(), out[0].size() * sizeof(float)) == 0);
    REQUIRE(norms[0] == norms[i]);
  }
}
