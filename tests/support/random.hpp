// Random test inputs and the tolerances the kernel tests share.
#pragma once

#include <aigc/core/rng.hpp>
#include <aigc/core/tensor.hpp>
#include <cstdint>
#include <vector>

namespace aigc::test {

// n values drawn uniformly from [lo, hi) by an Rng seeded with `seed`.
template <class T>
std::vector<T> random_vector(Index n, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Rng rng(seed);
  std::vector<T> v(static_cast<std::size_t>(n));
  for (T& x : v) x = static_cast<T>(rng.uniform(lo, hi));
  return v;
}

// Lengths that leave every remainder of a SIMD batch, and lengths past the threading threshold.
inline constexpr Index odd_sizes[] = {1, 7, 17, 33, 100, 1000};

// Relative tolerance of the vectorised transcendental functions (exp, log, tanh) against libm.
template <class T>
constexpr double libm_tolerance() {
  return sizeof(T) == 4 ? 2e-6 : 1e-13;
}

}  // namespace aigc::test
