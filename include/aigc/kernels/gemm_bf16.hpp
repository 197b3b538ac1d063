/// @file
/// aigc: C = alpha op(A) op(B) + beta C with the products taken in bfloat16: the operands are
/// rounded to bfloat16 (to nearest, ties to even) while they are packed, pairs of products are
/// summed in FP32 by AVX-512 BF16's `vdpbf16ps` (twice the FP32 FMA rate on the CPUs that have
/// it), and C stays FP32. xsimd 8.1 has no bfloat16 batch, so the micro-kernel is written on the
/// intrinsics, here alone; it is compiled when the target has AVX-512 BF16 (`__AVX512BF16__`,
/// e.g. -march=native on AMD Zen 4 or Intel Sapphire Rapids). Everywhere else gemm_bf16 is the
/// FP32 gemm (has_bf16_products says which).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "aigc/core/tensor.hpp"
#include "aigc/kernels/gemm.hpp"
#include "aigc/kernels/partition.hpp"
#include "aigc/kernels/scratch.hpp"

#if defined(__AVX512BF16__) && defined(__AVX512F__)
#include <immintrin.h>
#define AIGC_BF16_PRODUCTS 1
#endif

namespace aigc {

/// The precision of a layer's products (Dense, Conv2d, ConvTranspose2d, forward and backward):
/// FP32, or bfloat16 operands with FP32 sums (mixed precision: weights, gradients, optimiser
/// state and everything else stay FP32). See set_precision in layers/precision.hpp.
enum class Precision {
  fp32,  ///< FP32 products (the default)
  bf16   ///< bfloat16 products, FP32 sums (on AVX-512 BF16 targets; FP32 elsewhere)
};

}  // namespace aigc

namespace aigc::kernels {

/// Whether this build takes gemm_bf16's products in bfloat16 (else gemm_bf16 is gemm).
#ifdef AIGC_BF16_PRODUCTS
inline constexpr bool has_bf16_products = true;
#else
inline constexpr bool has_bf16_products = false;
#endif

/// x rounded to bfloat16 (its upper 16 bits), to nearest with ties to even; a NaN stays a NaN.
inline std::uint16_t to_bf16(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>(u >> 16);
}

/// The float of a bfloat16 value.
inline float from_bf16(std::uint16_t h) {
  const std::uint32_t u = static_cast<std::uint32_t>(h) << 16;
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

#ifdef AIGC_BF16_PRODUCTS
namespace detail {

/// Tiles of 8 rows by 48 columns (3 vectors of 16 FP32 sums: 24 of the 32 registers); depth
/// blocks of at most 1024 values (512 pairs), fixed by K alone; column groups of 4 panels (192
/// columns) whose packed depth block (384 KB) stays in L2 while the A panels stream past it.
struct Bf16Blocking {
  static constexpr Index MR = 8, NV = 3, NR = 48, KC = 1024, NC_PANELS = 4;
};

/// n floats (n <= 32, zeros past n) as n/2 rounded up pairs of bfloat16, in order: pair i holds
/// src[2 i] in its low half. vcvtne2ps2bf16 rounds to nearest even and flushes denormals to zero.
template <class T>
__m512i bf16_pairs_contiguous(const T* src, Index n) {
  const auto lo_mask = static_cast<__mmask16>(n >= 16 ? 0xffffu : (1u << n) - 1u);
  const auto hi_mask = static_cast<__mmask16>(n >= 32   ? 0xffffu
                                              : n <= 16 ? 0u
                                                        : (1u << (n - 16)) - 1u);
  const __m512 lo = _mm512_maskz_loadu_ps(lo_mask, src);
  const __m512 hi = _mm512_maskz_loadu_ps(hi_mask, src + 16);
  return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
}

/// n values (n <= 16, zeros past n) of two rows as n pairs of bfloat16: pair i holds lo[i] in its
/// low half and hi[i] (zero when hi is null) in its high half.
template <class T>
__m512i bf16_pairs_interleaved(const T* lo, const T* hi, Index n) {
  const auto mask = static_cast<__mmask16>(n >= 16 ? 0xffffu : (1u << n) - 1u);
  const __m512 l = _mm512_maskz_loadu_ps(mask, lo);
  const __m512 h = hi ? _mm512_maskz_loadu_ps(mask, hi) : _mm512_setzero_ps();
  const __m512i both = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(h, l));  // l0..l15 h0..h15
  const __m512i order = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24,
                                         8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  return _mm512_permutexvar_epi16(order, both);
}

/// Transposes the 16 x 16 matrix of 32-bit values whose row i is r[i]: four rounds, each swapping
/// the off-diagonal s x s blocks of every 2s x 2s block (s = 8, 4, 2, 1) with two-source
/// permutes. (The unpack and shuffle intrinsics of the usual sequence trip GCC 12's
/// -Wuninitialized through their _mm512_undefined operands.)
template <int S>
void swap_blocks(__m512i r[16]) {
  alignas(64) static constexpr int lo[16] = {
      (0 & S) ? 16 + 0 - S : 0,    (1 & S) ? 16 + 1 - S : 1,    (2 & S) ? 16 + 2 - S : 2,
      (3 & S) ? 16 + 3 - S : 3,    (4 & S) ? 16 + 4 - S : 4,    (5 & S) ? 16 + 5 - S : 5,
      (6 & S) ? 16 + 6 - S : 6,    (7 & S) ? 16 + 7 - S : 7,    (8 & S) ? 16 + 8 - S : 8,
      (9 & S) ? 16 + 9 - S : 9,    (10 & S) ? 16 + 10 - S : 10, (11 & S) ? 16 + 11 - S : 11,
      (12 & S) ? 16 + 12 - S : 12, (13 & S) ? 16 + 13 - S : 13, (14 & S) ? 16 + 14 - S : 14,
      (15 & S) ? 16 + 15 - S : 15};
  alignas(64) static constexpr int hi[16] = {
      (0 & S) ? 16 + 0 : 0 + S,    (1 & S) ? 16 + 1 : 1 + S,    (2 & S) ? 16 + 2 : 2 + S,
      (3 & S) ? 16 + 3 : 3 + S,    (4 & S) ? 16 + 4 : 4 + S,    (5 & S) ? 16 + 5 : 5 + S,
      (6 & S) ? 16 + 6 : 6 + S,    (7 & S) ? 16 + 7 : 7 + S,    (8 & S) ? 16 + 8 : 8 + S,
      (9 & S) ? 16 + 9 : 9 + S,    (10 & S) ? 16 + 10 : 10 + S, (11 & S) ? 16 + 11 : 11 + S,
      (12 & S) ? 16 + 12 : 12 + S, (13 & S) ? 16 + 13 : 13 + S, (14 & S) ? 16 + 14 : 14 + S,
      (15 & S) ? 16 + 15 : 15 + S};
  const __m512i ilo = _mm512_load_si512(lo), ihi = _mm512_load_si512(hi);
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) {
    if ((i & S) != 0) continue;
    const __m512i a = r[i], b = r[i + S];
    r[i] = _mm512_permutex2var_epi32(a, ilo, b);      // row i keeps its columns j & S == 0
    r[i + S] = _mm512_permutex2var_epi32(a, ihi, b);  // row i + S its columns j & S != 0
  }
}

inline void transpose_16x16(__m512i r[16]) {
  swap_blocks<8>(r);
  swap_blocks<4>(r);
  swap_blocks<2>(r);
  swap_blocks<1>(r);
}

/// Panels [p0, p1) of op(A) (M x K) packed in panels of MR rows: panel p holds, for each depth
/// pair k2 (K2 = ceil(K / 2) of them), its MR rows' pairs, at ap[p stride + k2 MR + r] (zeros past
/// M and K). op(A)(r, k) = a[r lda + k] (k-contiguous rows) or, transposed, a[k lda + r].
template <class T>
void pack_a_bf16(const T* a, Index lda, bool transposed, Index M, Index K, Index p0, Index p1,
                 Index stride, std::uint32_t* ap) {
  using B = Bf16Blocking;
  const Index K2 = (K + 1) / 2;
  if (transposed) {
    for (Index p = p0; p < p1; ++p) {
      std::uint32_t* dst = ap + p * stride;
      const Index n = std::min<Index>(B::MR, M - p * B::MR);
      for (Index k2 = 0; k2 < K2; ++k2) {
        const T* lo = a + 2 * k2 * lda + p * B::MR;
        const __m512i v = bf16_pairs_interleaved(lo, 2 * k2 + 1 < K ? lo + lda : nullptr, n);
        _mm256_store_si256(reinterpret_cast<__m256i*>(dst + k2 * B::MR), _mm512_castsi512_si256(v));
      }
    }
    return;
  }
  // k-contiguous rows: two panels (16 rows) x 32 depths become 16 vectors of 16 pairs (one per
  // row), transposed into 16 vectors of 16 rows (one per depth pair), each half to its panel
  __m512i v[16];
  for (Index p = p0; p < p1; p += 2) {
    const bool two = p + 1 < p1;
    std::uint32_t* dst0 = ap + p * stride;
    std::uint32_t* dst1 = ap + (p + 1) * stride;
    for (Index k = 0; k < K; k += 32) {
      const Index n = std::min<Index>(32, K - k);
      for (Index i = 0; i < 16; ++i) {
        const Index row = p * B::MR + i;
        v[i] = row < M && (i < B::MR || two) ? bf16_pairs_contiguous(a + row * lda + k, n)
                                             : _mm512_setzero_si512();
      }
      transpose_16x16(v);
      const Index pairs = std::min<Index>(16, K2 - k / 2);
      for (Index j = 0; j < pairs; ++j) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(dst0 + (k / 2 + j) * B::MR),
                           _mm512_castsi512_si256(v[j]));
        if (two) {
          _mm256_store_si256(reinterpret_cast<__m256i*>(dst1 + (k / 2 + j) * B::MR),
                             _mm512_extracti64x4_epi64(v[j], 1));
        }
      }
    }
  }
}

/// Panels [q0, q1) of op(B) (K x N) packed in panels of NR columns: panel q holds, for each depth
/// pair k2, the NR columns' pairs, at bp[(q K2 + k2) NR + j] (zeros past N and K).
/// op(B)(k, c) = b[k ldb + c] (rows) or, transposed, b[c ldb + k] (k-contiguous columns).
template <class T>
void pack_b_bf16(const T* b, Index ldb, bool transposed, Index K, Index N, Index q0, Index q1,
                 std::uint32_t* bp) {
  using B = Bf16Blocking;
  const Index K2 = (K + 1) / 2;
  if (!transposed) {
    for (Index k2 = 0; k2 < K2; ++k2) {
      const T* lo = b + 2 * k2 * ldb;
      const T* hi = 2 * k2 + 1 < K ? lo + ldb : nullptr;
      for (Index q = q0; q < q1; ++q) {
        for (Index v = 0; v < B::NR; v += 16) {
          const Index c = q * B::NR + v, n = std::max<Index>(0, std::min<Index>(16, N - c));
          _mm512_store_si512(bp + (q * K2 + k2) * B::NR + v,
                             n > 0 ? bf16_pairs_interleaved(lo + c, hi ? hi + c : nullptr, n)
                                   : _mm512_setzero_si512());
        }
      }
    }
    return;
  }
  // k-contiguous columns: 16 columns x 32 depths become 16 vectors of 16 pairs (one per column),
  // transposed into 16 vectors of 16 columns (one per depth pair), stored whole
  __m512i v[16];
  for (Index g = q0 * (B::NR / 16); g < q1 * (B::NR / 16); ++g) {  // panel g / 3, vector g % 3
    const Index q = g / (B::NR / 16), c0 = g * 16;
    std::uint32_t* dst = bp + q * K2 * B::NR + (g % (B::NR / 16)) * 16;
    for (Index k = 0; k < K; k += 32) {
      const Index n = std::min<Index>(32, K - k);
      for (Index i = 0; i < 16; ++i) {
        v[i] =
            c0 + i < N ? bf16_pairs_contiguous(b + (c0 + i) * ldb + k, n) : _mm512_setzero_si512();
      }
      transpose_16x16(v);
      for (Index i = 0; i < std::min<Index>(16, K2 - k / 2); ++i) {
        _mm512_store_si512(dst + (k / 2 + i) * B::NR, v[i]);
      }
    }
  }
}

/// One tile: C[0:mr, 0:nr] = alpha * (A panel x B panel over kc2 depth pairs) + beta * C (beta
/// 0: C not read). Every element sums its pairs in depth order, whatever the tile's position.
template <class T>
void bf16_tile(Index kc2, const std::uint32_t* ap, const std::uint32_t* bp, T alpha, T beta, T* c,
               Index ldc, Index mr, Index nr) {
  using B = Bf16Blocking;
  __m512 acc[B::MR][B::NV];
  for (Index r = 0; r < B::MR; ++r) {
    for (Index v = 0; v < B::NV; ++v) acc[r][v] = _mm512_setzero_ps();
  }
  for (Index k2 = 0; k2 < kc2; ++k2) {
    __m512bh bv[B::NV];
#pragma GCC unroll 3
    for (Index v = 0; v < B::NV; ++v) {
      bv[v] = reinterpret_cast<__m512bh>(_mm512_load_si512(bp + k2 * B::NR + v * 16));
    }
#pragma GCC unroll 8
    for (Index r = 0; r < B::MR; ++r) {
      const __m512bh av =
          reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(ap[k2 * B::MR + r])));
#pragma GCC unroll 3
      for (Index v = 0; v < B::NV; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], av, bv[v]);
    }
  }
  // unrolled, so that the sums stay in registers (a loop to mr would index them in memory)
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 8
  for (Index r = 0; r < B::MR; ++r) {
#pragma GCC unroll 3
    for (Index v = 0; v < B::NV; ++v) {
      if (r >= mr || v * 16 >= nr) continue;
      const Index n = std::min<Index>(16, nr - v * 16);
      const __mmask16 m = static_cast<__mmask16>((1u << n) - 1u);
      T* out = c + r * ldc + v * 16;
      __m512 y = _mm512_mul_ps(va, acc[r][v]);
      if (beta != 0.0f) y = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, out), y);
      _mm512_mask_storeu_ps(out, m, y);
    }
  }
}

/// C[rows of A panels [i0, i1), columns of B panels [q0, q1)] from the packed panels (A panel
/// stride a_stride): groups of NC_PANELS B panels, depth blocks fixed by K, tiles.
template <class T>
void bf16_block(Index M, Index N, Index K2, const std::uint32_t* ap, Index a_stride,
                const std::uint32_t* bp, T alpha, T beta, T* c, Index ldc, Index i0, Index i1,
                Index q0, Index q1) {
  using B = Bf16Blocking;
  const Index k2_blocks = (K2 + B::KC / 2 - 1) / (B::KC / 2);
  for (Index g = q0; g < q1; g += B::NC_PANELS) {
    const Index g_end = std::min(q1, g + B::NC_PANELS);
    for (Index kb = 0; kb < k2_blocks; ++kb) {
      const Index k0 = K2 * kb / k2_blocks, kc2 = K2 * (kb + 1) / k2_blocks - k0;
      const T block_beta = kb == 0 ? beta : T(1);
      for (Index i = i0; i < i1; ++i) {
        const std::uint32_t* a_panel = ap + i * a_stride + k0 * B::MR;
        for (Index q = g; q < g_end; ++q) {
          bf16_tile(kc2, a_panel, bp + (q * K2 + k0) * B::NR, alpha, block_beta,
                    c + i * B::MR * ldc + q * B::NR, ldc, std::min<Index>(B::MR, M - i * B::MR),
                    std::min<Index>(B::NR, N - q * B::NR));
        }
      }
    }
  }
}

/// B panels packed at a time by bf16_panels: at least NC_PANELS, as many as fill 512 KB.
inline Index bf16_pack_group_panels(Index K2) {
  using B = Bf16Blocking;
  const Index panel_bytes = B::NR * K2 * static_cast<Index>(sizeof(std::uint32_t));
  return std::max<Index>(B::NC_PANELS, (Index{512} << 10) / panel_bytes);
}

/// C[rows of A panels [i0, i1), columns of B panels [q0, q1)] with op(B) packed here, group by
/// group of bf16_pack_group_panels into bp (room for one group), each group used while it is
/// still in L2: packing all of a part's panels first sends them through memory and back when
/// they outgrow L2 (the 64x64 DCGAN's layers, whose col gives each core 16 MB of packed panels;
/// (256, 8192, 2048) on 2 threads: 13% faster in groups, medians of 5 runs; the layers whose col
/// is first written through memory anyway within the noise), and it keeps the packed buffers
/// small. For fewer panels (the VAE's products) groups of NC_PANELS were about 8% slower than
/// one pack, hence groups of at least 512 KB.
template <class T>
void bf16_panels(Index M, Index N, Index K, const std::uint32_t* ap, Index a_stride, const T* b,
                 Index ldb, bool transposed_b, T alpha, T beta, T* c, Index ldc, Index i0, Index i1,
                 Index q0, Index q1, std::uint32_t* bp) {
  using B = Bf16Blocking;
  const Index K2 = (K + 1) / 2, group = bf16_pack_group_panels(K2);
  for (Index g = q0; g < q1; g += group) {
    const Index g1 = std::min(q1, g + group), c0 = g * B::NR;
    const Index n = std::min(N, g1 * B::NR) - c0;
    pack_b_bf16(transposed_b ? b + c0 * ldb : b + c0, ldb, transposed_b, K, n, 0, g1 - g, bp);
    bf16_block(M, n, K2, ap, a_stride, bp, alpha, beta, c + c0, ldc, i0, i1, 0, g1 - g);
  }
}

}  // namespace detail
#endif

/// C = alpha op(A) op(B) + beta C, as gemm (same arguments, T float), with the products in bfloat16
/// and the sums in FP32 (see the file comment); beta == 0 overwrites C. The threads split C's
/// columns (by panels of B) or, for op(A) = A^T (a weight gradient dW = dY^T X), its rows, so
/// that each core owns contiguous rows of dW as the optimiser's passes do. Each thread packs the
/// panels of the split operand it uses and all of the other operand itself, into its own buffers:
/// one fork, and no packed line read from the other core (2 threads, against the other operand
/// packed once and shared after a join: the VAE's products 10-20% faster, measured). Each element
/// sums its depth pairs in order over depth blocks fixed by K, so the result is bitwise the same
/// for any number of threads. Without AVX-512 BF16 in the target, this is gemm.
template <class T>
void gemm_bf16(Trans trans_a, Trans trans_b, Index M, Index N, Index K, T alpha, const T* a,
               Index lda, const T* b, Index ldb, T beta, T* c, Index ldc) {
  static_assert(std::is_same_v<T, float>, "gemm_bf16 multiplies floats");
#ifdef AIGC_BF16_PRODUCTS
  using B = detail::Bf16Blocking;
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    gemm<T>(trans_a, trans_b, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const Index K2 = (K + 1) / 2, m_panels = (M + B::MR - 1) / B::MR;
  const Index n_panels = (N + B::NR - 1) / B::NR;
  const Index a_stride = (K2 + 1) / 2 * 2 * B::MR;  // whole cache lines per A panel
  const bool ta = trans_a == Trans::yes, tb = trans_b == Trans::yes;
  // At least ~1 MFLOP per thread: below that the fork/join costs more than it saves.
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * K;
  const int threads = static_cast<int>(std::clamp<double>(flops / 1e6, 1.0, available_threads()));
  const bool split_rows = (ta && m_panels >= threads) || n_panels < threads;
  const int parts = static_cast<int>(std::min<Index>(threads, split_rows ? m_panels : n_panels));
  aigc::kernels::parallel_parts(parts, [&](int p) {
    thread_local aigc::kernels::AlignedBuffer a_buffer, b_buffer;
    auto* ap = a_buffer.get<std::uint32_t>(static_cast<std::size_t>(m_panels * a_stride));
    auto* bp = b_buffer.get<std::uint32_t>(
        static_cast<std::size_t>(detail::bf16_pack_group_panels(K2) * B::NR * K2));
    if (split_rows) {
      const Index i0 = m_panels * p / parts, i1 = m_panels * (p + 1) / parts;
      detail::pack_a_bf16(a, lda, ta, M, K, i0, i1, a_stride, ap);
      detail::bf16_panels(M, N, K, ap, a_stride, b, ldb, tb, alpha, beta, c, ldc, i0, i1, 0,
                          n_panels, bp);
    } else {
      const Index q0 = n_panels * p / parts, q1 = n_panels * (p + 1) / parts;
      detail::pack_a_bf16(a, lda, ta, M, K, 0, m_panels, a_stride, ap);
      detail::bf16_panels(M, N, K, ap, a_stride, b, ldb, tb, alpha, beta, c, ldc, 0, m_panels, q0,
                          q1, bp);
    }
  });
#else
  gemm<T>(trans_a, trans_b, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
}

/// op(A) (M x K, T float) rounded to bfloat16 and packed once, by all threads, for several
/// gemm_bf16_packed products with it: a layer's weight multiplied by chunk after chunk of images.
/// Keeps the pointer to A (which must outlive the products); without AVX-512 BF16 in the target
/// that is all it keeps, and the products are gemm's.
template <class T>
class Bf16PackedA {
 public:
  /// Packs op(A) (M x K; op(A)(r, k) = a[r lda + k], or a[k lda + r] when transposed).
  void pack(Trans trans_a, Index M, Index K, const T* a, Index lda) {
    static_assert(std::is_same_v<T, float>, "Bf16PackedA packs floats");
    trans_ = trans_a;
    M_ = M;
    K_ = K;
    a_ = a;
    lda_ = lda;
#ifdef AIGC_BF16_PRODUCTS
    using B = detail::Bf16Blocking;
    if (M <= 0 || K <= 0) return;
    const Index K2 = (K + 1) / 2, m_panels = (M + B::MR - 1) / B::MR;
    stride_ = (K2 + 1) / 2 * 2 * B::MR;
    std::uint32_t* ap = ap_ =
        buffer_.get<std::uint32_t>(static_cast<std::size_t>(m_panels * stride_));
    const Index pairs = (m_panels + 1) / 2;  // pack_a_bf16 transposes 16 rows at a time
    aigc::kernels::parallel_for(pairs, 1, [&](Index u0, Index u1) {
      detail::pack_a_bf16(a, lda, trans_a == Trans::yes, M, K, 2 * u0, std::min(m_panels, 2 * u1),
                          stride_, ap);
    });
#endif
  }

 private:
  template <class U>
  friend void gemm_bf16_packed(const Bf16PackedA<U>& a, Trans trans_b, Index N, U alpha, const U* b,
                               Index ldb, U beta, U* c, Index ldc);
  Trans trans_ = Trans::no;
  Index M_ = 0, K_ = 0, lda_ = 0;
  const T* a_ = nullptr;
  [[maybe_unused]] Index stride_ = 0;  ///< of a packed panel
  [[maybe_unused]] std::uint32_t* ap_ = nullptr;
  [[maybe_unused]] aigc::kernels::AlignedBuffer buffer_;
};

/// C = alpha op(A) op(B) + beta C with op(A) packed by Bf16PackedA: bitwise gemm_bf16's result
/// on the same operands, for any number of threads, without packing A again.
template <class T>
void gemm_bf16_packed(const Bf16PackedA<T>& a, Trans trans_b, Index N, T alpha, const T* b,
                      Index ldb, T beta, T* c, Index ldc) {
  const Index M = a.M_, K = a.K_;
#ifdef AIGC_BF16_PRODUCTS
  using B = detail::Bf16Blocking;
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    gemm<T>(a.trans_, trans_b, M, N, K, alpha, a.a_, a.lda_, b, ldb, beta, c, ldc);
    return;
  }
  const Index K2 = (K + 1) / 2, m_panels = (M + B::MR - 1) / B::MR;
  const Index n_panels = (N + B::NR - 1) / B::NR;
  const std::uint32_t* ap = a.ap_;
  const bool tb = trans_b == Trans::yes;
  const double flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * K;
  const int threads = static_cast<int>(std::clamp<double>(flops / 1e6, 1.0, available_threads()));
  if (n_panels < threads) {  // few columns: B packed shared, the threads split the rows
    const int parts = static_cast<int>(std::min<Index>(threads, m_panels));
    thread_local aigc::kernels::AlignedBuffer b_buffer;
    auto* bp = b_buffer.get<std::uint32_t>(static_cast<std::size_t>(n_panels * B::NR * K2));
    detail::pack_b_bf16(b, ldb, tb, K, N, 0, n_panels, bp);
    aigc::kernels::parallel_parts(parts, [&](int p) {
      const Index i0 = m_panels * p / parts, i1 = m_panels * (p + 1) / parts;
      detail::bf16_block(M, N, K2, ap, a.stride_, bp, alpha, beta, c, ldc, i0, i1, 0, n_panels);
    });
    return;
  }
  const int parts = static_cast<int>(std::min<Index>(threads, n_panels));
  aigc::kernels::parallel_parts(parts, [&](int p) {
    thread_local aigc::kernels::AlignedBuffer group_buffer;
    auto* group = group_buffer.get<std::uint32_t>(
        static_cast<std::size_t>(detail::bf16_pack_group_panels(K2) * B::NR * K2));
    const Index q0 = n_panels * p / parts, q1 = n_panels * (p + 1) / parts;
    detail::bf16_panels(M, N, K, ap, a.stride_, b, ldb, tb, alpha, beta, c, ldc, 0, m_panels, q0,
                        q1, group);
  });
#else
  gemm<T>(a.trans_, trans_b, M, N, K, alpha, a.a_, a.lda_, b, ldb, beta, c, ldc);
#endif
}

/// gemm, or gemm_bf16 when `precision` is bf16 and T is float (double products stay double).
template <class T, class A = simd_arch>
void gemm_in(Precision precision, Trans trans_a, Trans trans_b, Index M, Index N, Index K, T alpha,
             const T* a, Index lda, const T* b, Index ldb, T beta, T* c, Index ldc) {
  if constexpr (std::is_same_v<T, float>) {
    if (precision == Precision::bf16) {
      gemm_bf16(trans_a, trans_b, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
      return;
    }
  }
  gemm<T, A>(trans_a, trans_b, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace aigc::kernels
