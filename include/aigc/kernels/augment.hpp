/// @file
/// aigc: the per-image transforms of differentiable augmentation (DiffAugment: brightness,
/// saturation, contrast, translation, cutout) on NCHW rows, and their backward passes. Each is
/// linear in the image for fixed random parameters, so each backward is the transposed map.
#pragma once

#include <algorithm>

#include "aigc/core/tensor.hpp"
#include "aigc/kernels/partition.hpp"

namespace aigc::kernels {

/// The random parameters of one image's augmentation (identity by default).
struct AugmentDraw {
  double brightness = 0.0;  ///< added to every value
  double saturation = 1.0;  ///< y = s (x - mean over channels) + mean over channels
  double contrast = 1.0;    ///< y = c (x - mean of the image) + mean of the image
  Index shift_y = 0;        ///< y(i, j) = x(i + shift_y, j + shift_x), 0 outside
  Index shift_x = 0;        ///< see shift_y
  Index cut_y0 = 0;         ///< cutout: rows [cut_y0, cut_y1) x columns [cut_x0, cut_x1) set to 0
  Index cut_y1 = 0;         ///< see cut_y0
  Index cut_x0 = 0;         ///< see cut_y0
  Index cut_x1 = 0;         ///< see cut_y0
};

namespace detail {

/// y = s (x - mean over channels) + mean over channels, per pixel (dx: the same map, as it is
/// symmetric).
template <class T>
void saturate(const T* x, T* y, Index C, Index HW, double s) {
  for (Index p = 0; p < HW; ++p) {
    double m = 0.0;
    for (Index c = 0; c < C; ++c) m += x[c * HW + p];
    m /= static_cast<double>(C);
    for (Index c = 0; c < C; ++c) y[c * HW + p] = static_cast<T>(s * (x[c * HW + p] - m) + m);
  }
}

/// y = c (x - mean) + mean over the whole image (symmetric as well).
template <class T>
void contrast(const T* x, T* y, Index n, double c) {
  double m = 0.0;
  for (Index i = 0; i < n; ++i) m += x[i];
  m /= static_cast<double>(n);
  for (Index i = 0; i < n; ++i) y[i] = static_cast<T>(c * (x[i] - m) + m);
}

}  // namespace detail

/// y = cutout(translate(contrast(saturate(x + brightness)))) for each row b of x (C x H x W),
/// with draws[b]; x and y may not alias.
template <class T>
void augment_forward(const T* x, T* y, Index batch, Index C, Index H, Index W,
                     const AugmentDraw* draws, T* scratch_rows) {
  const Index n = C * H * W, HW = H * W;
  parallel_for(batch, 1, [&](Index b0, Index b1) {
    for (Index b = b0; b < b1; ++b) {
      const AugmentDraw& d = draws[b];
      const T* xb = x + b * n;
      T* t = scratch_rows + b * n;
      T* yb = y + b * n;
      for (Index i = 0; i < n; ++i) t[i] = static_cast<T>(xb[i] + d.brightness);
      if (d.saturation != 1.0) detail::saturate(t, t, C, HW, d.saturation);
      if (d.contrast != 1.0) detail::contrast(t, t, n, d.contrast);
      for (Index c = 0; c < C; ++c) {
        for (Index i = 0; i < H; ++i) {
          for (Index j = 0; j < W; ++j) {
            const Index si = i + d.shift_y, sj = j + d.shift_x;
            const bool inside = si >= 0 && si < H && sj >= 0 && sj < W;
            const bool cut = i >= d.cut_y0 && i < d.cut_y1 && j >= d.cut_x0 && j < d.cut_x1;
            yb[c * HW + i * W + j] = inside && !cut ? t[c * HW + si * W + sj] : T(0);
          }
        }
      }
    }
  });
}

/// dx of augment_forward: the transposed maps in reverse order (cutout's mask, the translation
/// scattered back, contrast's and saturation's own maps, brightness' identity).
template <class T>
void augment_backward(const T* dy, T* dx, Index batch, Index C, Index H, Index W,
                      const AugmentDraw* draws) {
  const Index n = C * H * W, HW = H * W;
  parallel_for(batch, 1, [&](Index b0, Index b1) {
    for (Index b = b0; b < b1; ++b) {
      const AugmentDraw& d = draws[b];
      const T* dyb = dy + b * n;
      T* dxb = dx + b * n;
      std::fill(dxb, dxb + n, T(0));
      for (Index c = 0; c < C; ++c) {
        for (Index i = 0; i < H; ++i) {
          for (Index j = 0; j < W; ++j) {
            const Index si = i + d.shift_y, sj = j + d.shift_x;
            const bool inside = si >= 0 && si < H && sj >= 0 && sj < W;
            const bool cut = i >= d.cut_y0 && i < d.cut_y1 && j >= d.cut_x0 && j < d.cut_x1;
            if (inside && !cut) dxb[c * HW + si * W + sj] += dyb[c * HW + i * W + j];
          }
        }
      }
      if (d.contrast != 1.0) detail::contrast(dxb, dxb, n, d.contrast);
      if (d.saturation != 1.0) detail::saturate(dxb, dxb, C, HW, d.saturation);
    }
  });
}

}  // namespace aigc::kernels
