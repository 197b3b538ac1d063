/// @file
/// aigc: kernels of the GAN objectives: the pointwise loss terms of a discriminator's logits with
/// their derivatives, the mean of sigmoid(logit) (the D(x) statistic), and the weight clipping of
/// Wasserstein critics. Written once on Simd<T, A>::V; sums are bitwise the same for any number
/// of threads.
#pragma once

#include <algorithm>
#include <type_traits>

#include "aigc/core/tensor.hpp"
#include "aigc/kernels/elementwise.hpp"
#include "aigc/kernels/partition.hpp"
#include "aigc/kernels/simd.hpp"

namespace aigc::kernels {

/// One pointwise term f(z) of a GAN loss on logits z, with a target t or a sign s:
///   bce:     max(z, 0) - z t + log(1 + exp(-|z|))   f' = sigmoid(z) - t
///   squared: (z - t)^2                               f' = 2 (z - t)
///   hinge:   max(0, 1 + s z)                         f' = s where 1 + s z > 0, else 0
///   linear:  s z                                     f' = s
enum class LogitTerm { bce, squared, hinge, linear };

namespace detail {

template <class F>
void with_logit_term(LogitTerm term, F&& f) {
  using L = LogitTerm;
  switch (term) {
    case L::bce:
      f(std::integral_constant<L, L::bce>{});
      break;
    case L::squared:
      f(std::integral_constant<L, L::squared>{});
      break;
    case L::hinge:
      f(std::integral_constant<L, L::hinge>{});
      break;
    case L::linear:
      f(std::integral_constant<L, L::linear>{});
      break;
  }
}

}  // namespace detail

/// Sum over i < n of f(z_i) (the term above, target t, sign s); when dz is not null,
/// dz_i = scale * f'(z_i). The padded lanes of a partial vector are excluded from the sum.
template <class T, class A = simd_arch>
double logit_loss(LogitTerm term, const T* z, Index n, T t, T s, T* dz, T scale) {
  using S = detail::Simd<T, A>;
  using V = typename S::V;
  double sum = 0.0;
  detail::with_logit_term(term, [&](auto tag) {
    constexpr LogitTerm L = decltype(tag)::value;
    sum = detail::parallel_sum(n, detail::expensive_grain, [&](Index begin, Index end) {
      const V zero = S::broadcast(0), one = S::broadcast(1), two = S::broadcast(2);
      const V vt = S::broadcast(t), vs = S::broadcast(s), vscale = S::broadcast(scale);
      return detail::sum_vectors<T, A>(begin, end, [&](Index i, Index m, auto full) {
        const V zi = S::load(z + i, m, full);
        if constexpr (L == LogitTerm::bce) {
          const V e = xsimd::exp(-xsimd::abs(zi));
          if (dz)
            S::store(dz + i, vscale * (S::select(zi >= zero, one, e) / (one + e) - vt), m, full);
          return S::select(zi > zero, zi, zero) - zi * vt + xsimd::log1p(e);
        } else if constexpr (L == LogitTerm::squared) {
          const V d = zi - vt;
          if (dz) S::store(dz + i, vscale * two * d, m, full);
          return d * d;
        } else if constexpr (L == LogitTerm::hinge) {
          const V h = one + vs * zi;
          if (dz) S::store(dz + i, S::select(h > zero, vscale * vs, zero), m, full);
          return S::select(h > zero, h, zero);
        } else {
          if (dz) S::store(dz + i, vscale * vs, m, full);
          return vs * zi;
        }
      });
    });
  });
  return sum;
}

/// Sum over i < n of sigmoid(z_i) = 1 / (1 + exp(-z_i)).
template <class T, class A = simd_arch>
double sum_sigmoid(const T* z, Index n) {
  using S = detail::Simd<T, A>;
  using V = typename S::V;
  return detail::parallel_sum(n, detail::expensive_grain, [&](Index begin, Index end) {
    const V zero = S::broadcast(0), one = S::broadcast(1);
    return detail::sum_vectors<T, A>(begin, end, [&](Index i, Index m, auto full) {
      const V zi = S::load(z + i, m, full);
      const V e = xsimd::exp(-xsimd::abs(zi));  // stable for any |z|
      return S::select(zi >= zero, one, e) / (one + e);
    });
  });
}

/// x_i = min(max(x_i, lo), hi): the weight clipping of a Wasserstein critic.
template <class T, class A = simd_arch>
void clamp(T* x, Index n, T lo, T hi) {
  using S = detail::Simd<T, A>;
  aigc::detail::parallel_for_aligned(n, 64, detail::cheap_grain, [&](Index begin, Index end) {
    const typename S::V vlo = S::broadcast(lo), vhi = S::broadcast(hi);
    detail::for_each_vector<T, A>(begin, end, [&](Index i, Index m, auto full) {
      const auto v = S::load(x + i, m, full);
      S::store(x + i, S::select(v < vlo, vlo, S::select(v > vhi, vhi, v)), m, full);
    });
  });
}

}  // namespace aigc::kernels
