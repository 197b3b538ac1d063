/// @file
/// aigc: the products of a convolution with its im2col matrix, computed chunk of images by chunk
/// of images so that the matrix never goes through memory. A batch's col is C k k values per
/// output position: 134 MB for the 64x64 DCGAN's second layer at batch 128, written by im2col,
/// then read back by the GEMM (and again by the weight gradient), where each chunk's col here is
/// gathered into the running part's cache and used there.
#pragma once

#include <algorithm>

#include "aigc/core/tensor.hpp"
#include "aigc/kernels/gemm.hpp"
#include "aigc/kernels/gemm_bf16.hpp"
#include "aigc/kernels/gemm_col2im.hpp"
#include "aigc/kernels/im2col.hpp"
#include "aigc/kernels/partition.hpp"
#include "aigc/kernels/scratch.hpp"

namespace aigc::kernels {

/// Whether a forward product may go through im2col_gemm: when the batch's col (`patch` x `cols`)
/// has at least 16 MB (half the last-level cache here). Whether it should depends on what follows:
/// no weight gradient at all, im2col_weight_grad, or one that gathers the whole col again, cheaply
/// for a narrow col (Conv2d::forward).
inline bool im2col_chunked_forward(Index patch, Index cols, Index value_bytes) {
  return patch * cols * value_bytes >= (Index{16} << 20);
}

/// Whether a convolution's products, its weight gradient included, go through the chunked kernels
/// below: when the batch's col has at least 16 MB and at least 128 rows (fewer make the chunks'
/// weight-gradient GEMMs too narrow: such a dW = dZ col^T is a small output over a long depth,
/// which gemm computes as dot products). The 64x64 DCGAN's second, third and fourth layers (cols
/// of 134, 67 and 34 MB at batch 128; the third and fourth went through their whole cols until
/// the transposed gathers of im2col_weight_grad made the chunked dW as fast: the GAN's step on 2
/// threads, both changes, 2.5-3.8% faster, measured in turns within one process); no layer of the
/// 28x28 models at batch 64.
inline bool im2col_chunked(Index patch, Index cols, Index value_bytes) {
  return patch >= 128 && im2col_chunked_forward(patch, cols, value_bytes);
}

namespace detail {

/// Input channels per group of the chunked weight gradient: the channels split into two groups
/// (one per core here), a fixed split that does not depend on the thread count.
inline Index weight_grad_group_channels(Index channels) { return (channels + 1) / 2; }

/// Images per chunk of the chunked weight gradient: a group's col of about 2 MB, but at least 256
/// columns. Fixed by the shape alone, since the chunks set the order of dW's sums. Each chunk
/// reads and writes the group's block of dW once, so a longer depth makes that cost less: on the
/// 64x64 DCGAN's three layers, 2 threads, with col rows, 2 MB took 22-26 ms where 1 MB took 24-28
/// ms, and 4 MB no less than 2; with the transposed rows of im2col_weight_grad, 1 and 2 MB are
/// within the noise of each other (20-24 ms; measured in turns, 15 rounds).
inline Index weight_grad_chunk_images(Index group_rows, Index positions, Index batch,
                                      Index value_bytes) {
  const Index per_image = std::max<Index>(1, group_rows * positions * value_bytes);
  const Index by_cache = (Index{2} << 20) / per_image;
  const Index by_width = (256 + positions - 1) / positions;
  return std::clamp<Index>(std::max(by_cache, by_width), 1, std::max<Index>(1, batch));
}

}  // namespace detail

/// y = act(W im2col(x) + bias) in NCHW: W out x patch (patch = s.patch_size()), x batch x
/// s.image_size(), y batch x out*P (P = s.out_positions()), bias per output channel (may be
/// null). Each part gathers a chunk of images' col into its scratch (slot 3), multiplies it into
/// a channel-major block (slot 4) and moves that into y, all in its cache. Bitwise the same as
/// im2col, gemm and from_channel_major over the whole batch (the GEMM's result does not depend on
/// how its columns are split), for any thread count. With bf16 products, W is packed once for all
/// the chunks.
template <class T, class A = simd_arch>
void im2col_gemm(const T* w, Index out, const T* x, Index batch, const ConvShape& s, T* y,
                 const T* bias = nullptr, Activation act = Activation::identity, T slope = T(0),
                 Precision precision = Precision::fp32) {
  const Index patch = s.patch_size(), P = s.out_positions();
  const Index chunk = detail::col2im_chunk_images(patch, P, batch, static_cast<Index>(sizeof(T)),
                                                  detail::GemmBlocking<T, A>::NR);
  const Index chunks = (batch + chunk - 1) / chunk;
  const BatchedProductA<T, A> product(precision, out, patch, w, patch);
  aigc::kernels::parallel_for_balanced(chunks, [&](Index q0, Index q1) {
    T* col = aigc::kernels::scratch(3).get<T>(static_cast<std::size_t>(patch * chunk * P));
    T* ycm = aigc::kernels::scratch(4).get<T>(static_cast<std::size_t>(out * chunk * P));
    for (Index q = q0; q < q1; ++q) {  // the kernels below run on this part's thread alone
      const Index n0 = q * chunk, n = std::min(chunk, batch - n0);
      im2col_part(x, n0, n, 0, s.channels, s, col);
      product(n * P, col, n * P, ycm);
      from_channel_major<T, A>(ycm, n, out, P, y + n0 * out * P, bias, act, slope);
    }
  });
}

/// dW = beta dW + dZ im2col(x)^T: dZ out x batch*P (channel-major), x batch x s.image_size(), dW
/// out x patch. The input channels form two fixed groups (dW's column blocks); whichever part
/// takes a group sums its block over chunks of images in order (weight_grad_chunk_images),
/// gathering each chunk's col rows transposed (im2row_part: a GEMM with no transposing pack; on
/// the 64x64 DCGAN's third and fourth layers, 2 threads, 1-2 ms faster than col rows, measured in
/// turns). The chunks and groups depend on the shape alone, so the result is bitwise the same for
/// any thread count, though its sums are not ordered as one GEMM over the whole batch would order
/// them.
template <class T, class A = simd_arch>
void im2col_weight_grad(const T* dz, Index out, const T* x, Index batch, const ConvShape& s, T beta,
                        T* dw, Precision precision = Precision::fp32) {
  const Index KK = s.kernel * s.kernel, patch = s.patch_size(), P = s.out_positions();
  const Index cols = batch * P, C = s.channels;
  const Index group = detail::weight_grad_group_channels(C), groups = (C + group - 1) / group;
  const Index chunk =
      detail::weight_grad_chunk_images(group * KK, P, batch, static_cast<Index>(sizeof(T)));
  aigc::kernels::parallel_for(groups, 1, [&](Index g0, Index g1) {
    T* rows = aigc::kernels::scratch(3).get<T>(static_cast<std::size_t>(group * KK * chunk * P));
    for (Index g = g0; g < g1; ++g) {  // a group's chunks in order, with no wait between them
      const Index c0 = g * group, c1 = std::min(C, c0 + group);
      for (Index n0 = 0; n0 < batch; n0 += chunk) {
        const Index n = std::min(chunk, batch - n0);
        im2row_part(x, n0, n, c0, c1, s, rows);
        gemm_in<T, A>(precision, Trans::no, Trans::no, out, (c1 - c0) * KK, n * P, T(1),
                      dz + n0 * P, cols, rows, (c1 - c0) * KK, n0 == 0 ? beta : T(1), dw + c0 * KK,
                      patch);
      }
    }
  });
}

}  // namespace aigc::kernels
