/// @file
/// aigc: elementwise kernels: fused bias + activation and its backward, column sums, and the
/// pointwise parts of the losses. Written once on Simd<T, A>::V (vectorised exp/log/tanh from
/// xsimd, a padded last vector), split over the threads; the losses' sums are bitwise the same
/// for any number of threads.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>

#include "aigc/core/error.hpp"
#include "aigc/core/tensor.hpp"
#include "aigc/kernels/parallel.hpp"
#include "aigc/kernels/simd.hpp"

namespace aigc {

/// A pointwise activation, fused into the layers' output passes.
enum class Activation {
  identity,    ///< y = x
  relu,        ///< y = max(x, 0)
  leaky_relu,  ///< y = x for x > 0, else slope * x
  sigmoid,     ///< y = 1 / (1 + exp(-x))
  tanh         ///< y = tanh(x)
};

/// The activation's name in model files: "identity", "relu", "leaky_relu", "sigmoid", "tanh".
inline const char* activation_name(Activation a) {
  switch (a) {
    case Activation::identity:
      return "identity";
    case Activation::relu:
      return "relu";
    case Activation::leaky_relu:
      return "leaky_relu";
    case Activation::sigmoid:
      return "sigmoid";
    case Activation::tanh:
      return "tanh";
  }
  return "?";
}

/// The activation named `name` (as activation_name gives it); ArgumentError quoting it otherwise.
inline Activation activation_from_name(const std::string& name) {
  for (Activation a : {Activation::identity, Activation::relu, Activation::leaky_relu,
                       Activation::sigmoid, Activation::tanh}) {
    if (name == activation_name(a)) return a;
  }
  throw ArgumentError("unknown activation '" + name +
                      "' (known: identity, relu, leaky_relu, sigmoid, tanh)");
}

}  // namespace aigc

namespace aigc::kernels {

namespace detail {

/// Elements per thread below which a pass stays on one thread (fork/join costs a few µs).
inline constexpr Index cheap_grain = Index{1} << 12;      ///< a few flops per element
inline constexpr Index expensive_grain = Index{1} << 11;  ///< an exp, log or tanh per element

/// Calls f(std::integral_constant<Activation, act>) for the run-time act.
template <class F>
void with_activation(Activation act, F&& f) {
  using A = Activation;
  switch (act) {
    case A::identity:
      f(std::integral_constant<A, A::identity>{});
      break;
    case A::relu:
      f(std::integral_constant<A, A::relu>{});
      break;
    case A::leaky_relu:
      f(std::integral_constant<A, A::leaky_relu>{});
      break;
    case A::sigmoid:
      f(std::integral_constant<A, A::sigmoid>{});
      break;
    case A::tanh:
      f(std::integral_constant<A, A::tanh>{});
      break;
  }
}

/// act(v).
template <Activation act, class S, class V>
V activate(const V& v, const V& slope) {
  const V zero = S::broadcast(0);
  if constexpr (act == Activation::identity) {
    return v;
  } else if constexpr (act == Activation::relu) {
    return S::select(v > zero, v, zero);
  } else if constexpr (act == Activation::leaky_relu) {
    return S::select(v > zero, v, slope * v);
  } else if constexpr (act == Activation::sigmoid) {
    const V one = S::broadcast(1);
    return one / (one + xsimd::exp(-v));
  } else {
    return xsimd::tanh(v);
  }
}

/// dy * act'(x), through the output y = act(x).
template <Activation act, class S, class V>
V activate_backward(const V& dy, const V& y, const V& slope) {
  const V zero = S::broadcast(0), one = S::broadcast(1);
  if constexpr (act == Activation::identity) {
    return dy;
  } else if constexpr (act == Activation::relu) {
    return S::select(y > zero, dy, zero);
  } else if constexpr (act == Activation::leaky_relu) {
    return S::select(y > zero, dy, slope * dy);
  } else if constexpr (act == Activation::sigmoid) {
    return dy * y * (one - y);
  } else {
    return dy * (one - y * y);
  }
}

/// Threads for a pass of n elements with the given grain.
inline Index grain_for(Activation act) {
  return act == Activation::sigmoid || act == Activation::tanh ? expensive_grain : cheap_grain;
}

/// Sums chunk(begin, end) over [0, n) cut into chunks that depend on n alone (multiples of 64
/// elements, at most 256 of them), computed in parallel and added in chunk order: the result is
/// bitwise the same for any number of threads.
template <class F>
double parallel_sum(Index n, Index grain, F&& chunk) {
  constexpr Index max_chunks = 256;
  if (n <= 0) return 0.0;
  Index size = std::max<Index>(1024, (n + max_chunks - 1) / max_chunks);
  size = (size + 63) / 64 * 64;
  const Index chunks = (n + size - 1) / size;
  double partial[max_chunks];
  aigc::detail::parallel_for(chunks, std::max<Index>(1, grain / size), [&](Index c0, Index c1) {
    for (Index c = c0; c < c1; ++c) partial[c] = chunk(c * size, std::min(n, (c + 1) * size));
  });
  double sum = 0.0;
  for (Index c = 0; c < chunks; ++c) sum += partial[c];
  return sum;
}

/// Sums, over [begin, end), the vectors term(i, n, full) returns (only the first n lanes of the
/// last, partial one): per-lane sums in T, then the lanes in order, in double.
template <class T, class A, class Term>
double sum_vectors(Index begin, Index end, Term&& term) {
  using S = Simd<T, A>;
  typename S::V acc = S::broadcast(0);
  double tail = 0.0;
  for_each_vector<T, A>(begin, end, [&](Index i, Index n, auto full) {
    if constexpr (decltype(full)::value) {
      acc += term(i, n, full);
    } else {
      tail = S::sum(term(i, n, full), n);
    }
  });
  return S::sum(acc) + tail;
}

/// y[r, c] = act(y[r, c] + b[c]) for r < rows, c < cols, rows ld apart, on the calling thread.
template <class T, class A>
void bias_activation_block(T* y, Index ld, const T* b, Index rows, Index cols, Activation act,
                           T slope) {
  using S = Simd<T, A>;
  with_activation(act, [&](auto tag) {
    constexpr Activation a = decltype(tag)::value;
    const typename S::V vs = S::broadcast(slope);
    for (Index r = 0; r < rows; ++r) {
      T* row = y + r * ld;
      for_each_vector<T, A>(0, cols, [&](Index c, Index n, auto full) {
        typename S::V v = S::load(row + c, n, full);
        if (b) v += S::load(b + c, n, full);
        S::store(row + c, activate<a, S>(v, vs), n, full);
      });
    }
  });
}

}  // namespace detail

/// dst[i] = src[i] (the caches of the layers' inputs).
template <class T>
void copy(const T* src, T* dst, Index n) {
  aigc::detail::parallel_for_aligned(n, 64, 4 * detail::cheap_grain, [&](Index begin, Index end) {
    std::copy(src + begin, src + end, dst + begin);
  });
}

/// Row r of dst (cols values) = row index[r] of src: a mini-batch gathered from a data set.
/// The rows are scattered over a data set larger than the caches, so each row's lines are
/// prefetched two rows ahead of its copy: the memory latencies of the next rows overlap the
/// copy of this one (a VAE batch from Fashion-MNIST: 26-32 -> 19-22 us on 2 threads, 43-49 ->
/// 30-33 us on one, three alternating runs each).
template <class T>
void gather_rows(const T* src, Index cols, const Index* index, Index rows, T* dst) {
  constexpr Index ahead = 2;
  const Index grain = std::max<Index>(1, 4 * detail::cheap_grain / std::max<Index>(1, cols));
  aigc::detail::parallel_for(rows, grain, [&](Index r0, Index r1) {
    auto prefetch = [&](Index r) {
#if defined(__GNUC__)
      const char* p = reinterpret_cast<const char*>(src + index[r] * cols);
      for (Index b = 0; b < cols * static_cast<Index>(sizeof(T)); b += 64)
        __builtin_prefetch(p + b);
#else
      (void)r;
#endif
    };
    for (Index r = r0; r < std::min(r1, r0 + ahead); ++r) prefetch(r);
    for (Index r = r0; r < r1; ++r) {
      if (r + ahead < r1) prefetch(r + ahead);
      std::copy_n(src + index[r] * cols, cols, dst + r * cols);
    }
  });
}

/// y[i] += x[i].
template <class T, class A = simd_arch>
void add_inplace(T* y, const T* x, Index n) {
  using S = detail::Simd<T, A>;
  aigc::detail::parallel_for_aligned(n, 64, 4 * detail::cheap_grain, [&](Index begin, Index end) {
    detail::for_each_vector<T, A>(begin, end, [&](Index i, Index m, auto full) {
      S::store(y + i, S::load(y + i, m, full) + S::load(x + i, m, full), m, full);
    });
  });
}

/// x[i] = value (zeroing gradients), split over the threads in ranges of at least `grain`.
template <class T>
void fill(T* x, Index n, T value, Index grain = 4 * detail::cheap_grain) {
  aigc::detail::parallel_for_aligned(
      n, 64, grain, [&](Index begin, Index end) { std::fill(x + begin, x + end, value); });
}

/// y[r, c] = act(y[r, c] + b[c]) in place; b may be null (no bias).
template <class T, class A = simd_arch>
void bias_activation_forward(T* y, const T* b, Index rows, Index cols, Activation act, T slope) {
  if (rows <= 0 || cols <= 0) return;
  const Index grain_rows = std::max<Index>(1, detail::grain_for(act) / cols);
  aigc::detail::parallel_for(rows, grain_rows, [&](Index r0, Index r1) {
    detail::bias_activation_block<T, A>(y + r0 * cols, cols, b, r1 - r0, cols, act, slope);
  });
}

/// dx = dy * act'(x), with act' expressed through the output y = act(x) (slope > 0 for leaky).
template <class T, class A = simd_arch>
void activation_backward(const T* dy, const T* y, T* dx, Index n, Activation act, T slope) {
  using S = detail::Simd<T, A>;
  detail::with_activation(act, [&](auto tag) {
    constexpr Activation a = decltype(tag)::value;
    aigc::detail::parallel_for_aligned(n, 64, detail::cheap_grain, [&](Index begin, Index end) {
      const typename S::V vs = S::broadcast(slope);
      detail::for_each_vector<T, A>(begin, end, [&](Index i, Index m, auto full) {
        const auto d =
            detail::activate_backward<a, S>(S::load(dy + i, m, full), S::load(y + i, m, full), vs);
        S::store(dx + i, d, m, full);
      });
    });
  });
}

/// out[c] (+)= sum over r of x[r, c], rows added in order (as a naive loop would).
template <class T, class A = simd_arch>
void column_sums(const T* x, Index rows, Index cols, T* out, bool accumulate) {
  using S = detail::Simd<T, A>;
  constexpr Index W = S::W, block = 4 * W;
  const Index grain = std::max<Index>(block, detail::cheap_grain / std::max<Index>(1, rows));
  aigc::detail::parallel_for_aligned(cols, block, grain, [&](Index c0, Index c1) {
    for (Index cb = c0; cb < c1; cb += block) {  // four vectors of columns summed down the rows
      const Index ce = std::min(c1, cb + block);
      detail::for_each_vector<T, A>(cb, ce, [&](Index c, Index n, auto full) {
        typename S::V acc = accumulate ? S::load(out + c, n, full) : S::broadcast(0);
        for (Index r = 0; r < rows; ++r) acc += S::load(x + r * cols + c, n, full);
        S::store(out + c, acc, n, full);
      });
    }
  });
}

/// Sum over i of BCE(sigmoid(z_i), t_i) = max(z,0) - z*t + log(1 + exp(-|z|)), stable for any z.
/// When dz is not null, dz_i = scale * (sigmoid(z_i) - t_i).
template <class T, class A = simd_arch>
double bce_with_logits(const T* z, const T* t, Index n, T* dz, T scale) {
  using S = detail::Simd<T, A>;
  using V = typename S::V;
  return detail::parallel_sum(n, detail::expensive_grain, [&](Index begin, Index end) {
    const V zero = S::broadcast(0), one = S::broadcast(1), vscale = S::broadcast(scale);
    return detail::sum_vectors<T, A>(begin, end, [&](Index i, Index m, auto full) {
      const V zi = S::load(z + i, m, full), ti = S::load(t + i, m, full);
      const V e = xsimd::exp(-xsimd::abs(zi));
      if (dz) {
        const V s = S::select(zi >= zero, one, e) / (one + e);
        S::store(dz + i, vscale * (s - ti), m, full);
      }
      return S::select(zi > zero, zi, zero) - zi * ti + xsimd::log1p(e);
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
  aigc::detail::parallel_for_aligned(n, 64, detail::expensive_grain, [&](Index begin, Index end) {
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
  aigc::detail::parallel_for_aligned(n, 64, detail::cheap_grain, [&](Index begin, Index end) {
    const typename S::V half = S::broadcast(T(0.5));
    detail::for_each_vector<T, A>(begin, end, [&](Index i, Index m, auto full) {
      const auto d = S::load(dz + i, m, full);
      S::store(dmu + i, S::load(dmu + i, m, full) + d, m, full);
      const auto g = d * S::load(eps + i, m, full) * S::load(std_in + i, m, full) * half;
      S::store(dlogvar + i, S::load(dlogvar + i, m, full) + g, m, full);
    });
  });
}

}  // namespace aigc::kernels
