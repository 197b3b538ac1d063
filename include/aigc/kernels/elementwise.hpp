/// @file
/// aigc: elementwise kernels: fused bias + activation and its backward, copies, gathers, column
/// sums, and the deterministic parallel sum the losses build on. Written once on Simd<T, A>::V
/// (vectorised exp/log/tanh from xsimd, a padded last vector), split over the threads; sums are
/// bitwise the same for any number of threads.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>

#include "aigc/core/activation.hpp"
#include "aigc/core/tensor.hpp"
#include "aigc/kernels/partition.hpp"
#include "aigc/kernels/simd.hpp"

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
  aigc::kernels::parallel_for(chunks, std::max<Index>(1, grain / size), [&](Index c0, Index c1) {
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
  aigc::kernels::parallel_for_aligned(n, 64, 4 * detail::cheap_grain, [&](Index begin, Index end) {
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
  aigc::kernels::parallel_for(rows, grain, [&](Index r0, Index r1) {
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
  aigc::kernels::parallel_for_aligned(n, 64, 4 * detail::cheap_grain, [&](Index begin, Index end) {
    detail::for_each_vector<T, A>(begin, end, [&](Index i, Index m, auto full) {
      S::store(y + i, S::load(y + i, m, full) + S::load(x + i, m, full), m, full);
    });
  });
}

/// x[i] = value (zeroing gradients), split over the threads in ranges of at least `grain`.
template <class T>
void fill(T* x, Index n, T value, Index grain = 4 * detail::cheap_grain) {
  aigc::kernels::parallel_for_aligned(
      n, 64, grain, [&](Index begin, Index end) { std::fill(x + begin, x + end, value); });
}

/// y[r, c] = act(y[r, c] + b[c]) in place; b may be null (no bias).
template <class T, class A = simd_arch>
void bias_activation_forward(T* y, const T* b, Index rows, Index cols, Activation act, T slope) {
  if (rows <= 0 || cols <= 0) return;
  const Index grain_rows = std::max<Index>(1, detail::grain_for(act) / cols);
  aigc::kernels::parallel_for(rows, grain_rows, [&](Index r0, Index r1) {
    detail::bias_activation_block<T, A>(y + r0 * cols, cols, b, r1 - r0, cols, act, slope);
  });
}

/// y = act(x) for n values (x and y may be the same): the activation layer's pass, one read and
/// one write per value.
template <class T, class A = simd_arch>
void activation_forward(const T* x, T* y, Index n, Activation act, T slope) {
  using S = detail::Simd<T, A>;
  detail::with_activation(act, [&](auto tag) {
    constexpr Activation a = decltype(tag)::value;
    aigc::kernels::parallel_for_aligned(n, 64, detail::grain_for(act), [&](Index begin, Index end) {
      const typename S::V vs = S::broadcast(slope);
      detail::for_each_vector<T, A>(begin, end, [&](Index i, Index m, auto full) {
        S::store(y + i, detail::activate<a, S>(S::load(x + i, m, full), vs), m, full);
      });
    });
  });
}

/// dx = dy * act'(x), with act' expressed through the output y = act(x) (slope > 0 for leaky).
template <class T, class A = simd_arch>
void activation_backward(const T* dy, const T* y, T* dx, Index n, Activation act, T slope) {
  using S = detail::Simd<T, A>;
  detail::with_activation(act, [&](auto tag) {
    constexpr Activation a = decltype(tag)::value;
    aigc::kernels::parallel_for_aligned(n, 64, detail::cheap_grain, [&](Index begin, Index end) {
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
  aigc::kernels::parallel_for_aligned(cols, block, grain, [&](Index c0, Index c1) {
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

}  // namespace aigc::kernels
