/// @file
/// aigc: the GEMM followed by col2im (a transposed convolution's forward, a convolution's dX),
/// a few images at a time so that the columns the GEMM writes are still in cache when col2im
/// reads them, instead of a whole batch's columns making a trip through memory.
#pragma once

#include <algorithm>
#include <numeric>
#include <type_traits>
#include <utility>

#include "aigc/kernels/gemm.hpp"
#include "aigc/kernels/gemm_bf16.hpp"
#include "aigc/kernels/im2col.hpp"
#include "aigc/kernels/partition.hpp"
#include "aigc/kernels/scratch.hpp"

namespace aigc::kernels {

namespace detail {

/// Images per chunk of gemm_col2im and im2col_gemm: columns of about 1 MB (a core's L2), but at
/// least 64 GEMM columns, in whole units of images whose columns fill the micro-kernel's panels
/// of `panel` columns (3 images of 16, 64 or 256 positions for 48-column panels), then evened out
/// so that every thread gets as many chunks. Measured on the 64x64 DCGAN's layers, 2 threads: its
/// (4096, 16 per image, 512) product took 31.8 ms at 16 images (a 4 MB col), 27.1 ms at 4 images
/// (1 MB; 64 columns: a panel and a third, the third's tiles a third as wide). When no unit of at
/// most 2 MB fills the panels (the 28x28 DCGAN's 49 and 196 positions), single images, about 2 MB
/// and at least 256 columns: the 28x28 models' chunks as before (with 1 MB their epoch looked
/// about 3% slower on 2 threads, within the noise of the VM it was measured on).
inline Index col2im_chunk_images(Index patch, Index positions, Index batch, Index value_bytes,
                                 Index panel) {
  const Index per_image = std::max<Index>(1, patch * positions * value_bytes);
  Index unit = panel / std::gcd(panel, std::max<Index>(1, positions));
  if (unit * per_image > (Index{2} << 20)) unit = 1;
  const Index target = unit > 1 ? Index{1} << 20 : Index{2} << 20;
  const Index min_columns = unit > 1 ? 64 : 256;
  const Index by_cache = target / per_image;
  const Index by_width = (min_columns + positions - 1) / positions;
  const Index wanted = std::max<Index>(unit, std::max(by_cache, by_width) / unit * unit);
  const Index chunk = std::clamp<Index>(wanted, 1, std::max<Index>(1, batch));
  const Index threads = num_threads(), chunks = (batch + chunk - 1) / chunk;
  const Index rounds = (chunks + threads - 1) / threads;
  const Index even = (batch + rounds * threads - 1) / (rounds * threads);
  return std::max<Index>(1, (even + unit - 1) / unit * unit);
}

}  // namespace detail

/// C = A B for one A (M x K, rows k-contiguous) and B after B (K x N, row-major, ldb), C M x N
/// contiguous: gemm, or with bf16 products gemm_bf16 with A packed once (Bf16PackedA), here.
/// The products of a layer's weight with chunk after chunk of images.
template <class T, class A = simd_arch>
class BatchedProductA {
 public:
  /// The products in `precision` of A (M x K, leading dimension lda): packed here once for bf16
  /// products, read in place for FP32 ones (so it must outlive them).
  BatchedProductA(Precision precision, Index M, Index K, const T* a, Index lda)
      : precision_(precision), M_(M), K_(K), a_(a), lda_(lda) {
    if constexpr (std::is_same_v<T, float>) {
      if (packed()) {
        thread_local Bf16PackedA<T> calling_thread_packed;  // one product at a time per thread
        packed_ = &calling_thread_packed;
        packed_->pack(Trans::no, M, K, a, lda);
      }
    }
  }
  /// C = A B (B K x N with leading dimension ldb).
  void operator()(Index N, const T* b, Index ldb, T* c) const {
    if constexpr (std::is_same_v<T, float>) {
      if (packed()) {
        gemm_bf16_packed(*packed_, Trans::no, N, T(1), b, ldb, T(0), c, N);
        return;
      }
    }
    gemm<T, A>(Trans::no, Trans::no, M_, N, K_, T(1), a_, lda_, b, ldb, T(0), c, N);
  }

 private:
  bool packed() const { return has_bf16_products && precision_ == Precision::bf16; }
  Precision precision_;
  Index M_, K_;
  const T* a_;
  Index lda_;
  Bf16PackedA<T>* packed_ = nullptr;  ///< A packed by the constructor's thread (bf16 products)
};

namespace detail {

/// gemm_col2im over chunks of images; operand(n0, n) gives B's columns of images [n0, n0 + n)
/// as a pointer and a leading dimension.
template <class T, class A, class Operand>
void gemm_col2im_chunks(const T* a, Index K, Index batch, const ConvShape& s, T* x, const T* bias,
                        Activation act, T slope, Precision precision, Operand&& operand) {
  const Index patch = s.patch_size(), P = s.out_positions();
  const Index chunk =
      col2im_chunk_images(patch, P, batch, static_cast<Index>(sizeof(T)), GemmBlocking<T, A>::NR);
  const Index chunks = (batch + chunk - 1) / chunk;
  const BatchedProductA<T, A> product(precision, patch, K, a, K);
  aigc::kernels::parallel_for_balanced(chunks, [&](Index q0, Index q1) {
    T* col = aigc::kernels::scratch(3).get<T>(static_cast<std::size_t>(patch * chunk * P));
    for (Index q = q0; q < q1; ++q) {  // the kernels below run on this part's thread alone
      const Index n0 = q * chunk, n = std::min(chunk, batch - n0);
      const auto [b, ldb] = operand(n0, n);
      product(n * P, b, ldb, col);
      col2im<T, A>(col, n, s, x + n0 * s.image_size(), false, bias, act, slope);
    }
  });
}

}  // namespace detail

/// x = act(col2im(A B) + bias) (bias may be null), A patch x K with patch = s.patch_size(), B
/// K x batch*P with P = s.out_positions() (both row-major, contiguous), x batch x s.image_size():
/// gemm then col2im, computed chunk of images by chunk of images, each chunk's columns in the
/// running part's scratch. Each image's values are bitwise those of the whole batch's gemm then
/// col2im (the GEMM's result does not depend on how its columns are split), for any thread count.
template <class T, class A = simd_arch>
void gemm_col2im(const T* a, Index K, const T* b, Index batch, const ConvShape& s, T* x,
                 const T* bias = nullptr, Activation act = Activation::identity, T slope = T(0),
                 Precision precision = Precision::fp32) {
  const Index ldb = batch * s.out_positions();
  detail::gemm_col2im_chunks<T, A>(
      a, K, batch, s, x, bias, act, slope, precision,
      [&](Index n0, Index) { return std::pair<const T*, Index>(b + n0 * s.out_positions(), ldb); });
}

/// gemm_col2im with B given as images, batch x K*P (B's columns are images' pixels, its rows
/// their K channels): each chunk of images is moved to the channel-major layout in the running
/// part's scratch (an image alone is read in place), with bitwise the same results.
template <class T, class A = simd_arch>
void gemm_col2im_images(const T* a, Index K, const T* images, Index batch, const ConvShape& s, T* x,
                        const T* bias = nullptr, Activation act = Activation::identity,
                        T slope = T(0), Precision precision = Precision::fp32) {
  const Index P = s.out_positions();
  detail::gemm_col2im_chunks<T, A>(
      a, K, batch, s, x, bias, act, slope, precision, [&](Index n0, Index n) {
        const T* first = images + n0 * K * P;
        if (n == 1) return std::pair<const T*, Index>(first, P);
        T* cm = aigc::kernels::scratch(4).get<T>(static_cast<std::size_t>(K * n * P));
        to_channel_major(first, n, K, P, cm);
        return std::pair<const T*, Index>(cm, n * P);
      });
}

}  // namespace aigc::kernels
