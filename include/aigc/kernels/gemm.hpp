/// @file
/// aigc: general matrix multiply on row-major storage: packed, cache-blocked, with a
/// register-blocked micro-kernel written once on xsimd batches, threaded over the output.
#pragma once

#include <algorithm>
#include <type_traits>

#include "aigc/core/tensor.hpp"
#include "aigc/kernels/elementwise.hpp"
#include "aigc/kernels/partition.hpp"
#include "aigc/kernels/simd.hpp"

namespace aigc::kernels {

/// Whether a GEMM operand is used as stored or transposed.
enum class Trans {
  no,  ///< op(A) = A
  yes  ///< op(A) = A^T
};

namespace detail {

/// Tile and block sizes for scalar T on architecture A. A tile is MR rows by NV vectors of the
/// output, MR * NV accumulators held in registers (AVX-512: 8 x 3 of 32 registers, AVX/SSE: 6 x 2
/// of 16).
template <class T, class A>
struct GemmBlocking {
  using S = Simd<T, A>;
  static constexpr int NV = S::W == 1 ? 4 : (S::registers >= 32 ? 3 : 2);
  static constexpr int MR = S::W == 1 ? 4 : (S::registers >= 32 ? 8 : 6);
  static constexpr Index NR = NV * S::W;
  static constexpr Index KC = 1024;  ///< depth of a block (an MR x KC panel of X stays in L1)
  static constexpr Index Y_BLOCK = 512 * 1024 / sizeof(T);  ///< packed Y values (stay in L2)
};

/// The core GEMM on strided views: Out = alpha * X Y + beta * Out, X R x K, Y K x C, with
///   X(r, k) = x[r * x_rs + k * x_ks]  read in place and broadcast (x_ks == 1 or x_rs == 1),
///   Y(k, c) = y[k * y_ks + c * y_cs]  packed into panels of NR columns (vectors),
///   Out(r, c) = out[r * o_rs + c * o_cs] (o_cs == 1: rows of vectors; o_rs == 1: transposed).
/// With an epilogue, the output is then replaced by act(C + bias) (bias indexed by C's columns).
template <class T>
struct GemmView {
  const T* x;
  Index x_rs, x_ks;
  const T* y;
  Index y_ks, y_cs;
  T* out;
  Index o_rs, o_cs;
  const T* bias = nullptr;
  Activation act = Activation::identity;
  T slope = T(0);
  bool epilogue() const { return bias || act != Activation::identity; }
};

/// One tile: Out[0:mr, 0:nr] = alpha * X[0:mr, 0:kc] Yp + beta * Out (beta == 0: Out not read).
/// XK: X rows are k-contiguous, row r at x + min(r, mr - 1) * xs; else X(r, k) = x[k * xs + r]
/// for r < MR (the caller pads). Yp holds kc rows of NP >= NV vectors (packed, aligned).
/// OT: Out is transposed (Out(r, c) at out[c * ldo + r]); else Out(r, c) at out[r * ldo + c].
/// Edge tiles go through an aligned copy so every element sees the same instructions wherever
/// the tile boundaries fall.
template <class T, class A, int MR, int NV, int NP, bool XK, bool OT>
void gemm_tile(Index kc, const T* x, Index xs, const T* yp, T alpha, T beta, T* out, Index ldo,
               Index mr, Index nr) {
  using S = Simd<T, A>;
  using V = typename S::V;
  constexpr Index W = S::W;
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = S::broadcast(T(0));
  }
  if constexpr (XK) {
    const T* xr[MR];
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) xr[r] = x + std::min<Index>(r, mr - 1) * xs;
    for (Index k = 0; k < kc; ++k) {
      V y[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) y[v] = S::load_aligned(yp + v * W);
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
        const V b = S::broadcast(xr[r][k]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = S::fma(b, y[v], acc[r][v]);
      }
      yp += NP * W;
    }
  } else {
    for (Index k = 0; k < kc; ++k) {
      V y[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) y[v] = S::load_aligned(yp + v * W);
#pragma GCC unroll 16
      for (int r = 0; r < MR; ++r) {
        const V b = S::broadcast(x[r]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = S::fma(b, y[v], acc[r][v]);
      }
      x += xs;
      yp += NP * W;
    }
  }

  const V va = S::broadcast(alpha), vb = S::broadcast(beta);
  constexpr Index TW = NV * W;
  alignas(simd_alignment) T tile[MR * TW];
  if constexpr (OT) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) S::store_aligned(tile + r * TW + v * W, acc[r][v] * va);
    }
    for (Index c = 0; c < nr; ++c) {
      T* o = out + c * ldo;
      if (beta == T(0)) {
        for (Index r = 0; r < mr; ++r) o[r] = tile[r * TW + c];
      } else if (beta == T(1)) {
        for (Index r = 0; r < mr; ++r) o[r] = o[r] + tile[r * TW + c];
      } else {
        for (Index r = 0; r < mr; ++r) o[r] = beta * o[r] + tile[r * TW + c];
      }
    }
  } else {
    const bool full = mr == MR && nr == TW;
    T* o = out;
    Index ld = ldo;
    if (!full) {
      o = tile;
      ld = TW;
      if (beta != T(0)) {
        std::fill(tile, tile + MR * TW, T(0));
        for (Index r = 0; r < mr; ++r) std::copy_n(out + r * ldo, nr, tile + r * TW);
      }
    }
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        T* p = o + r * ld + v * W;
        const V ab = acc[r][v] * va;
        V res;
        if (beta == T(0)) {
          res = ab;
        } else if (beta == T(1)) {
          res = S::load(p, W, std::true_type{}) + ab;
        } else {
          res = S::fma(vb, S::load(p, W, std::true_type{}), ab);
        }
        S::store(p, res, W, std::true_type{});
      }
    }
    if (!full) {
      for (Index r = 0; r < mr; ++r) std::copy_n(tile + r * TW, nr, out + r * ldo);
    }
  }
}

/// Calls gemm_tile with the fewest vectors that cover nr columns of NP-vector panels.
template <class T, class A, int MR, int NP, bool XK, bool OT, int NV = NP>
void gemm_tile_cols(Index kc, const T* x, Index xs, const T* yp, T alpha, T beta, T* out, Index ldo,
                    Index mr, Index nr) {
  constexpr Index W = Simd<T, A>::W;
  if constexpr (NV > 1) {
    if (nr <= (NV - 1) * W) {
      gemm_tile_cols<T, A, MR, NP, XK, OT, NV - 1>(kc, x, xs, yp, alpha, beta, out, ldo, mr, nr);
      return;
    }
  }
  gemm_tile<T, A, MR, NV, NP, XK, OT>(kc, x, xs, yp, alpha, beta, out, ldo, mr, nr);
}

/// Packs Y(p0 + k, c0 + c) for k < kc, c < nc into panels of NR columns: panel q holds kc rows
/// of NR values (zero past the last column).
template <class T, class A, Index NR>
void pack_y(const T* y, Index y_ks, Index y_cs, Index p0, Index kc, Index c0, Index nc, T* yp) {
  using S = Simd<T, A>;
  constexpr Index W = S::W;
  for (Index q = 0; q < nc; q += NR) {
    const Index nr = std::min<Index>(NR, nc - q);
    T* dst = yp + q * kc;
    const T* src = y + p0 * y_ks + (c0 + q) * y_cs;
    if (y_cs == 1) {  // rows copied
      for (Index k = 0; k < kc; ++k) {
        T* d = dst + k * NR;
        const T* s = src + k * y_ks;
        if (nr == NR) {
          for (Index j = 0; j < NR; j += W) {
            S::store_aligned(d + j, S::load(s + j, W, std::true_type{}));
          }
        } else {
          Index j = 0;
          for (; j < nr; ++j) d[j] = s[j];
          for (; j < NR; ++j) d[j] = T(0);
        }
      }
    } else {
      // Columns are k-contiguous: a transpose, one packed row (depth) at a time. The panel's NR
      // columns are read as NR streams whose lines stay in L1: measured 1.6-2x faster than
      // transposing blocks of 32 depths column by column. Unless the columns lie a multiple of
      // 2 KB apart, as a convolution's dZ rows do (128 KB in the 64x64 DCGAN): then the same
      // depth of 24 or more of the streams falls in one 12-way L1 set, and groups of 8 columns
      // are transposed in turn (that layer's weight gradient, 2 threads: 31-32 ms with the 48
      // streams at once, 26.5 ms in groups; the VAE's strides keep the 48: 5-10% faster there,
      // and so do the 28x28 DCGAN's 49 KB, 12 streams per set).
      const bool same_sets = (y_cs * static_cast<Index>(sizeof(T))) % 2048 == 0;
      const Index G = same_sets && NR > 8 ? 8 : NR;
      for (Index j0 = 0; j0 < NR; j0 += G) {
        const Index g = std::clamp<Index>(nr - j0, 0, G);
        for (Index k = 0; k < kc; ++k) {
          T* d = dst + k * NR + j0;
          const T* s = src + k * y_ks + j0 * y_cs;
          Index j = 0;
          for (; j < g; ++j) d[j] = s[j * y_cs];
          for (; j < G; ++j) d[j] = T(0);
        }
      }
    }
  }
}

/// The scratch panels of the running part (slots 0 and 1; allocated on first use, then reused).
inline aigc::kernels::AlignedBuffer& gemm_scratch(int which) {
  return aigc::kernels::scratch(which);
}

/// The blocks of the core GEMM: depth blocks of at most KC (depending on K alone) and column
/// blocks of packed Y that stay in L2.
template <class T, class A, int NP>
struct GemmBlocks {
  static constexpr Index NR = NP * Simd<T, A>::W;
  Index k_blocks, kc_max, nc_block;
  explicit GemmBlocks(Index K)
      : k_blocks((K + GemmBlocking<T, A>::KC - 1) / GemmBlocking<T, A>::KC),
        kc_max((K + k_blocks - 1) / k_blocks),
        nc_block(std::max<Index>(NR, GemmBlocking<T, A>::Y_BLOCK / kc_max / NR * NR)) {}
};

/// Rows [r0, r1) of Out[:, jc:jc + nc] over depths [pc, pc + kc), Y's block packed in yp.
template <class T, class A, bool XK, bool OT, int NP>
void gemm_rows(const GemmView<T>& g, Index pc, Index kc, Index jc, Index nc, const T* yp, T alpha,
               T beta, Index r0, Index r1, T* xe) {
  constexpr int MR = GemmBlocking<T, A>::MR;
  constexpr Index NR = NP * Simd<T, A>::W;
  const Index ldo = OT ? g.o_cs : g.o_rs;
  for (Index ir = r0; ir < r1; ir += MR) {
    const Index mr = std::min<Index>(MR, r1 - ir);
    const T* x = g.x + ir * g.x_rs + pc * g.x_ks;
    Index xs = XK ? g.x_rs : g.x_ks;
    if (!XK && mr < MR) {  // the last rows, padded so that MR values per depth are readable
      for (Index k = 0; k < kc; ++k) {
        for (Index r = 0; r < MR; ++r) xe[k * MR + r] = r < mr ? x[k * xs + r] : T(0);
      }
      x = xe;
      xs = MR;
    }
    for (Index jr = 0; jr < nc; jr += NR) {
      const Index nr = std::min(NR, nc - jr);
      gemm_tile_cols<T, A, MR, NP, XK, OT>(kc, x, xs, yp + jr * kc, alpha, beta,
                                           g.out + ir * g.o_rs + (jc + jr) * g.o_cs, ldo, mr, nr);
    }
  }
}

/// The epilogue (bias and activation) on rows [r0, r1) of Out[:, jc:jc + nc], still in cache.
template <class T, class A, bool OT>
void gemm_epilogue(const GemmView<T>& g, Index jc, Index nc, Index r0, Index r1) {
  if (!g.epilogue()) return;
  if constexpr (OT) {  // rows of C are columns [jc, jc + nc) of the core
    bias_activation_block<T, A>(g.out + jc * g.o_cs + r0, g.o_cs, g.bias ? g.bias + r0 : nullptr,
                                nc, r1 - r0, g.act, g.slope);
  } else {
    bias_activation_block<T, A>(g.out + r0 * g.o_rs + jc, g.o_rs, g.bias ? g.bias + jc : nullptr,
                                r1 - r0, nc, g.act, g.slope);
  }
}

/// Out[r0:r1, c0:c1] of the core GEMM on the calling thread, with Y packed in panels of NP
/// vectors. The depth blocks depend on K alone, so every element sees the same sequence of
/// operations for any split of the output and any panel width.
template <class T, class A, bool XK, bool OT, int NP>
void gemm_block(const GemmView<T>& g, Index K, T alpha, T beta, Index r0, Index r1, Index c0,
                Index c1) {
  using G = GemmBlocking<T, A>;
  const GemmBlocks<T, A, NP> b(K);
  const Index nc_max = std::min<Index>(b.nc_block, (c1 - c0 + b.NR - 1) / b.NR * b.NR);
  T* yp = gemm_scratch(0).get<T>(static_cast<std::size_t>(b.kc_max * nc_max));
  T* xe = XK ? nullptr : gemm_scratch(1).get<T>(static_cast<std::size_t>(b.kc_max * G::MR));
  for (Index jc = c0; jc < c1; jc += b.nc_block) {
    const Index nc = std::min(b.nc_block, c1 - jc);
    for (Index kb = 0; kb < b.k_blocks; ++kb) {
      const Index pc = K * kb / b.k_blocks;
      const Index kc = K * (kb + 1) / b.k_blocks - pc;
      pack_y<T, A, GemmBlocks<T, A, NP>::NR>(g.y, g.y_ks, g.y_cs, pc, kc, jc, nc, yp);
      gemm_rows<T, A, XK, OT, NP>(g, pc, kc, jc, nc, yp, alpha, kb == 0 ? beta : T(1), r0, r1, xe);
    }
    gemm_epilogue<T, A, OT>(g, jc, nc, r0, r1);
  }
}

/// The core GEMM's rows in chunks that part p claims from `chunks` (units of r_unit rows), when
/// all of Y is one block: the part packs Y once, then runs each chunk it claims.
template <class T, class A, bool XK, bool OT>
void gemm_claimed_rows(const GemmView<T>& g, Index R, Index C, Index K, T alpha, T beta,
                       Index r_unit, aigc::kernels::BalancedChunks& chunks, int p) {
  using G = GemmBlocking<T, A>;
  const Index nc_pad = (C + G::NR - 1) / G::NR * G::NR;
  T* yp = gemm_scratch(0).get<T>(static_cast<std::size_t>(K * nc_pad));
  T* xe = XK ? nullptr : gemm_scratch(1).get<T>(static_cast<std::size_t>(K * G::MR));
  Index u0 = 0, u1 = 0;
  bool packed = false;
  while (chunks.next(p, u0, u1)) {
    if (!packed) {
      pack_y<T, A, G::NR>(g.y, g.y_ks, g.y_cs, 0, K, 0, C, yp);
      packed = true;
    }
    const Index r0 = std::min(R, u0 * r_unit), r1 = std::min(R, u1 * r_unit);
    gemm_rows<T, A, XK, OT, G::NV>(g, 0, K, 0, C, yp, alpha, beta, r0, r1, xe);
    gemm_epilogue<T, A, OT>(g, 0, C, r0, r1);
  }
}

/// Y (K x C) of at most this many values is packed whole by each thread of a row split.
inline constexpr Index small_packed_elements = Index{1} << 15;

/// Runs the core GEMM over an R x C output, split over the threads. Each thread packs the columns
/// of Y it needs in its own cache (measured faster than sharing packed blocks between cores, again
/// on the VAE's forward row splits: sharing the packed X^T cost 20-30 us more per layer). The
/// threads split the columns when there are enough column panels to balance them (each packs
/// only its own columns), else the rows (each packs all of Y). The weight-gradient case (X = op(A)
/// with A k-major, i.e. dW = dY^T X) splits the rows: each thread then owns contiguous halves of
/// dW, as the optimiser's and the zeroing passes do, instead of pulling lines from the other core.
/// So does the forward case with the larger operand broadcast in place (OT with R > C, i.e.
/// Y = X W^T with more output features than samples): each thread reads only its half of W.
/// So does a small Y (small_packed_elements), packed whole by each thread.
template <class T, class A, bool XK, bool OT>
void gemm_core(const GemmView<T>& g, Index R, Index C, Index K, T alpha, T beta) {
  using G = GemmBlocking<T, A>;
  constexpr Index W = Simd<T, A>::W;
  // At least ~1 MFLOP per thread: below that the fork/join costs more than it saves.
  const double flops = 2.0 * static_cast<double>(R) * static_cast<double>(C) * K;
  const int parts = static_cast<int>(std::clamp<double>(flops / 1e6, 1.0, available_threads()));
  if (parts == 1) {  // through parallel_parts all the same, so that a job profile shows it
    aigc::kernels::parallel_parts(
        1, [&](int) { gemm_block<T, A, XK, OT, G::NV>(g, K, alpha, beta, 0, R, 0, C); });
    return;
  }
  // Row splits in units of MR rows, widened until a boundary starts a cache line (64 bytes):
  // two cores writing one line would pass it back and forth for every tile stored.
  Index r_unit = G::MR;
  const Index row_bytes = static_cast<Index>(sizeof(T)) * (OT ? 1 : g.o_rs);
  while ((r_unit * row_bytes) % 64 != 0 && r_unit < 16 * G::MR) r_unit += G::MR;
  const Index r_units = (R + r_unit - 1) / r_unit;
  const Index wide = (C + G::NR - 1) / G::NR;      // panels of NV vectors
  const Index narrow = (C + 2 * W - 1) / (2 * W);  // panels of 2 vectors
  const bool rows_k_major = !XK;                   // dW = dY^T X: split the rows
  const bool rows_own_weights = OT && R > C && r_units >= parts;
  // A Y of a few thousand values costs each thread little to pack whole; split by columns, the two
  // threads' outputs would meet in every row, which cost (128,400,20) 35 us on the worker's half
  // against 15 us for all of it on one thread.
  const bool small_y = !OT && K * C <= small_packed_elements && r_units >= parts;
  auto split_cols = [&](auto np, Index units) {
    constexpr int NP = decltype(np)::value;
    aigc::kernels::parallel_parts(parts, [&](int p) {
      const Index c0 = std::min(C, units * p / parts * NP * W);
      const Index c1 = std::min(C, units * (p + 1) / parts * NP * W);
      if (c0 < c1) gemm_block<T, A, XK, OT, NP>(g, K, alpha, beta, 0, R, c0, c1);
    });
  };
  auto split_rows = [&] {
    const GemmBlocks<T, A, G::NV> b(K);
    if (b.k_blocks == 1 && C <= b.nc_block && parts <= aigc::kernels::BalancedChunks::max_parts) {
      // Y is one block: the parts balance themselves over chunks of rows (BalancedChunks).
      aigc::kernels::BalancedChunks chunks(r_units, parts, aigc::kernels::balance_chunks);
      aigc::kernels::parallel_parts(parts, [&](int p) {
        gemm_claimed_rows<T, A, XK, OT>(g, R, C, K, alpha, beta, r_unit, chunks, p);
      });
      return;
    }
    aigc::kernels::parallel_parts(parts, [&](int p) {
      const Index r0 = std::min(R, r_units * p / parts * r_unit);
      const Index r1 = std::min(R, r_units * (p + 1) / parts * r_unit);
      if (r0 < r1) gemm_block<T, A, XK, OT, G::NV>(g, K, alpha, beta, r0, r1, 0, C);
    });
  };
  if (rows_own_weights || small_y) {
    split_rows();
  } else if (!rows_k_major && wide >= 3 * parts) {
    split_cols(std::integral_constant<int, G::NV>{}, wide);
  } else if (!rows_k_major && G::NV > 2 && narrow >= 2 * parts) {
    split_cols(std::integral_constant<int, (G::NV > 2 ? 2 : G::NV)>{}, narrow);
  } else if (r_units >= parts) {
    split_rows();
  } else {
    split_cols(std::integral_constant<int, G::NV>{}, wide);
  }
}

}  // namespace detail

namespace detail {

/// Outputs of at most this many rows and columns over at least this depth go to gemm_dot_nt.
inline constexpr Index dot_max_side = 128;
inline constexpr Index dot_min_depth = Index{1} << 15;

/// The rows of A and the rows of B of one block of gemm_dot_nt's outputs: MR x NR dot products,
/// MR * NR vectors of partial sums in registers (AVX-512: 8 x 3 of 32 registers, else 4 x 3).
template <class T, class A>
struct DotBlocking {
  static constexpr int MR = Simd<T, A>::registers >= 32 ? 8 : 4;
  static constexpr int NR = 3;
};

/// One MR x NR block of dot products over depths [k0, k1): lanes[(r NR + q) W + l] += the terms
/// k = k0 + l (mod W) of rows a_r, b_q (zeros past k1). Rows past mr (nr) repeat the last one;
/// their lanes are computed and never read.
template <class T, class A>
void dot_tile(const T* a, Index lda, const T* b, Index ldb, Index mr, Index nr, Index k0, Index k1,
              T* lanes) {
  using S = Simd<T, A>;
  using V = typename S::V;
  constexpr Index W = S::W;
  constexpr int MR = DotBlocking<T, A>::MR, NR = DotBlocking<T, A>::NR;
  const T* ar[MR];
  const T* br[NR];
  for (int r = 0; r < MR; ++r) ar[r] = a + std::min<Index>(r, mr - 1) * lda;
  for (int q = 0; q < NR; ++q) br[q] = b + std::min<Index>(q, nr - 1) * ldb;
  V acc[MR][NR];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 3
    for (int q = 0; q < NR; ++q) acc[r][q] = S::load_aligned(lanes + (r * NR + q) * W);
  }
  auto step = [&](Index k, Index n, auto full) {
    V bv[NR];
#pragma GCC unroll 3
    for (int q = 0; q < NR; ++q) bv[q] = S::load(br[q] + k, n, full);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const V av = S::load(ar[r] + k, n, full);
#pragma GCC unroll 3
      for (int q = 0; q < NR; ++q) acc[r][q] = S::fma(av, bv[q], acc[r][q]);
    }
  };
  Index k = k0;
  for (; k + W <= k1; k += W) step(k, W, std::true_type{});
  if (k < k1) step(k, k1 - k, std::false_type{});  // the depth's tail
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 3
    for (int q = 0; q < NR; ++q) S::store_aligned(lanes + (r * NR + q) * W, acc[r][q]);
  }
}

/// C = alpha A B^T + beta C for a small output over a long depth (A M x K, B N x K, both rows
/// k-contiguous; M, N <= dot_max_side): the weight gradient of a convolution with few input
/// channels, dW = dZ col^T with col's batch*positions as the depth. The GEMM would pack all of
/// one operand transposed (as large as the operand itself) on every thread; here each output is
/// a dot product of two rows read in place, W lanes of partial sums per output. The depth is cut
/// into two fixed halves (one per core when there are two) and, within a half, into blocks of
/// which MR rows of A stay in L1 while the rows of B stream from L2. The halves' lanes are
/// summed in order, then added; the split depends on K alone, so the result is bitwise the same
/// for any thread count. Each depth block of all the rows is first copied into one contiguous
/// buffer: read in place, the rows of a convolution's col or dZ lie a power of two apart (128
/// images of 32 x 32 positions: 512 KB), so the same depth of every row falls in the same cache
/// set and the block that fits L2 by size does not by associativity (the 64x64 DCGAN's first
/// weight gradient, (64, 48, 131072), measured on 2 threads: 11.7 ms in place, 4.6 ms copied).
template <class T, class A>
void gemm_dot_nt(Index M, Index N, Index K, T alpha, const T* a, Index lda, const T* b, Index ldb,
                 T beta, T* c, Index ldc) {
  using S = Simd<T, A>;
  constexpr Index W = S::W;
  constexpr int MR = DotBlocking<T, A>::MR, NR = DotBlocking<T, A>::NR;
  const Index tiles_m = (M + MR - 1) / MR, tiles_n = (N + NR - 1) / NR, tile_lanes = MR * NR * W;
  const Index lanes_per_half = tiles_m * tiles_n * tile_lanes;
  const Index half = K / 2 / W * W;
  const Index block = std::max<Index>(W, Index{24 * 1024} / (MR * Index{sizeof(T)}) / W * W);
  thread_local aigc::kernels::AlignedBuffer sums_buffer;
  T* sums = sums_buffer.get<T>(static_cast<std::size_t>(2 * M * N));
  auto run_half = [&](int h) {
    const Index d0 = h == 0 ? 0 : half, d1 = h == 0 ? half : K;
    T* lanes = gemm_scratch(0).get<T>(static_cast<std::size_t>(lanes_per_half));
    std::fill(lanes, lanes + lanes_per_half, T(0));
    // the block's rows of A, then of B, block values apart (k0 and block are multiples of W, so
    // each depth keeps its lane: bitwise the sums of the rows read in place)
    T* rows = gemm_scratch(1).get<T>(static_cast<std::size_t>((M + N) * block));
    for (Index k0 = d0; k0 < d1; k0 += block) {
      const Index k1 = std::min(d1, k0 + block), kb = k1 - k0;
      for (Index i = 0; i < M; ++i) std::copy_n(a + i * lda + k0, kb, rows + i * block);
      for (Index j = 0; j < N; ++j) std::copy_n(b + j * ldb + k0, kb, rows + (M + j) * block);
      for (Index tm = 0; tm < tiles_m; ++tm) {
        for (Index tn = 0; tn < tiles_n; ++tn) {
          dot_tile<T, A>(rows + tm * MR * block, block, rows + (M + tn * NR) * block, block,
                         std::min<Index>(MR, M - tm * MR), std::min<Index>(NR, N - tn * NR), 0, kb,
                         lanes + (tm * tiles_n + tn) * tile_lanes);
        }
      }
    }
    T* out = sums + h * M * N;
    for (Index i = 0; i < M; ++i) {
      for (Index j = 0; j < N; ++j) {
        const T* l =
            lanes + ((i / MR) * tiles_n + j / NR) * tile_lanes + ((i % MR) * NR + j % NR) * W;
        T s = T(0);
        for (Index v = 0; v < W; ++v) s += l[v];
        out[i * N + j] = s;
      }
    }
  };
  aigc::kernels::parallel_pair([&] { run_half(0); }, [&] { run_half(1); });
  for (Index i = 0; i < M; ++i) {
    for (Index j = 0; j < N; ++j) {
      const T dot = alpha * (sums[i * N + j] + sums[M * N + i * N + j]);
      T& out = c[i * ldc + j];
      out = beta == T(0) ? dot : dot + beta * out;
    }
  }
}

/// The GEMM of both public entry points below, with an optional epilogue.
template <class T, class A>
void gemm_impl(Trans trans_a, Trans trans_b, Index M, Index N, Index K, T alpha, const T* a,
               Index lda, const T* b, Index ldb, T beta, T* c, Index ldc, const T* bias,
               Activation act, T slope) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == T(0)) {
    for (Index i = 0; i < M; ++i) {
      T* row = c + i * ldc;
      if (beta == T(0)) {
        std::fill(row, row + N, T(0));
      } else if (beta != T(1)) {
        for (Index j = 0; j < N; ++j) row[j] *= beta;
      }
    }
    if (bias || act != Activation::identity) {
      bias_activation_block<T, A>(c, ldc, bias, M, N, act, slope);
    }
    return;
  }
  if (trans_a == Trans::no && trans_b == Trans::yes && M <= dot_max_side && N <= dot_max_side &&
      K >= dot_min_depth) {
    gemm_dot_nt<T, A>(M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
    if (bias || act != Activation::identity) {
      bias_activation_block<T, A>(c, ldc, bias, M, N, act, slope);
    }
    return;
  }
  // Rows of C are vectors: X = op(A) broadcast in place, Y = op(B) packed (by rows, or by the
  // transposing pack when op(B) = B^T). For op(B) = B^T this form is taken when B is small beside
  // op(A) and C (few outputs or a short depth, e.g. the VAE's 400 -> 40 and 20 -> 400 layers):
  // the transposed form below packs M K values and stores M N one by one, this one packs N K and
  // stores by rows. Measured on (M,N,K) = (128,400,20): 15 us against 26.
  if (trans_b == Trans::no || N * K < M * (K + N)) {
    const GemmView<T> g{a,
                        trans_a == Trans::no ? lda : 1,
                        trans_a == Trans::no ? 1 : lda,
                        b,
                        trans_b == Trans::no ? ldb : 1,
                        trans_b == Trans::no ? 1 : ldb,
                        c,
                        ldc,
                        1,
                        bias,
                        act,
                        slope};
    if (trans_a == Trans::no) {
      gemm_core<T, A, true, false>(g, M, N, K, alpha, beta);
    } else {
      gemm_core<T, A, false, false>(g, M, N, K, alpha, beta);
    }
  } else {
    // op(B) = B^T has k-contiguous columns: compute C^T = B op(A)^T, so that B is broadcast in
    // place and op(A)^T packed, and store the tiles of C^T transposed.
    const GemmView<T> g{
        b,   ldb,  1,   a,    trans_a == Trans::no ? 1 : lda, trans_a == Trans::no ? lda : 1, c, 1,
        ldc, bias, act, slope};
    gemm_core<T, A, true, true>(g, N, M, K, alpha, beta);
  }
}

}  // namespace detail

/// C = alpha * op(A) * op(B) + beta * C with op(A) M x K and op(B) K x N, all row-major with
/// leading dimensions lda, ldb, ldc. beta == 0 overwrites C (NaNs in C are not propagated).
/// Threads split C into blocks; the result is bitwise the same for any number of threads.
template <class T, class A = simd_arch>
void gemm(Trans trans_a, Trans trans_b, Index M, Index N, Index K, T alpha, const T* a, Index lda,
          const T* b, Index ldb, T beta, T* c, Index ldc) {
  detail::gemm_impl<T, A>(trans_a, trans_b, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, nullptr,
                          Activation::identity, T(0));
}

/// C = act(alpha * op(A) * op(B) + beta * C + bias) with bias[j] added to column j (bias may be
/// null): the GEMM with the bias and activation applied to each finished block of C while it is
/// still in cache (a fused Dense forward).
template <class T, class A = simd_arch>
void gemm_bias_activation(Trans trans_a, Trans trans_b, Index M, Index N, Index K, T alpha,
                          const T* a, Index lda, const T* b, Index ldb, T beta, T* c, Index ldc,
                          const T* bias, Activation act, T slope) {
  detail::gemm_impl<T, A>(trans_a, trans_b, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, bias, act,
                          slope);
}

namespace detail {
/// Weights of at least this many elements are multiplied as two depth halves (gemm_by_weights).
inline constexpr Index depth_halves_min_elements = Index{1} << 16;
}  // namespace detail

/// C = A B (A M x K, B K x N, C M x N, row-major and contiguous) as the sum of two products over
/// fixed halves of the depth, C = A[:, 0:h] B[0:h, :] + A[:, h:K] B[h:K, :] with h = K / 2, the
/// halves on two threads (when there are two), added in this order; `half` (M x N) holds the
/// second product. For dX = dY W of a layer with a large W: each thread reads only its own half of
/// W's rows, the half that the forward GEMM (split over W's rows) and the optimiser (split over
/// the parameter's elements) keep on its core, so no weight line moves between the cores. The
/// split is fixed by K alone: any number of threads gives bitwise the same result.
template <class T, class A = simd_arch>
void gemm_depth_halves(Index M, Index N, Index K, const T* a, Index lda, const T* b, Index ldb,
                       T* c, T* half) {
  if (M <= 0 || N <= 0) return;
  const Index h = K / 2;
  aigc::kernels::parallel_pair(
      [&] { gemm<T, A>(Trans::no, Trans::no, M, N, h, T(1), a, lda, b, ldb, T(0), c, N); },
      [&] {
        gemm<T, A>(Trans::no, Trans::no, M, N, K - h, T(1), a + h, lda, b + h * ldb, ldb, T(0),
                   half, N);
      });
  add_inplace<T, A>(c, half, M * N);
}

/// C = A W for a layer's weight matrix W (K x N, row-major, contiguous), A M x K and C M x N
/// contiguous: a layer's dX = dY W. A large W is multiplied as two depth halves
/// (gemm_depth_halves), so each core reads only the half of W it keeps through the step; the
/// choice depends on the shape alone, so the result does not depend on the thread count.
template <class T, class A = simd_arch>
void gemm_by_weights(Index M, Index N, Index K, const T* a, const T* w, T* c) {
  if (K * N >= detail::depth_halves_min_elements) {
    thread_local aigc::kernels::AlignedBuffer half;
    gemm_depth_halves<T, A>(M, N, K, a, K, w, N, c, half.get<T>(static_cast<std::size_t>(M * N)));
    return;
  }
  gemm<T, A>(Trans::no, Trans::no, M, N, K, T(1), a, K, w, N, T(0), c, N);
}

}  // namespace aigc::kernels
