/// @file
/// aigc: kernels of the label conditioning: appending a per-label code (one row of a table) to each
/// row of a batch, each code value repeated over `repeat` columns (1 for vectors, H*W for the
/// constant channels of an image), and the backward of that concatenation.
#pragma once

#include <algorithm>

#include "aigc/core/tensor.hpp"
#include "aigc/kernels/elementwise.hpp"
#include "aigc/kernels/partition.hpp"
#include "aigc/kernels/simd.hpp"

namespace aigc::kernels {

/// Row r of y (cols + codes * repeat values) = [row r of x | table[labels[r], e] repeated `repeat`
/// times, for e < codes]. x is rows x cols, table has `codes` columns.
template <class T, class A = simd_arch>
void concat_label_codes(const T* x, Index rows, Index cols, const T* table, Index codes,
                        const int* labels, Index repeat, T* y) {
  using S = detail::Simd<T, A>;
  const Index out_cols = cols + codes * repeat;
  const Index grain = std::max<Index>(1, 4 * detail::cheap_grain / std::max<Index>(1, out_cols));
  aigc::kernels::parallel_for(rows, grain, [&](Index r0, Index r1) {
    for (Index r = r0; r < r1; ++r) {
      T* yr = y + r * out_cols;
      std::copy_n(x + r * cols, cols, yr);
      const T* code = table + static_cast<Index>(labels[r]) * codes;
      for (Index e = 0; e < codes; ++e) {
        const typename S::V v = S::broadcast(code[e]);
        T* seg = yr + cols + e * repeat;
        detail::for_each_vector<T, A>(
            0, repeat, [&](Index i, Index m, auto full) { S::store(seg + i, v, m, full); });
      }
    }
  });
}

/// The backward of concat_label_codes: dx = the first `cols` columns of dy (skipped when dx is
/// null); dtable[labels[r], e] += sum over the `repeat` columns of code value e in row r of dy
/// (skipped when dtable is null). Rows are added in order, so the result does not depend on the
/// number of threads.
template <class T, class A = simd_arch>
void concat_label_codes_backward(const T* dy, Index rows, Index cols, Index codes,
                                 const int* labels, Index repeat, T* dx, T* dtable) {
  using S = detail::Simd<T, A>;
  const Index in_cols = cols + codes * repeat;
  if (dx) {
    const Index grain = std::max<Index>(1, 4 * detail::cheap_grain / std::max<Index>(1, cols));
    aigc::kernels::parallel_for(rows, grain, [&](Index r0, Index r1) {
      for (Index r = r0; r < r1; ++r) std::copy_n(dy + r * in_cols, cols, dx + r * cols);
    });
  }
  if (!dtable) return;
  const Index grain = std::max<Index>(1, detail::cheap_grain / std::max<Index>(1, rows * repeat));
  aigc::kernels::parallel_for(codes, grain, [&](Index e0, Index e1) {  // each thread owns codes
    for (Index r = 0; r < rows; ++r) {
      T* drow = dtable + static_cast<Index>(labels[r]) * codes;
      for (Index e = e0; e < e1; ++e) {
        const T* seg = dy + r * in_cols + cols + e * repeat;
        const double s = detail::sum_vectors<T, A>(
            0, repeat, [&](Index i, Index m, auto full) { return S::load(seg + i, m, full); });
        drow[e] += static_cast<T>(s);
      }
    }
  });
}

}  // namespace aigc::kernels
