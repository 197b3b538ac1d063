/// @file
/// aigc: a mini-batch of images gathered from a data set's rows, converted to values (bytes x
/// mul + add) and optionally flipped and shifted image by image (the loader's augmentation).
#pragma once

#include <algorithm>
#include <cstdint>

#include "aigc/core/tensor.hpp"
#include "aigc/kernels/elementwise.hpp"
#include "aigc/kernels/partition.hpp"
#include "aigc/kernels/scratch.hpp"

namespace aigc::kernels {

/// One image's augmentation: mirrored left-right, then moved by (dx, dy) pixels, the uncovered
/// border filled by reflection (torch's "reflect" padding: ... 2 1 | 0 1 2 ...).
struct ImageShift {
  bool flip = false;  ///< mirror left-right
  int dx = 0;         ///< columns to the right (negative: left)
  int dy = 0;         ///< rows down (negative: up)
};

namespace detail {
/// Reflection of i into [0, n) without repeating the edge; |overshoot| < n.
inline Index reflect_index(Index i, Index n) {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}
}  // namespace detail

/// Row r of dst = row index[r] of src (an image of channels x height x width) as values
/// src * mul + add; with `shifts` (one per row, or null), image r is moved as shifts[r] says:
/// dst(c, y, x) = src(c, reflect(y - dy), x') with x' = reflect(x - dx), mirrored when flip.
template <class S, class T>
void gather_image_rows(const S* src, Index channels, Index height, Index width, const Index* index,
                       Index rows, T* dst, T mul, T add, const ImageShift* shifts) {
  const Index cols = channels * height * width;
  const Index grain = std::max<Index>(1, 4 * detail::cheap_grain / std::max<Index>(1, cols));
  aigc::kernels::parallel_for(rows, grain, [&](Index r0, Index r1) {
    Index* xmap =
        shifts ? kernels::scratch(0).get<Index>(static_cast<std::size_t>(width)) : nullptr;
    for (Index r = r0; r < r1; ++r) {
      const S* in = src + index[r] * cols;
      T* out = dst + r * cols;
      if (!shifts || (!shifts[r].flip && shifts[r].dx == 0 && shifts[r].dy == 0)) {
        for (Index j = 0; j < cols; ++j) out[j] = static_cast<T>(in[j]) * mul + add;
        continue;
      }
      const ImageShift& s = shifts[r];
      for (Index x = 0; x < width; ++x) {
        const Index xs = detail::reflect_index(x - s.dx, width);
        xmap[x] = s.flip ? width - 1 - xs : xs;
      }
      for (Index c = 0; c < channels; ++c) {
        for (Index y = 0; y < height; ++y) {
          const S* line = in + (c * height + detail::reflect_index(y - s.dy, height)) * width;
          T* o = out + (c * height + y) * width;
          for (Index x = 0; x < width; ++x) o[x] = static_cast<T>(line[xmap[x]]) * mul + add;
        }
      }
    }
  });
}

}  // namespace aigc::kernels
