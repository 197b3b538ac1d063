/// @file
/// aigc: dropout kernels: the scaled keep-mask drawn from a seeded Rng, and its application.
#pragma once

#include "aigc/core/rng.hpp"
#include "aigc/core/tensor.hpp"
#include "aigc/kernels/elementwise.hpp"
#include "aigc/kernels/partition.hpp"
#include "aigc/kernels/simd.hpp"

namespace aigc::kernels {

/// mask[i] = 1 / (1 - p) with probability 1 - p, else 0 (inverted dropout). The draws are taken
/// in order from one generator, so the mask depends on the seed alone, not on the threads.
template <class T>
void dropout_mask(Rng& rng, double p, Index n, T* mask) {
  const T keep = static_cast<T>(1.0 / (1.0 - p));
  for (Index i = 0; i < n; ++i) mask[i] = rng.uniform() >= p ? keep : T(0);
}

/// out[i] = x[i] * mask[i] (the forward, and the backward dx = dy * mask).
template <class T, class A = simd_arch>
void multiply(const T* x, const T* mask, T* out, Index n) {
  using S = detail::Simd<T, A>;
  aigc::kernels::parallel_for_aligned(n, 64, detail::cheap_grain, [&](Index begin, Index end) {
    detail::for_each_vector<T, A>(begin, end, [&](Index i, Index m, auto full) {
      S::store(out + i, S::load(x + i, m, full) * S::load(mask + i, m, full), m, full);
    });
  });
}

}  // namespace aigc::kernels
