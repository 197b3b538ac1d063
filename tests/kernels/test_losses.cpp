#include <aigc/core/rng.hpp>
#include <aigc/kernels/losses.hpp>
#include <aigc/kernels/update.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "support/random.hpp"

using namespace aigc;
using aigc::test::random_vector;

namespace {

// f(z) and f'(z) of kernels::LogitTerm, in double.
std::pair<double, double> naive_term(kernels::LogitTerm term, double z, double t, double s) {
  switch (term) {
    case kernels::LogitTerm::bce:
      return {std::max(z, 0.0) - z * t + std::log1p(std::exp(-std::abs(z))),
              1 / (1 + std::exp(-z)) - t};
    case kernels::LogitTerm::squared:
      return {(z - t) * (z - t), 2 * (z - t)};
    case kernels::LogitTerm::hinge:
      return 1 + s * z > 0 ? std::pair{1 + s * z, s} : std::pair{0.0, 0.0};
    case kernels::LogitTerm::linear:
      return {s * z, s};
  }
  return {0, 0};
}

template <class T, class A>
void check_logit_terms() {
  using L = kernels::LogitTerm;
  for (Index n : test::odd_sizes) {
    const auto z = random_vector<T>(n, 4, -30.0, 30.0);
    for (L term : {L::bce, L::squared, L::hinge, L::linear}) {
      for (double s : {-1.0, 1.0}) {
        const double t = 0.9, scale = 0.25;
        std::vector<T> dz(z.size());
        const double got =
            kernels::logit_loss<T, A>(term, z.data(), n, T(t), T(s), dz.data(), T(scale));
        const double without_grad =
            kernels::logit_loss<T, A>(term, z.data(), n, T(t), T(s), nullptr, T(scale));
        double want = 0;
        INFO("term " << static_cast<int>(term) << " n " << n << " sign " << s << " arch "
                     << A::name());
        for (std::size_t i = 0; i < z.size(); ++i) {
          const auto [f, d] = naive_term(term, static_cast<double>(z[i]), t, s);
          want += f;
          REQUIRE(dz[i] == Approx(scale * d).epsilon(test::libm_tolerance<T>()).margin(1e-6));
        }
        CHECK(got == Approx(want).epsilon(10 * test::libm_tolerance<T>()).margin(1e-9));
        CHECK(without_grad == got);
      }
    }
    double sig = 0;
    for (T zi : z) sig += 1 / (1 + std::exp(-static_cast<double>(zi)));
    CHECK(kernels::sum_sigmoid<T, A>(z.data(), n) ==
          Approx(sig).epsilon(10 * test::libm_tolerance<T>()));

    std::vector<T> c = z;
    kernels::clamp<T, A>(c.data(), n, T(-0.5), T(2));
    for (std::size_t i = 0; i < c.size(); ++i) {
      REQUIRE(c[i] == std::min(std::max(z[i], T(-0.5)), T(2)));
    }
  }
}

}  // namespace

TEST_CASE("GAN logit terms, sum of sigmoids and clamp match naive loops", "[kernels][gan]") {
  check_logit_terms<float, kernels::simd_arch>();
  check_logit_terms<double, kernels::simd_arch>();
  check_logit_terms<float, kernels::scalar_arch>();
  check_logit_terms<double, kernels::scalar_arch>();
}

TEST_CASE("GAN logit sums do not depend on the number of threads", "[kernels][gan]") {
  const auto z = random_vector<float>(100000, 9, -5.0, 5.0);
  set_num_threads(1);
  const double one = kernels::logit_loss(kernels::LogitTerm::bce, z.data(), 100000, 1.0f, 1.0f,
                                         static_cast<float*>(nullptr), 1.0f);
  set_num_threads(2);
  const double two = kernels::logit_loss(kernels::LogitTerm::bce, z.data(), 100000, 1.0f, 1.0f,
                                         static_cast<float*>(nullptr), 1.0f);
  set_num_threads(0);
  CHECK(one == two);
}
