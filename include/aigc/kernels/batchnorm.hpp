/// @file
/// aigc: batch normalisation kernels over images stored as batch x C*S (channel c of image n at
/// [n, c S, c S + S); S = H*W for BatchNorm2d, S = 1 for BatchNorm1d over batch x C features).
/// With S > 1 the vectors run along the positions of a plane and the threads split the channels
/// (reductions) or the planes (pointwise passes); with S == 1 the vectors run across the channels
/// of a row and the threads split blocks of channels (reductions) or the rows. Every per-channel
/// sum is taken in an order fixed by the shape alone: bitwise the same for any thread count.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "aigc/core/tensor.hpp"
#include "aigc/kernels/elementwise.hpp"
#include "aigc/kernels/partition.hpp"
#include "aigc/kernels/simd.hpp"

namespace aigc::kernels {

namespace detail {

/// out[c] = sum over n, s of the vectors f(i, m, full, pc) returns, where i is the flat offset of
/// m elements of channel c (S > 1), or of channels [c, c + m) of one row (S == 1), and pc(p)
/// gives the per-channel values p[c] matching those lanes.
template <class T, class A, class F>
void channel_reduce(Index batch, Index C, Index S, T* out, F&& f) {
  using Sd = Simd<T, A>;
  using V = typename Sd::V;
  if (S == 1) {
    const Index grain = std::max<Index>(Sd::W, cheap_grain / std::max<Index>(1, batch));
    aigc::kernels::parallel_for_aligned(C, 4 * Sd::W, grain, [&](Index c0, Index c1) {
      for_each_vector<T, A>(c0, c1, [&](Index c, Index m, auto full) {
        auto pc = [&](const T* p) { return Sd::load(p + c, m, full); };
        V acc = Sd::broadcast(0);
        for (Index n = 0; n < batch; ++n) acc += f(n * C + c, m, full, pc);
        Sd::store(out + c, acc, m, full);
      });
    });
    return;
  }
  // Each plane's sum is independent of the others: the planes are summed in memory order (a
  // stream through the batch, where a channel's planes lie C S values apart), then each
  // channel's plane sums in image order, as one loop over the channel's planes adds them: the
  // same bits for any thread count.
  thread_local std::vector<double> plane_sums_buffer;  // the calling thread's
  plane_sums_buffer.resize(static_cast<std::size_t>(batch * C));
  double* plane_sums = plane_sums_buffer.data();
  const Index grain = std::max<Index>(1, cheap_grain / S);
  aigc::kernels::parallel_for(batch * C, grain, [&](Index p0, Index p1) {
    for (Index p = p0; p < p1; ++p) {
      const Index c = p % C, base = p * S;
      auto pc = [&](const T* v) { return Sd::broadcast(v[c]); };
      plane_sums[p] = sum_vectors<T, A>(
          0, S, [&](Index i, Index m, auto full) { return f(base + i, m, full, pc); });
    }
  });
  for (Index c = 0; c < C; ++c) {
    double total = 0.0;
    for (Index n = 0; n < batch; ++n) total += plane_sums[n * C + c];
    out[c] = static_cast<T>(total);
  }
}

/// Calls f(i, m, full, pc) (as channel_reduce's) once for every vector of the batch, in parallel.
template <class T, class A, class F>
void channel_map(Index batch, Index C, Index S, F&& f) {
  using Sd = Simd<T, A>;
  if (S == 1) {
    const Index grain = std::max<Index>(1, cheap_grain / C);
    aigc::kernels::parallel_for(batch, grain, [&](Index n0, Index n1) {
      for (Index n = n0; n < n1; ++n) {
        for_each_vector<T, A>(0, C, [&](Index c, Index m, auto full) {
          f(n * C + c, m, full, [&](const T* p) { return Sd::load(p + c, m, full); });
        });
      }
    });
    return;
  }
  const Index grain = std::max<Index>(1, cheap_grain / S);
  aigc::kernels::parallel_for(batch * C, grain, [&](Index p0, Index p1) {
    for (Index p = p0; p < p1; ++p) {
      const Index c = p % C;
      auto pc = [&](const T* q) { return Sd::broadcast(q[c]); };
      for_each_vector<T, A>(0, S, [&](Index i, Index m, auto full) { f(p * S + i, m, full, pc); });
    }
  });
}

}  // namespace detail

/// mean[c] and the biased variance var[c] of channel c over the batch and positions (two passes:
/// the variance sums squared deviations from the mean).
template <class T, class A = simd_arch>
void batchnorm_statistics(const T* x, Index batch, Index C, Index S, T* mean, T* var) {
  using Sd = detail::Simd<T, A>;
  const T inv_count = T(1) / static_cast<T>(batch * S);
  detail::channel_reduce<T, A>(batch, C, S, mean, [&](Index i, Index m, auto full, auto) {
    return Sd::load(x + i, m, full);
  });
  for (Index c = 0; c < C; ++c) mean[c] *= inv_count;
  detail::channel_reduce<T, A>(batch, C, S, var, [&](Index i, Index m, auto full, auto pc) {
    const auto d = Sd::load(x + i, m, full) - pc(mean);
    return d * d;
  });
  for (Index c = 0; c < C; ++c) var[c] *= inv_count;
}

/// running = (1 - momentum) running + momentum batch statistic, with the variance unbiased
/// (times count / (count - 1)), as torch.nn.BatchNorm*d.
template <class T>
void batchnorm_update_running(const T* mean, const T* var, Index C, Index count, double momentum,
                              T* running_mean, T* running_var) {
  const double unbias = count > 1 ? static_cast<double>(count) / static_cast<double>(count - 1) : 1;
  for (Index c = 0; c < C; ++c) {
    running_mean[c] = static_cast<T>((1 - momentum) * running_mean[c] + momentum * mean[c]);
    running_var[c] = static_cast<T>((1 - momentum) * running_var[c] + momentum * unbias * var[c]);
  }
}

/// invstd[c] = 1 / sqrt(var[c] + eps).
template <class T>
void batchnorm_invstd(const T* var, Index C, double eps, T* invstd) {
  for (Index c = 0; c < C; ++c) {
    invstd[c] = static_cast<T>(1.0 / std::sqrt(static_cast<double>(var[c]) + eps));
  }
}

/// An activation fused after batch normalisation's affine map (y = act(gamma xhat + beta)). Its
/// backward passes first form g = dy act'(y) through the output y, as activation_backward
/// computes it, in place of dy.
struct BatchNormActivation {
  Activation act = Activation::identity;  ///< applied after the affine map
  double slope = 0.0;                     ///< leaky_relu's negative slope
};

/// xhat = (x - mean[c]) invstd[c]; y = act(gamma[c] xhat + beta[c]) (gamma, beta may be null:
/// 1, 0): the activation layer's pass fused, with its instructions (bitwise its results). xhat
/// may be null: not stored (the backward passes can recompute it from x, see BatchNormXhat).
template <class T, class A = simd_arch>
void batchnorm_normalize(const T* x, Index batch, Index C, Index S, const T* mean, const T* invstd,
                         const T* gamma, const T* beta, T* xhat, T* y,
                         BatchNormActivation act = {}) {
  using Sd = detail::Simd<T, A>;
  detail::with_activation(act.act, [&](auto tag) {
    constexpr Activation a = decltype(tag)::value;
    const typename Sd::V vs = Sd::broadcast(static_cast<T>(act.slope));
    detail::channel_map<T, A>(batch, C, S, [&](Index i, Index m, auto full, auto pc) {
      const auto h = (Sd::load(x + i, m, full) - pc(mean)) * pc(invstd);
      if (xhat) Sd::store(xhat + i, h, m, full);
      auto out = h;
      if (gamma) out = out * pc(gamma);
      if (beta) out = out + pc(beta);
      Sd::store(y + i, detail::activate<a, Sd>(out, vs), m, full);
    });
  });
}

/// Where the backward passes read xhat: stored by batchnorm_normalize (`stored`), or, when that is
/// null, recomputed from the forward's input as batchnorm_normalize computed it,
/// (x - mean[c]) invstd[c]: the same instructions, so the same bits, without a tensor of the
/// input's size written in the forward and kept until the backward.
template <class T>
struct BatchNormXhat {
  const T* stored = nullptr;  ///< xhat as batchnorm_normalize wrote it, or null
  const T* x = nullptr;       ///< else the forward's input
  const T* mean = nullptr;    ///< and the statistics it was normalised with
  const T* invstd = nullptr;  ///< (see mean)
};

namespace detail {
/// xhat at i (m values of the vector, `pc` the per-channel loader of channel_map or
/// channel_reduce), from `xhat`'s store or recomputed.
template <class T, class A, class Full, class PC>
auto load_xhat(const BatchNormXhat<T>& xhat, Index i, Index m, Full full, PC&& pc) {
  using Sd = Simd<T, A>;
  if (xhat.stored) return Sd::load(xhat.stored + i, m, full);
  return (Sd::load(xhat.x + i, m, full) - pc(xhat.mean)) * pc(xhat.invstd);
}

/// f(g) with g(i, m, full) loading the gradient before `a`'s activation at i (the activation
/// fixed at compile time).
template <class T, class A, class F>
void with_pre_activation_grad(const T* dy, const T* y, const BatchNormActivation& a, F&& f) {
  using Sd = Simd<T, A>;
  with_activation(a.act, [&](auto tag) {
    constexpr Activation act = decltype(tag)::value;
    const typename Sd::V vs = Sd::broadcast(static_cast<T>(a.slope));
    f([&](Index i, Index m, auto full) {
      if constexpr (act == Activation::identity) {
        return Sd::load(dy + i, m, full);
      } else {
        return activate_backward<act, Sd>(Sd::load(dy + i, m, full), Sd::load(y + i, m, full), vs);
      }
    });
  });
}
}  // namespace detail

/// The sums behind batchnorm_backward: sum_dy[c] = sum g, sum_dy_xhat[c] = sum g xhat over the
/// batch's values of channel c, g = dy act'(y) with a fused activation (y the forward's output),
/// else dy.
template <class T, class A = simd_arch>
void batchnorm_backward_sums(const T* dy, const BatchNormXhat<T>& xhat, Index batch, Index C,
                             Index S, T* sum_dy, T* sum_dy_xhat, const T* y = nullptr,
                             BatchNormActivation act = {}) {
  detail::with_pre_activation_grad<T, A>(dy, y, act, [&](auto g) {
    detail::channel_reduce<T, A>(batch, C, S, sum_dy,
                                 [&](Index i, Index m, auto full, auto) { return g(i, m, full); });
    detail::channel_reduce<T, A>(
        batch, C, S, sum_dy_xhat, [&](Index i, Index m, auto full, auto pc) {
          return g(i, m, full) * detail::load_xhat<T, A>(xhat, i, m, full, pc);
        });
  });
}

/// The input gradient of batchnorm_normalize from the sums of batchnorm_backward_sums over
/// `count` values per channel (this batch's, or all processes' for synchronised statistics),
/// with k = gamma invstd:
///   batch statistics (train):  dx = k (g - sum_dy / count - xhat sum_dy_xhat / count),
///   fixed statistics (eval):   dx = k g,
/// g = dy act'(y) with a fused activation, else dy. scratch holds 3 C values.
template <class T, class A = simd_arch>
void batchnorm_backward_input(const T* dy, const BatchNormXhat<T>& xhat, Index batch, Index C,
                              Index S, const T* gamma, const T* invstd, bool batch_statistics,
                              const T* sum_dy, const T* sum_dy_xhat, Index count, T* dx, T* scratch,
                              const T* y = nullptr, BatchNormActivation act = {}) {
  using Sd = detail::Simd<T, A>;
  T* mean_dy = scratch;
  T* mean_dy_xhat = scratch + C;
  T* k = scratch + 2 * C;
  const T inv_count = T(1) / static_cast<T>(count);
  for (Index c = 0; c < C; ++c) {  // sums become means
    k[c] = (gamma ? gamma[c] : T(1)) * invstd[c];
    mean_dy[c] = sum_dy[c] * inv_count;
    mean_dy_xhat[c] = sum_dy_xhat[c] * inv_count;
  }
  detail::with_pre_activation_grad<T, A>(dy, y, act, [&](auto g) {
    detail::channel_map<T, A>(batch, C, S, [&](Index i, Index m, auto full, auto pc) {
      auto d = g(i, m, full);
      if (batch_statistics) {
        d = d - pc(mean_dy) - detail::load_xhat<T, A>(xhat, i, m, full, pc) * pc(mean_dy_xhat);
      }
      Sd::store(dx + i, pc(k) * d, m, full);
    });
  });
}

/// The backward of batchnorm_normalize: dbeta[c] += sum g, dgamma[c] += sum g xhat (either may
/// be null), and, when dx is not null, with k = gamma invstd:
///   batch statistics (train):  dx = k (g - mean(g) - xhat mean(g xhat)),
///   fixed statistics (eval):   dx = k g,
/// where g = dy act'(y) with a fused activation (y the forward's output), else dy.
/// scratch holds 5 C values.
template <class T, class A = simd_arch>
void batchnorm_backward(const T* dy, const BatchNormXhat<T>& xhat, Index batch, Index C, Index S,
                        const T* gamma, const T* invstd, bool batch_statistics, T* dgamma, T* dbeta,
                        T* dx, T* scratch, const T* y = nullptr, BatchNormActivation act = {}) {
  T* sum_dy = scratch + 3 * C;
  T* sum_dy_xhat = scratch + 4 * C;
  batchnorm_backward_sums<T, A>(dy, xhat, batch, C, S, sum_dy, sum_dy_xhat, y, act);
  for (Index c = 0; c < C; ++c) {
    if (dgamma) dgamma[c] += sum_dy_xhat[c];
    if (dbeta) dbeta[c] += sum_dy[c];
  }
  if (!dx) return;
  batchnorm_backward_input<T, A>(dy, xhat, batch, C, S, gamma, invstd, batch_statistics, sum_dy,
                                 sum_dy_xhat, batch * S, dx, scratch, y, act);
}

}  // namespace aigc::kernels
