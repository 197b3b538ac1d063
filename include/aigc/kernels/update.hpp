/// @file
/// aigc: optimiser update kernels (PyTorch's formulas), vectorised and split over the threads.
#pragma once

#include <cmath>

#include "aigc/core/tensor.hpp"
#include "aigc/kernels/elementwise.hpp"
#include "aigc/kernels/partition.hpp"
#include "aigc/kernels/simd.hpp"

namespace aigc::kernels {

/// The grain of every pass over a parameter or its gradient (zeroing, the finite check, clipping,
/// the update): the passes split a parameter at the same element boundaries, so each core works
/// on the elements it worked on in the previous pass, in its own cache. A single-threaded pass
/// over a small weight (the VAE's 40 x 400) had to fetch the half the other core updated: zeroing
/// it took 7 us on 2 threads against 0.8 on 1.
inline constexpr Index parameter_grain = Index{1} << 11;

/// SGD with momentum (torch.optim.SGD): g += wd p; buf = first ? g : mu buf + (1 - damp) g;
/// g = nesterov ? g + mu buf : buf; p -= lr g.
template <class T, class A = simd_arch>
void sgd_update(T* p, const T* grad, T* buf, Index n, T lr, T momentum, T dampening, T weight_decay,
                bool nesterov, bool first_step) {
  using S = detail::Simd<T, A>;
  using V = typename S::V;
  aigc::kernels::parallel_for_aligned(n, 64, parameter_grain, [&](Index begin, Index end) {
    const V vlr = S::broadcast(lr), vmu = S::broadcast(momentum), vwd = S::broadcast(weight_decay);
    const V keep = S::broadcast(T(1) - dampening);
    detail::for_each_vector<T, A>(begin, end, [&](Index i, Index m, auto full) {
      const V pi = S::load(p + i, m, full);
      V g = S::load(grad + i, m, full);
      if (weight_decay != T(0)) g += vwd * pi;
      if (momentum != T(0)) {
        const V b = first_step ? g : vmu * S::load(buf + i, m, full) + keep * g;
        S::store(buf + i, b, m, full);
        g = nesterov ? g + vmu * b : b;
      }
      S::store(p + i, pi - vlr * g, m, full);
    });
  });
}

/// Adam / AdamW (torch.optim.Adam, AdamW): m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
/// p -= step_size * m / (sqrt(v) / bias2_sqrt + eps), with step_size = lr / (1 - b1^t); the
/// division by bias2_sqrt is a multiplication by its reciprocal (one division less per element).
/// decoupled_decay multiplies p by (1 - lr wd) first (AdamW); otherwise g += wd p (Adam).
template <class T, class A = simd_arch>
void adam_update(T* p, const T* grad, T* m, T* v, Index n, T beta1, T beta2, T step_size,
                 T bias2_sqrt, T eps, T weight_decay, T decoupled_decay) {
  using S = detail::Simd<T, A>;
  using V = typename S::V;
  aigc::kernels::parallel_for_aligned(n, 64, parameter_grain, [&](Index begin, Index end) {
    const V one_b1 = S::broadcast(T(1) - beta1), vb2 = S::broadcast(beta2);
    const V one_b2 = S::broadcast(T(1) - beta2), vstep = S::broadcast(step_size);
    const V inv_bias2 = S::broadcast(T(1) / bias2_sqrt), veps = S::broadcast(eps);
    const V vwd = S::broadcast(weight_decay), vdecay = S::broadcast(decoupled_decay);
    detail::for_each_vector<T, A>(begin, end, [&](Index i, Index k, auto full) {
      V pi = S::load(p + i, k, full);
      if (decoupled_decay != T(1)) pi *= vdecay;
      V g = S::load(grad + i, k, full);
      if (weight_decay != T(0)) g += vwd * pi;
      V mi = S::load(m + i, k, full), vi = S::load(v + i, k, full);
      mi += (g - mi) * one_b1;
      vi = vb2 * vi + one_b2 * g * g;
      const V denom = xsimd::sqrt(vi) * inv_bias2 + veps;
      S::store(m + i, mi, k, full);
      S::store(v + i, vi, k, full);
      S::store(p + i, pi - vstep * (mi / denom), k, full);
    });
  });
}

/// Sum of squares of x[0, n), bitwise the same for any number of threads.
template <class T, class A = simd_arch>
double sum_of_squares(const T* x, Index n) {
  using S = detail::Simd<T, A>;
  return detail::parallel_sum(n, parameter_grain, [&](Index begin, Index end) {
    return detail::sum_vectors<T, A>(begin, end, [&](Index i, Index m, auto full) {
      const auto xi = S::load(x + i, m, full);
      return xi * xi;
    });
  });
}

/// True when x[0, n) holds no NaN and no infinity (x - x is 0 for finite x, NaN otherwise).
template <class T, class A = simd_arch>
bool all_finite(const T* x, Index n) {
  using S = detail::Simd<T, A>;
  const double s = detail::parallel_sum(n, parameter_grain, [&](Index begin, Index end) {
    return detail::sum_vectors<T, A>(begin, end, [&](Index i, Index m, auto full) {
      const auto xi = S::load(x + i, m, full);
      return xi - xi;
    });
  });
  return s == 0.0;
}

/// x *= a.
template <class T, class A = simd_arch>
void scale(T* x, Index n, T a) {
  using S = detail::Simd<T, A>;
  aigc::kernels::parallel_for_aligned(n, 64, parameter_grain, [&](Index begin, Index end) {
    const auto va = S::broadcast(a);
    detail::for_each_vector<T, A>(begin, end, [&](Index i, Index m, auto full) {
      S::store(x + i, S::load(x + i, m, full) * va, m, full);
    });
  });
}

/// x_i = min(max(x_i, lo), hi): the weight clipping of a Wasserstein critic.
template <class T, class A = simd_arch>
void clamp(T* x, Index n, T lo, T hi) {
  using S = detail::Simd<T, A>;
  aigc::kernels::parallel_for_aligned(n, 64, detail::cheap_grain, [&](Index begin, Index end) {
    const typename S::V vlo = S::broadcast(lo), vhi = S::broadcast(hi);
    detail::for_each_vector<T, A>(begin, end, [&](Index i, Index m, auto full) {
      const auto v = S::load(x + i, m, full);
      S::store(x + i, S::select(v < vlo, vlo, S::select(v > vhi, vhi, v)), m, full);
    });
  });
}

/// avg += (1 - decay) (x - avg): one step of an exponential moving average.
template <class T, class A = simd_arch>
void moving_average(T* avg, const T* x, Index n, T decay) {
  using S = detail::Simd<T, A>;
  aigc::kernels::parallel_for_aligned(n, 64, parameter_grain, [&](Index begin, Index end) {
    const auto rate = S::broadcast(T(1) - decay);
    detail::for_each_vector<T, A>(begin, end, [&](Index i, Index m, auto full) {
      const auto a = S::load(avg + i, m, full);
      S::store(avg + i, a + (S::load(x + i, m, full) - a) * rate, m, full);
    });
  });
}

}  // namespace aigc::kernels
