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
#include <type_traits>
#include <utility>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "aigc/core/error.hpp"
#include "aigc/core/tensor.hpp"
#include "aigc/kernels/elementwise.hpp"
#include "aigc/kernels/partition.hpp"
#include "aigc/kernels/simd.hpp"

namespace aigc::kernels {

/// The geometry of a convolution over images of `channels` x height x width with a square kernel
/// (PyTorch's Conv2d with dilation 1): out = (in + 2 padding - kernel) / stride + 1.
struct ConvShape {
  Index channels = 1;  ///< Channels of an input image.
  Index height = 1;    ///< Height of an input image.
  Index width = 1;     ///< Width of an input image.
  Index kernel = 1;    ///< Size of the square kernel.
  Index stride = 1;    ///< Step between output positions.
  Index padding = 0;   ///< Zeros added on each side.

  /// Height of an output image.

  /// Output rows.
  Index out_height() const { return (height + 2 * padding - kernel) / stride + 1; }
  /// Width of an output image.
  Index out_width() const { return (width + 2 * padding - kernel) / stride + 1; }
  /// Values of an input image, C*H*W.
  Index image_size() const { return channels * height * width; }
  Index patch_size() const { return channels * kernel * kernel; }  ///< rows of col
  /// Output positions per image, OH*OW.
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

/// Calls f(std::integral_constant<Index, v>) when v is one of Vs (the loops f runs then have it
/// as a constant), f(std::integral_constant<Index, 0>) for any other v.
template <Index... Vs, class F>
void with_constant(Index v, F&& f) {
  const bool fixed = ((v == Vs ? (f(std::integral_constant<Index, Vs>{}), true) : false) || ...);
  if (!fixed) f(std::integral_constant<Index, 0>{});
}

/// with_constant for strides 1 and 2.
template <class F>
void with_stride(Index stride, F&& f) {
  with_constant<1, 2>(stride, std::forward<F>(f));
}

/// with_constant for the output widths of the DCGANs' stride-2 layers (7 and 14 at 28x28; 4, 8,
/// 16, 32 and 64 at 64x64), so that their short row copies unroll into whole vectors. (The 64x64
/// DCGAN's im2col of 4 x 4 outputs took 2.7 times as long with the width a variable, measured.)
template <class F>
void with_width(Index width, F&& f) {
  with_constant<4, 7, 8, 14, 16, 32, 64>(width, std::forward<F>(f));
}

/// Splits an H x W plane, zero-padded by `pad` on each side, into its four stride-2 phases:
/// phase (a, b) holds padded(2 r + a, 2 q + b) at [(2 a + b) Hh Wh + r Wh + q], so that a stride-2
/// tap reads contiguous values. Only the image's values are written: the border, zeroed once by
/// the caller, stays zero. A non-zero FW is W fixed at compile time.
template <Index FW = 0, class T>
void split_phases(const T* plane, Index H, Index width, Index pad, Index Hh, Index Wh, T* phases) {
  const Index W = FW != 0 ? FW : width;
  for (Index h = 0; h < H; ++h) {
    const Index r = h + pad;
    T* even = phases + ((r % 2) * 2 + pad % 2) * Hh * Wh + r / 2 * Wh + pad / 2;
    T* odd = phases + ((r % 2) * 2 + (pad + 1) % 2) * Hh * Wh + r / 2 * Wh + (pad + 1) / 2;
    const T* from = plane + h * W;  // columns w with (w + pad) even go to `even`, in order
    for (Index w = 0; 2 * w < W; ++w) even[w] = from[2 * w];
    for (Index w = 0; 2 * w + 1 < W; ++w) odd[w] = from[2 * w + 1];
  }
}

/// The running part's scratch plane for im2col/col2im (slot 2; grows, never shrinks).
template <class T>
T* padded_plane(Index size) {
  return aigc::kernels::scratch(2).get<T>(static_cast<std::size_t>(size));
}

/// Copies an H x W plane into the interior of a buffer of (H + 2 pad) x (W + 2 pad) values whose
/// border the caller zeroed once (and which stays zero).
template <class T>
void copy_to_padded(const T* plane, Index H, Index W, Index pad, T* buf) {
  const Index Wp = W + 2 * pad;
  for (Index h = 0; h < H; ++h) {  // short rows: a loop, not a call to memmove
    const T* from = plane + h * W;
    T* to = buf + (h + pad) * Wp + pad;
    for (Index w = 0; w < W; ++w) to[w] = from[w];
  }
}

/// dst[l] += src[l] for l < n: one tap's term of col2im's sums.
template <class T, class A>
void add_row(T* dst, const T* src, Index n) {
  using S = Simd<T, A>;
  constexpr std::true_type full;
  const Index vectors = n > 0 ? n / S::W : 0;
  for (Index v = 0; v < vectors; ++v) {
    const Index l = v * S::W;
    S::store(dst + l, S::load(dst + l, S::W, full) + S::load(src + l, S::W, full), S::W, full);
  }
  for (Index l = vectors * S::W; l < n; ++l) dst[l] += src[l];  // the tail, short rows
}

/// row[2 l] (+)= even[l], row[2 l + 1] (+)= odd[l] for the `width` values of row (a scalar
/// loop: xsimd 8.1's zip_lo/zip_hi interleave within 128-bit lanes only).
template <class T>
void interleave_row(const T* even, const T* odd, Index width, T* row, bool accumulate) {
  const Index pairs = width / 2;
  if (accumulate) {
    for (Index l = 0; l < pairs; ++l) {
      row[2 * l] += even[l];
      row[2 * l + 1] += odd[l];
    }
  } else {
    for (Index l = 0; l < pairs; ++l) {
      row[2 * l] = even[l];
      row[2 * l + 1] = odd[l];
    }
  }
  if (width % 2) row[width - 1] = accumulate ? row[width - 1] + even[pairs] : even[pairs];
}

#if defined(__AVX512F__)
/// AVX-512 lanes [first, last) of p[first, last), zero elsewhere (the other lanes' memory is not
/// touched).
inline __m512 load_lanes(const float* p, Index first, Index last) {
  const auto below = [](Index n) { return static_cast<__mmask16>((1u << n) - 1u); };
  return _mm512_maskz_loadu_ps(static_cast<__mmask16>(below(last) & ~below(first)), p);
}
#endif

/// col2im_plane_k4s2p1 for planes of width 2 * out_width with AVX-512 floats: each row's 16
/// even and 16 odd values at a time in two registers, the taps' rows loaded under masks (a
/// missing tap is a zero lane), then interleaved by two two-register permutes. A sum started
/// from +0 is never -0, so adding the zero lanes leaves every value's bits as the scalar path's.
/// (The scalar path's rows of 4 to 16 values run in scalar tails: col2im was 16% of the 64x64
/// generator's sampling, about 10% this way.) Returns false (nothing done) where this path does
/// not apply.
template <class T, class A>
bool col2im_plane_k4s2p1_vector(const T* col, Index ld, const ConvShape& s, T* plane,
                                bool accumulate) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float> && std::is_base_of_v<xsimd::avx512f, A>) {
    if (s.width != 2 * s.out_width()) return false;
    const Index H = s.height, OH = s.out_height();
    // row[2 l] = even[l], row[2 l + 1] = odd[l]: lanes 0-7 of each, then lanes 8-15
    const __m512i pairs_low =
        _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i pairs_high =
        _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    const auto store = [accumulate](float* to, Index values, __m512 v) {
      const auto mask = static_cast<__mmask16>((1u << values) - 1u);
      if (accumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, to), v);
      _mm512_mask_storeu_ps(to, mask, v);
    };
    with_width(s.out_width(), [&](auto width_tag) {
      constexpr Index fixed = decltype(width_tag)::value;
      const Index OW = fixed ? fixed : s.out_width();
      for (Index h = 0; h < H; ++h) {
        for (Index l0 = 0; l0 < OW; l0 += 16) {
          const Index n = std::min<Index>(16, OW - l0);
          __m512 even = _mm512_setzero_ps(), odd = _mm512_setzero_ps();
          for (Index i = (h + 1) % 2; i < 4; i += 2) {
            const Index oh2 = h + 1 - i;  // 2 oh
            if (oh2 < 0 || oh2 / 2 >= OH) continue;
            const float* r = col + i * 4 * ld + oh2 / 2 * OW + l0;  // tap (i, 0), column l0
            even = _mm512_add_ps(even, load_lanes(r + ld, 0, n));
            even = _mm512_add_ps(even, load_lanes(r + 3 * ld - 1, l0 == 0 ? 1 : 0, n));
            odd = _mm512_add_ps(odd, load_lanes(r + 1, 0, std::min(n, OW - 1 - l0)));
            odd = _mm512_add_ps(odd, load_lanes(r + 2 * ld, 0, n));
          }
          float* row = plane + h * 2 * OW + 2 * l0;
          store(row, std::min<Index>(2 * n, 16), _mm512_permutex2var_ps(even, pairs_low, odd));
          if (n > 8) store(row + 16, 2 * n - 16, _mm512_permutex2var_ps(even, pairs_high, odd));
        }
      }
    });
    return true;
  }
#endif
  (void)col, (void)ld, (void)s, (void)plane, (void)accumulate;
  return false;
}

/// One plane of col2im for kernel 4, stride 2, padding 1, gathered row by row instead of
/// scattered: image row h sums the col rows of the taps i with 2 oh + i - 1 = h; its even
/// columns 2 l the taps j = 1 (col column l) and j = 3 (l - 1), its odd columns 2 l + 1 the taps
/// j = 0 (l + 1) and j = 2 (l). Each value sums its terms from zero in the (i, j) order of the
/// general loop, so the results are bitwise the same. col: the plane's tap (0, 0) row at the
/// plane's image; halves: room for width + 1 values.
template <class T, class A>
void col2im_plane_k4s2p1(const T* col, Index ld, const ConvShape& s, T* plane, bool accumulate,
                         T* halves) {
  if (col2im_plane_k4s2p1_vector<T, A>(col, ld, s, plane, accumulate)) return;
  const Index H = s.height, OH = s.out_height();
  // the DCGANs' even widths fixed at compile time (with_width): the rows unroll
  with_width(s.width % 2 == 0 && s.out_width() == s.width / 2 ? s.out_width() : 0,
             [&](auto width_tag) {
               constexpr Index fixed = decltype(width_tag)::value;
               const Index Wd = fixed ? 2 * fixed : s.width, OW = fixed ? fixed : s.out_width();
               const Index ne = (Wd + 1) / 2, no = Wd / 2;
               T* even = halves;
               T* odd = halves + ne;
               for (Index h = 0; h < H; ++h) {
                 std::fill(halves, halves + ne + no, T(0));
                 for (Index i = (h + 1) % 2; i < 4; i += 2) {
                   const Index oh2 = h + 1 - i;  // 2 oh
                   if (oh2 < 0 || oh2 / 2 >= OH) continue;
                   const T* r = col + i * 4 * ld + oh2 / 2 * OW;  // tap (i, 0)
                   add_row<T, A>(even, r + ld, std::min(ne, OW));
                   add_row<T, A>(even + 1, r + 3 * ld, std::min(ne, OW + 1) - 1);
                   add_row<T, A>(odd, r + 1, std::min(no, OW - 1));
                   add_row<T, A>(odd, r + 2 * ld, std::min(no, OW));
                 }
                 interleave_row(even, odd, Wd, plane + h * Wd, accumulate);
               }
             });
}

}  // namespace detail

namespace detail {

/// Values of the zero-bordered scratch of im2col_plane: the padded plane, or its four stride-2
/// phases.
inline Index im2col_buffer_size(const ConvShape& s) {
  const Index Hp = s.height + 2 * s.padding, Wp = s.width + 2 * s.padding;
  return s.stride == 2 ? 4 * ((Hp + 1) / 2) * ((Wp + 1) / 2) : Hp * Wp;
}

/// The k*k col rows of one input plane: dst[(i k + j) ld + oh OW + ow] = plane[oh s - p + i,
/// ow s - p + j], zero in the padding. buf: im2col_buffer_size values whose border is zero (the
/// caller zeroes it once; only the image's values are written here). Stride 2 (the DCGANs'
/// down-sampling layers) splits the padded plane into its four phases, so that every tap row is
/// a contiguous copy; other strides copy the plane into the padded buffer and gather.
template <class T>
void im2col_plane(const T* plane, const ConvShape& s, T* buf, T* dst, Index ld) {
  const Index K = s.kernel, OH = s.out_height(), OW = s.out_width(), H = s.height, Wd = s.width;
  const Index pad = s.padding, Hp = H + 2 * pad, Wp = Wd + 2 * pad;
  if (s.stride == 2) {
    const Index Hh = (Hp + 1) / 2, Wh = (Wp + 1) / 2;
    with_width(OW, [&](auto width_tag) {
      constexpr Index fixed = decltype(width_tag)::value;  ///< 0: not fixed at compile time
      const Index ow_n = fixed ? fixed : OW;
      // the plane's width too, when it is twice the output's (the DCGANs' kernel 4, padding 1)
      if (fixed != 0 && Wd == 2 * fixed) {
        split_phases<2 * fixed>(plane, H, Wd, pad, Hh, Wh, buf);
      } else {
        split_phases(plane, H, Wd, pad, Hh, Wh, buf);
      }
      for (Index i = 0; i < K; ++i) {
        for (Index j = 0; j < K; ++j) {
          T* tap = dst + (i * K + j) * ld;
          const T* src = buf + ((i % 2) * 2 + j % 2) * Hh * Wh + (i / 2) * Wh + j / 2;
          for (Index oh = 0; oh < OH; ++oh) {
            const T* from = src + oh * Wh;
            T* to = tap + oh * ow_n;
            for (Index ow = 0; ow < ow_n; ++ow) to[ow] = from[ow];
          }
        }
      }
    });
    return;
  }
  copy_to_padded(plane, H, Wd, pad, buf);
  with_stride(s.stride, [&](auto stride_tag) {
    constexpr Index fixed = decltype(stride_tag)::value;  ///< 0: not fixed at compile time
    const Index stride = fixed ? fixed : s.stride;
    for (Index i = 0; i < K; ++i) {
      for (Index j = 0; j < K; ++j) {
        T* tap = dst + (i * K + j) * ld;
        for (Index oh = 0; oh < OH; ++oh) {
          const T* src = buf + (oh * stride + i) * Wp + j;
          T* d = tap + oh * OW;
          for (Index ow = 0; ow < OW; ++ow) d[ow] = src[ow * stride];
        }
      }
    }
  });
}

}  // namespace detail

/// col[(c k + i) k + j, n OH OW + oh OW + ow] = x[n, c, oh s - p + i, ow s - p + j], zero where
/// the patch hangs over the padding. x: batch x C*H*W; col: C*k*k x batch*OH*OW. Each plane
/// (c, n) is first copied into a zero-bordered buffer, so that the k*k gathers need no bounds.
template <class T>
void im2col(const T* x, Index batch, const ConvShape& s, T* col) {
  const Index K = s.kernel, P = s.out_positions(), ld = batch * P, C = s.channels;
  const Index plane_size = s.height * s.width, buf_size = detail::im2col_buffer_size(s);
  const Index grain = std::max<Index>(1, 2 * detail::cheap_grain / (K * K * P));
  aigc::kernels::parallel_for(C * batch, grain, [&](Index p0, Index p1) {
    T* buf = detail::padded_plane<T>(buf_size);
    std::fill(buf, buf + buf_size, T(0));  // the border stays zero
    for (Index p = p0; p < p1; ++p) {      // plane p = (c, n): adjacent columns of col
      const Index c = p / batch, n = p % batch;
      detail::im2col_plane(x + n * s.image_size() + c * plane_size, s, buf,
                           col + c * K * K * ld + n * P, ld);
    }
  });
}

/// im2col of channels [c0, c1) of images [n0, n0 + n) on the calling thread: col rows
/// ((c - c0) k + i) k + j, columns m OH OW + oh OW + ow for image n0 + m (col: (c1 - c0) k k x
/// n OH OW). The chunked products (im2col_gemm.hpp) gather one chunk at a time this way.
template <class T>
void im2col_part(const T* x, Index n0, Index n, Index c0, Index c1, const ConvShape& s, T* col) {
  const Index K = s.kernel, P = s.out_positions(), ld = n * P;
  const Index plane_size = s.height * s.width, buf_size = detail::im2col_buffer_size(s);
  T* buf = detail::padded_plane<T>(buf_size);
  std::fill(buf, buf + buf_size, T(0));
  for (Index c = c0; c < c1; ++c) {
    for (Index m = 0; m < n; ++m) {
      detail::im2col_plane(x + (n0 + m) * s.image_size() + c * plane_size, s, buf,
                           col + (c - c0) * K * K * ld + m * P, ld);
    }
  }
}

/// col^T of channels [c0, c1) of images [n0, n0 + n) on the calling thread: row m OH OW + oh OW +
/// ow (image n0 + m) holds the (c1 - c0) k k values of im2col_part's column of that position, in
/// the same order (row: n OH OW x (c1 - c0) k k). Each image's channels are first copied into a
/// zero-bordered buffer, so that a position's values are (c1 - c0) k contiguous runs of k values
/// (for the DCGANs' kernel 4, one 16-byte copy each); the rows are written in order. The chunked
/// weight gradient multiplies dZ by these rows as they are: the GEMM packs them by rows, with no
/// transposing pack.
template <class T>
void im2row_part(const T* x, Index n0, Index n, Index c0, Index c1, const ConvShape& s, T* row) {
  const Index H = s.height, Wd = s.width, pad = s.padding, Hp = H + 2 * pad, Wp = Wd + 2 * pad;
  const Index OH = s.out_height(), OW = s.out_width(), stride = s.stride, plane = Hp * Wp;
  const Index channels = c1 - c0, G = channels * s.kernel * s.kernel;
  T* buf = detail::padded_plane<T>(channels * plane);
  std::fill(buf, buf + channels * plane, T(0));  // the border stays zero
  detail::with_constant<4>(s.kernel, [&](auto kernel_tag) {
    constexpr Index fixed = decltype(kernel_tag)::value;  ///< 0: not fixed at compile time
    const Index K = fixed ? fixed : s.kernel;
    for (Index m = 0; m < n; ++m) {
      const T* image = x + (n0 + m) * s.image_size() + c0 * H * Wd;
      for (Index c = 0; c < channels; ++c) {
        detail::copy_to_padded(image + c * H * Wd, H, Wd, pad, buf + c * plane);
      }
      T* d = row + m * OH * OW * G;
      for (Index oh = 0; oh < OH; ++oh) {
        for (Index ow = 0; ow < OW; ++ow) {
          const T* src = buf + oh * stride * Wp + ow * stride;
          for (Index c = 0; c < channels; ++c) {
            for (Index i = 0; i < K; ++i, d += K) {
              const T* from = src + c * plane + i * Wp;
              for (Index j = 0; j < K; ++j) d[j] = from[j];
            }
          }
        }
      }
    }
  });
}

/// x[n, c, :] = act(x[n, c, :] + bias[c]) over images of C planes of `plane_size` values (bias
/// may be null: an offset of zero), as col2im applies them to the planes it sums.
template <class T, class A = simd_arch>
void plane_bias_activation(T* x, Index batch, Index C, Index plane_size, const T* bias,
                           Activation act, T slope) {
  const Index grain = std::max<Index>(1, detail::cheap_grain / std::max<Index>(1, plane_size));
  aigc::kernels::parallel_for(batch * C, grain, [&](Index p0, Index p1) {
    for (Index p = p0; p < p1; ++p) {
      detail::offset_activation<T, A>(x + p * plane_size, plane_size, bias ? bias[p % C] : T(0),
                                      act, slope);
    }
  });
}

/// x[n, c, h, w] = act(sum of the col entries im2col would have read from (n, c, h, w) +
/// bias[c]) (the adjoint of im2col, then the bias and activation; bias may be null). With
/// accumulate, the sums are added to x (before the bias and activation). Each plane is summed
/// in a zero-bordered buffer, rows of col in (i, j) order, whatever the threads.
template <class T, class A = simd_arch>
void col2im(const T* col, Index batch, const ConvShape& s, T* x, bool accumulate = false,
            const T* bias = nullptr, Activation act = Activation::identity, T slope = T(0)) {
  const Index K = s.kernel, OH = s.out_height(), OW = s.out_width(), H = s.height, Wd = s.width;
  const Index pad = s.padding, Hp = H + 2 * pad, Wp = Wd + 2 * pad, P = OH * OW;
  const Index ld = batch * P, C = s.channels, plane_size = H * Wd;
  const Index grain = std::max<Index>(1, 2 * detail::cheap_grain / (K * K * P));
  if (K == 4 && s.stride == 2 && pad == 1) {  // DCGAN's up- and down-sampling layers
    aigc::kernels::parallel_for(batch * C, grain, [&](Index p0, Index p1) {
      T* halves = detail::padded_plane<T>(Wd + 1);
      for (Index p = p0; p < p1; ++p) {
        const Index n = p / C, c = p % C;
        T* plane = x + p * plane_size;
        detail::col2im_plane_k4s2p1<T, A>(col + c * K * K * ld + n * P, ld, s, plane, accumulate,
                                          halves);
        if (bias || act != Activation::identity) {
          detail::offset_activation<T, A>(plane, plane_size, bias ? bias[c] : T(0), act, slope);
        }
      }
    });
    return;
  }
  detail::with_stride(s.stride, [&](auto stride_tag) {
    constexpr Index fixed = decltype(stride_tag)::value;
    const Index stride = fixed ? fixed : s.stride;
    aigc::kernels::parallel_for(batch * C, grain, [&](Index p0, Index p1) {
      T* padded = detail::padded_plane<T>(Hp * Wp);
      for (Index p = p0; p < p1; ++p) {  // plane p = (n, c)
        const Index n = p / C, c = p % C;
        std::fill(padded, padded + Hp * Wp, T(0));
        for (Index i = 0; i < K; ++i) {
          for (Index j = 0; j < K; ++j) {
            const T* src = col + ((c * K + i) * K + j) * ld + n * P;
            for (Index oh = 0; oh < OH; ++oh) {
              T* d = padded + (oh * stride + i) * Wp + j;
              const T* r = src + oh * OW;
              for (Index ow = 0; ow < OW; ++ow) d[ow * stride] += r[ow];
            }
          }
        }
        T* plane = x + p * plane_size;
        for (Index h = 0; h < H; ++h) {
          const T* from = padded + (h + pad) * Wp + pad;
          T* to = plane + h * Wd;
          if (accumulate) {
            for (Index w = 0; w < Wd; ++w) to[w] += from[w];
          } else {
            for (Index w = 0; w < Wd; ++w) to[w] = from[w];
          }
        }
        if (bias || act != Activation::identity) {
          detail::offset_activation<T, A>(plane, plane_size, bias ? bias[c] : T(0), act, slope);
        }
      }
    });
  });
}

/// dst[c, r] = src[r, c] for a rows x cols src (dst: cols x rows), in 32 x 32 blocks, threads
/// split the rows of dst. The GEMM reads a transposed weight this way as a plain row-major
/// operand: its strided (transposed) operand walks rows thousands of floats apart, which
/// conflict in the L1 cache.
template <class T>
void transpose(const T* src, Index rows, Index cols, T* dst) {
  constexpr Index B = 32;
  const Index grain = std::max<Index>(B, 4 * detail::cheap_grain / std::max<Index>(1, rows));
  aigc::kernels::parallel_for_aligned(cols, B, grain, [&](Index c0, Index c1) {
    for (Index cb = c0; cb < c1; cb += B) {
      const Index ce = std::min(c1, cb + B);
      for (Index rb = 0; rb < rows; rb += B) {
        const Index re = std::min(rows, rb + B);
        for (Index c = cb; c < ce; ++c) {
          for (Index r = rb; r < re; ++r) dst[c * rows + r] = src[r * cols + c];
        }
      }
    }
  });
}

/// out[c, n S + s] = x[n, c S + s]: NCHW images (batch x C*S) to the channel-major C x batch*S.
template <class T>
void to_channel_major(const T* x, Index batch, Index C, Index S, T* out) {
  const Index grain = std::max<Index>(1, 4 * detail::cheap_grain / S);
  aigc::kernels::parallel_for(batch * C, grain, [&](Index p0, Index p1) {
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
    aigc::kernels::parallel_for(batch * C, grain, [&](Index p0, Index p1) {
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
  aigc::kernels::parallel_for(batch * C, grain, [&](Index p0, Index p1) {
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
  aigc::kernels::parallel_for(C, grain, [&](Index c0, Index c1) {
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
