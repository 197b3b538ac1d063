/// @file
/// aigc: the SIMD layer under every hot loop. Kernels are written once on Simd<T, A>::V, which is
/// xsimd::batch<T, A> for the architecture xsimd picks at compile time (AVX-512 with
/// -march=native on this machine, SSE2 on plain x86-64), or T itself for scalar_arch: the
/// fallback when xsimd has no architecture, also instantiated by the tests.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

// GCC 12 reports the deliberately undefined pass-through operands of AVX-512 intrinsics inside
// xsimd's exp/log as uninitialized (GCC bug 105593); silence that for xsimd's code only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <xsimd/xsimd.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include "aigc/core/tensor.hpp"

namespace aigc::kernels {

/// One lane: every kernel's portable fallback.
struct scalar_arch {
  /// The architecture's name, as xsimd's architectures have one.
  static constexpr const char* name() { return "scalar"; }
};

/// The architecture every kernel is compiled for by default: the best one the compiler's flags
/// allow (e.g. avx512bw with -march=native on a Skylake server), scalar_arch without SIMD.
#if defined(XSIMD_NO_SUPPORTED_ARCHITECTURE)
using simd_arch = scalar_arch;
#else
using simd_arch = xsimd::default_arch;
#endif

namespace detail {

/// Largest alignment any batch needs (AVX-512: 64 bytes).
inline constexpr std::size_t simd_alignment = 64;

/// Loads, stores and lane reductions of V = xsimd::batch<T, A>, W lanes. The `full` overloads
/// touch W elements; the partial ones touch n < W elements and pad loads with zeros.
template <class T, class A>
struct Simd {
  using V = xsimd::batch<T, A>;
  static constexpr Index W = static_cast<Index>(V::size);
  /// Vector registers of the architecture (the GEMM micro-kernel sizes its tile by it).
  static constexpr int registers = std::is_base_of_v<xsimd::avx512f, A> ? 32 : 16;

  static V broadcast(T x) { return V(x); }
  static V load(const T* p, Index, std::true_type) { return V::load_unaligned(p); }
  static V load(const T* p, Index n, std::false_type) {
    alignas(simd_alignment) T buf[W] = {};
    std::copy_n(p, n, buf);
    return V::load_aligned(buf);
  }
  static V load_aligned(const T* p) { return V::load_aligned(p); }
  static void store(T* p, const V& v, Index, std::true_type) { v.store_unaligned(p); }
  static void store(T* p, const V& v, Index n, std::false_type) {
    alignas(simd_alignment) T buf[W];
    v.store_aligned(buf);
    std::copy_n(buf, n, p);
  }
  static void store_aligned(T* p, const V& v) { v.store_aligned(p); }
  /// Sum of the first n lanes, in double, in lane order.
  static double sum(const V& v, Index n = W) {
    alignas(simd_alignment) T buf[W];
    v.store_aligned(buf);
    double s = 0.0;
    for (Index i = 0; i < n; ++i) s += static_cast<double>(buf[i]);
    return s;
  }
  static V fma(const V& a, const V& b, const V& c) { return xsimd::fma(a, b, c); }
  template <class M>
  static V select(const M& mask, const V& a, const V& b) {
    return xsimd::select(mask, a, b);
  }
};

template <class T>
struct Simd<T, scalar_arch> {
  using V = T;
  static constexpr Index W = 1;
  static constexpr int registers = 16;

  static V broadcast(T x) { return x; }
  template <class Full>
  static V load(const T* p, Index, Full) {
    return *p;
  }
  static V load_aligned(const T* p) { return *p; }
  template <class Full>
  static void store(T* p, const V& v, Index, Full) {
    *p = v;
  }
  static void store_aligned(T* p, const V& v) { *p = v; }
  static double sum(const V& v, Index n = 1) { return n > 0 ? static_cast<double>(v) : 0.0; }
  static V fma(const V& a, const V& b, const V& c) { return a * b + c; }
  static V select(bool mask, const V& a, const V& b) { return mask ? a : b; }
};

/// Calls body(i, n, full) for consecutive vectors of [begin, end): n == W with full a
/// std::true_type, then once with the remaining n < W elements and a std::false_type.
template <class T, class A, class Body>
inline void for_each_vector(Index begin, Index end, Body&& body) {
  constexpr Index W = Simd<T, A>::W;
  Index i = begin;
  for (; i + W <= end; i += W) body(i, W, std::true_type{});
  if (i < end) body(i, end - i, std::false_type{});
}

}  // namespace detail
}  // namespace aigc::kernels
