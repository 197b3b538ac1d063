/// @file
/// aigc: the pointwise parts of the losses, each a sum with its derivative: BCE with logits,
/// squared error, the Gaussian KL and the reparameterisation, the GAN objectives' terms on a
/// discriminator's logits, and the mean of sigmoid(logit) (the D(x) statistic). Written once on
/// Simd<T, A>::V; sums are bitwise the same for any number of threads.
#pragma once

#include <type_traits>

#include "aigc/core/tensor.hpp"
#include "aigc/kernels/elementwise.hpp"
#include "aigc/kernels/partition.hpp"
#include "aigc/kernels/simd.hpp"

namespace aigc::kernels {

namespace detail {

/// sigmoid(z) = 1 / (1 + exp(-z)), stable for any z, from e = exp(-|z|).
template <class S, class V>
V sigmoid_of_logit(const V& z, const V& e) {
  const V one = S::broadcast(1);
  return S::select(z >= S::broadcast(0), one, e) / (one + e);
}

/// The BCE of sigmoid(z) against t, max(z, 0) - z t + log(1 + exp(-|z|)), stable for any z, from
/// e = exp(-|z|).
template <class S, class V>
V bce_of_logit(const V& z, const V& t, const V& e) {
  const V zero = S::broadcast(0);
  return S::select(z > zero, z, zero) - z * t + xsimd::log1p(e);
}

}  // namespace detail

/// Sum over i of BCE(sigmoid(z_i), t_i) = max(z,0) - z*t + log(1 + exp(-|z|)), stable for any z.
/// When dz is not null, dz_i = scale * (sigmoid(z_i) - t_i).
template <class T, class A = simd_arch>
double bce_with_logits(const T* z, const T* t, Index n, T* dz, T scale) {
  using S = detail::Simd<T, A>;
  using V = typename S::V;
  return detail::parallel_sum(n, detail::expensive_grain, [&](Index begin, Index end) {
    const V vscale = S::broadcast(scale);
    return detail::sum_vectors<T, A>(begin, end, [&](Index i, Index m, auto full) {
      const V zi = S::load(z + i, m, full), ti = S::load(t + i, m, full);
      const V e = xsimd::exp(-xsimd::abs(zi));
      if (dz) S::store(dz + i, vscale * (detail::sigmoid_of_logit<S>(zi, e) - ti), m, full);
      return detail::bce_of_logit<S>(zi, ti, e);
    });
  });
}

/// Sum over i of (x_i - t_i)^2; when dx is not null, dx_i = scale * 2 (x_i - t_i).
template <class T, class A = simd_arch>
double squared_error(const T* x, const T* t, Index n, T* dx, T scale) {
  using S = detail::Simd<T, A>;
  using V = typename S::V;
  return detail::parallel_sum(n, detail::cheap_grain, [&](Index begin, Index end) {
    const V two_scale = S::broadcast(scale * T(2));
    return detail::sum_vectors<T, A>(begin, end, [&](Index i, Index m, auto full) {
      const V d = S::load(x + i, m, full) - S::load(t + i, m, full);
      if (dx) S::store(dx + i, two_scale * d, m, full);
      return d * d;
    });
  });
}

/// Sum over i of -1/2 (1 + lv_i - mu_i^2 - exp(lv_i)) = KL(N(mu, exp(lv)) || N(0, 1)).
/// When dmu/dlv are not null: dmu_i = scale * mu_i, dlv_i = scale * (exp(lv_i) - 1) / 2.
template <class T, class A = simd_arch>
double gaussian_kl(const T* mu, const T* logvar, Index n, T* dmu, T* dlogvar, T scale) {
  using S = detail::Simd<T, A>;
  using V = typename S::V;
  return detail::parallel_sum(n, detail::expensive_grain, [&](Index begin, Index end) {
    const V one = S::broadcast(1), half = S::broadcast(T(0.5)), vscale = S::broadcast(scale);
    return detail::sum_vectors<T, A>(begin, end, [&](Index i, Index m, auto full) {
      const V u = S::load(mu + i, m, full), lv = S::load(logvar + i, m, full);
      const V e = xsimd::exp(lv);
      if (dmu) S::store(dmu + i, vscale * u, m, full);
      if (dlogvar) S::store(dlogvar + i, vscale * half * (e - one), m, full);
      return -half * (one + lv - u * u - e);
    });
  });
}

/// z = mu + eps * exp(logvar / 2); std_out receives exp(logvar / 2) for the backward pass.
template <class T, class A = simd_arch>
void reparameterize(const T* mu, const T* logvar, const T* eps, T* z, T* std_out, Index n) {
  using S = detail::Simd<T, A>;
  aigc::kernels::parallel_for_aligned(n, 64, detail::expensive_grain, [&](Index begin, Index end) {
    const typename S::V half = S::broadcast(T(0.5));
    detail::for_each_vector<T, A>(begin, end, [&](Index i, Index m, auto full) {
      const auto s = xsimd::exp(half * S::load(logvar + i, m, full));
      S::store(std_out + i, s, m, full);
      S::store(z + i, S::load(mu + i, m, full) + S::load(eps + i, m, full) * s, m, full);
    });
  });
}

/// dmu += dz; dlogvar += dz * eps * std / 2 (the backward of reparameterize).
template <class T, class A = simd_arch>
void reparameterize_backward(const T* dz, const T* eps, const T* std_in, T* dmu, T* dlogvar,
                             Index n) {
  using S = detail::Simd<T, A>;
  aigc::kernels::parallel_for_aligned(n, 64, detail::cheap_grain, [&](Index begin, Index end) {
    const typename S::V half = S::broadcast(T(0.5));
    detail::for_each_vector<T, A>(begin, end, [&](Index i, Index m, auto full) {
      const auto d = S::load(dz + i, m, full);
      S::store(dmu + i, S::load(dmu + i, m, full) + d, m, full);
      const auto g = d * S::load(eps + i, m, full) * S::load(std_in + i, m, full) * half;
      S::store(dlogvar + i, S::load(dlogvar + i, m, full) + g, m, full);
    });
  });
}

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
          if (dz) S::store(dz + i, vscale * (detail::sigmoid_of_logit<S>(zi, e) - vt), m, full);
          return detail::bce_of_logit<S>(zi, vt, e);
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
    return detail::sum_vectors<T, A>(begin, end, [&](Index i, Index m, auto full) {
      const V zi = S::load(z + i, m, full);
      return detail::sigmoid_of_logit<S>(zi, xsimd::exp(-xsimd::abs(zi)));
    });
  });
}

}  // namespace aigc::kernels
