/// @file
/// aigc: the lowering of 2-d convolutions onto the GEMM. im2col gathers the input patches of a
/// whole batch into one matrix whose rows are (channel, kernel row, kernel column) and whose
/// columns are (image, output row, output column), so that one GEMM with long dimensions computes
/// the convolution of every image; col2im scatters such a matrix back (summing overlaps). The
/// channel-major helpers move images between NCHW (batch x C*S) and the GEMM's C x (batch*S)
/// layout, fused with the bias, the activation or its backward. Threads split the outputs (rows
/// of col, planes of images, channels), so results are bitwise the same for any thread count.
#pragma once

#include <algorithm>
#include <string>

#include "aigc/core/error.hpp"
#include "aigc/core/tensor.hpp"
#include "aigc/kernels/elementwise.hpp"
#include "aigc/kernels/parallel.hpp"
#include "aigc/kernels/simd.hpp"

namespace aigc::kernels {

/// The geometry of a convolution over images of `channels` x height x width with a square kernel
/// (PyTorch's Conv2d with dilation 1): out = (in + 2 padding - kernel) / stride + 1.
struct ConvShape {
  Index channels = 1;  ///< input channels
  Index height = 1;    ///< input rows
  Index width = 1;     ///< input columns
  Index kernel = 1;    ///< kernel size (square)
  Index stride = 1;    ///< step between kernel positions
  Index padding = 0;   ///< zeros added on every side

  /// Output rows.
  Index out_height() const { return (height + 2 * padding - kernel) / stride + 1; }
  /// Output columns.
  Index out_width() const { return (width + 2 * padding - kernel) / stride + 1; }
  /// Values of one input image: channels * height * width.
  Index image_size() const { return channels * height * width; }
  /// Values of one patch, the rows of the im2col matrix: channels * kernel * kernel.
  Index patch_size() const { return channels * kernel * kernel; }
  /// Kernel positions, the columns of the im2col matrix: out_height * out_width.
  Index out_positions() const { return out_height() * out_width(); }

  /// "C x H x W (kernel k, stride s, padding p)" for error messages.
  std::string to_string() const {
    return std::to_string(channels) + " x " + std::to_string(height) + " x " +
           std::to_string(width) + " (kernel " + std::to_string(kernel) + ", stride " +
           std::to_string(stride) + ", padding " + std::to_string(padding) + ")";
  }

  /// Throws ArgumentError naming `what` unless every size is positive and the kernel fits.
  void validate(const std::string& what) const {
    if (channels <= 0 || height <= 0 || width <= 0 || kernel <= 0 || stride <= 0 || padding < 0) {
      throw ArgumentError(what + ": sizes must be positive (padding >= 0), got " + to_string());
    }
    if (height + 2 * padding < kernel || width + 2 * padding < kernel) {
      throw ArgumentError(what + ": kernel larger than the padded image, got " + to_string());
    }
  }
};

namespace detail {

/// The output positions o in [0, n_out) whose input o * stride - padding + offset lies in
/// [0, n_in): [lo, hi).
inline void valid_range(Index n_in, Index n_out, Index stride, Index padding, Index offset,
                        Index& lo, Index& hi) {
  const Index shift = padding - offset;  // input = o * stride - shift
  lo = shift <= 0 ? 0 : (shift + stride - 1) / stride;
  hi = n_in + shift <= 0 ? 0 : std::min(n_out, (n_in + shift - 1) / stride + 1);
  lo = std::min(lo, hi);
}

/// y[i] = act(y[i] + b) for i < n (one plane of an image: a per-channel bias).
template <class T, class A>
void offset_activation(T* y, Index n, T b, Activation act, T slope) {
  using S = Simd<T, A>;
  with_activation(act, [&](auto tag) {
    constexpr Activation a = decltype(tag)::value;
    const typename S::V vs = S::broadcast(slope), vb = S::broadcast(b);
    for_each_vector<T, A>(0, n, [&](Index i, Index m, auto full) {
      S::store(y + i, activate<a, S>(S::load(y + i, m, full) + vb, vs), m, full);
    });
  });
}

/// Rows of col per thread part (each row is batch * out_positions values).
inline Index rows_grain(Index row_length) {
  return std::max<Index>(1, 4 * cheap_grain / std::max<Index>(1, row_length));
}

}  // namespace detail

/// col[(c k + i) k + j, n OH OW + oh OW + ow] = x[n, c, oh s - p + i, ow s - p + j], zero where
/// the patch hangs over the padding. x: batch x C*H*W; col: C*k*k x batch*OH*OW.
template <class T>
void im2col(const T* x, Index batch, const ConvShape& s, T* col) {
  const Index K = s.kernel, OH = s.out_height(), OW = s.out_width(), H = s.height, Wd = s.width;
  const Index stride = s.stride, ld = batch * OH * OW;
  aigc::detail::parallel_for(s.patch_size(), detail::rows_grain(ld), [&](Index r0, Index r1) {
    for (Index r = r0; r < r1; ++r) {
      const Index c = r / (K * K), i = r / K % K, j = r % K;
      Index oh0, oh1, ow0, ow1;
      detail::valid_range(H, OH, stride, s.padding, i, oh0, oh1);
      detail::valid_range(Wd, OW, stride, s.padding, j, ow0, ow1);
      for (Index n = 0; n < batch; ++n) {
        T* dst = col + r * ld + n * OH * OW;
        const T* plane = x + n * s.image_size() + c * H * Wd;
        std::fill(dst, dst + oh0 * OW, T(0));
        for (Index oh = oh0; oh < oh1; ++oh) {
          T* d = dst + oh * OW;
          const T* src = plane + (oh * stride - s.padding + i) * Wd - s.padding + j;
          std::fill(d, d + ow0, T(0));
          if (stride == 1) {
            std::copy(src + ow0, src + ow1, d + ow0);
          } else if (stride == 2) {
            for (Index ow = ow0; ow < ow1; ++ow) d[ow] = src[2 * ow];
          } else {
            for (Index ow = ow0; ow < ow1; ++ow) d[ow] = src[ow * stride];
          }
          std::fill(d + ow1, d + OW, T(0));
        }
        std::fill(dst + oh1 * OW, dst + OH * OW, T(0));
      }
    }
  });
}

/// x[n, c, h, w] = act(sum of the col entries im2col would have read from (n, c, h, w) +
/// bias[c]) (the adjoint of im2col, then the bias and activation; bias may be null). With
/// accumulate, the sums are added to x (before the bias and activation).
template <class T, class A = simd_arch>
void col2im(const T* col, Index batch, const ConvShape& s, T* x, bool accumulate = false,
            const T* bias = nullptr, Activation act = Activation::identity, T slope = T(0)) {
  const Index K = s.kernel, OH = s.out_height(), OW = s.out_width(), H = s.height, Wd = s.width;
  const Index stride = s.stride, ld = batch * OH * OW, C = s.channels, plane_size = H * Wd;
  const Index grain = std::max<Index>(1, 2 * detail::cheap_grain / (plane_size * K * K));
  aigc::detail::parallel_for(batch * C, grain, [&](Index p0, Index p1) {
    for (Index p = p0; p < p1; ++p) {  // plane p = (n, c); rows summed in (i, j) order
      const Index n = p / C, c = p % C;
      T* plane = x + p * plane_size;
      if (!accumulate) std::fill(plane, plane + plane_size, T(0));
      for (Index i = 0; i < K; ++i) {
        Index oh0, oh1;
        detail::valid_range(H, OH, stride, s.padding, i, oh0, oh1);
        for (Index j = 0; j < K; ++j) {
          Index ow0, ow1;
          detail::valid_range(Wd, OW, stride, s.padding, j, ow0, ow1);
          const T* src = col + ((c * K + i) * K + j) * ld + n * OH * OW;
          for (Index oh = oh0; oh < oh1; ++oh) {
            T* d = plane + (oh * stride - s.padding + i) * Wd - s.padding + j;
            const T* r = src + oh * OW;
            if (stride == 1) {
              for (Index ow = ow0; ow < ow1; ++ow) d[ow] += r[ow];
            } else if (stride == 2) {
              for (Index ow = ow0; ow < ow1; ++ow) d[2 * ow] += r[ow];
            } else {
              for (Index ow = ow0; ow < ow1; ++ow) d[ow * stride] += r[ow];
            }
          }
        }
      }
      if (bias || act != Activation::identity) {
        detail::offset_activation<T, A>(plane, plane_size, bias ? bias[c] : T(0), act, slope);
      }
    }
  });
}

/// out[c, n S + s] = x[n, c S + s]: NCHW images (batch x C*S) to the channel-major C x batch*S.
template <class T>
void to_channel_major(const T* x, Index batch, Index C, Index S, T* out) {
  const Index grain = std::max<Index>(1, 4 * detail::cheap_grain / S);
  aigc::detail::parallel_for(batch * C, grain, [&](Index p0, Index p1) {
    for (Index p = p0; p < p1; ++p) {  // plane p = (c, n)
      const Index c = p / batch, n = p % batch;
      std::copy_n(x + (n * C + c) * S, S, out + p * S);
    }
  });
}

/// out[c, n S + s] = dy[n, c S + s] * act'(y[n, c S + s]) (act' through the output y = act(z)):
/// the backward of from_channel_major's activation, into the channel-major layout.
template <class T, class A = simd_arch>
void to_channel_major_backward(const T* dy, const T* y, Index batch, Index C, Index S, T* out,
                               Activation act, T slope) {
  using Sd = detail::Simd<T, A>;
  const Index grain = std::max<Index>(1, 4 * detail::cheap_grain / S);
  detail::with_activation(act, [&](auto tag) {
    constexpr Activation a = decltype(tag)::value;
    aigc::detail::parallel_for(batch * C, grain, [&](Index p0, Index p1) {
      const typename Sd::V vs = Sd::broadcast(slope);
      for (Index p = p0; p < p1; ++p) {
        const Index c = p / batch, n = p % batch;
        const T* g = dy + (n * C + c) * S;
        const T* v = y + (n * C + c) * S;
        T* o = out + p * S;
        detail::for_each_vector<T, A>(0, S, [&](Index i, Index m, auto full) {
          Sd::store(o + i,
                    detail::activate_backward<a, Sd>(Sd::load(g + i, m, full),
                                                     Sd::load(v + i, m, full), vs),
                    m, full);
        });
      }
    });
  });
}

/// y[n, c S + s] = act(in[c, n S + s] + bias[c]): the channel-major C x batch*S back to NCHW, with
/// the bias (may be null) and the activation.
template <class T, class A = simd_arch>
void from_channel_major(const T* in, Index batch, Index C, Index S, T* y, const T* bias = nullptr,
                        Activation act = Activation::identity, T slope = T(0)) {
  const Index grain = std::max<Index>(1, detail::grain_for(act) / S);
  aigc::detail::parallel_for(batch * C, grain, [&](Index p0, Index p1) {
    for (Index p = p0; p < p1; ++p) {  // plane p = (n, c)
      const Index n = p / C, c = p % C;
      T* o = y + p * S;
      std::copy_n(in + (c * batch + n) * S, S, o);
      if (bias || act != Activation::identity) {
        detail::offset_activation<T, A>(o, S, bias ? bias[c] : T(0), act, slope);
      }
    }
  });
}

/// out[c] (+)= sum over n and s of x[n, c S + s] (per-channel sums of NCHW images; the bias
/// gradient of a convolution). Each channel is summed in a fixed order by one thread.
template <class T, class A = simd_arch>
void channel_sums(const T* x, Index batch, Index C, Index S, T* out, bool accumulate) {
  using Sd = detail::Simd<T, A>;
  const Index grain = std::max<Index>(1, detail::cheap_grain / std::max<Index>(1, batch * S));
  aigc::detail::parallel_for(C, grain, [&](Index c0, Index c1) {
    for (Index c = c0; c < c1; ++c) {
      double total = 0.0;
      for (Index n = 0; n < batch; ++n) {
        const T* row = x + (n * C + c) * S;
        total += detail::sum_vectors<T, A>(
            0, S, [&](Index i, Index m, auto full) { return Sd::load(row + i, m, full); });
      }
      out[c] = static_cast<T>(accumulate ? static_cast<double>(out[c]) + total : total);
    }
  });
}

}  // namespace aigc::kernels
