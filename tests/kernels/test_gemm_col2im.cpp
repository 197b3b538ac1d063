#include <aigc/kernels/gemm_col2im.hpp>
#include <aigc/kernels/threads.hpp>
#include <catch2/catch.hpp>
#include <vector>

#include "support/random.hpp"

using namespace aigc;
using aigc::test::random_vector;
using kernels::ConvShape;

namespace {

// x = act(col2im(A B) + bias) by the naive definition: each col entry a dot product over k in
// order, scattered onto its pixel, then the bias and the activation.
template <class T>
std::vector<T> naive_gemm_col2im(const std::vector<T>& a, Index K, const std::vector<T>& b,
                                 Index batch, const ConvShape& s, const std::vector<T>& bias) {
  const Index OH = s.out_height(), OW = s.out_width(), k = s.kernel, P = OH * OW, ld = batch * P;
  std::vector<double> x(static_cast<std::size_t>(batch * s.image_size()), 0.0);
  for (Index c = 0; c < s.channels; ++c)
    for (Index i = 0; i < k; ++i)
      for (Index j = 0; j < k; ++j)
        for (Index n = 0; n < batch; ++n)
          for (Index oh = 0; oh < OH; ++oh)
            for (Index ow = 0; ow < OW; ++ow) {
              const Index h = oh * s.stride - s.padding + i, w = ow * s.stride - s.padding + j;
              if (h < 0 || h >= s.height || w < 0 || w >= s.width) continue;
              const Index row = (c * k + i) * k + j, col = n * P + oh * OW + ow;
              double dot = 0.0;
              for (Index q = 0; q < K; ++q) {
                dot += static_cast<double>(a[static_cast<std::size_t>(row * K + q)]) *
                       b[static_cast<std::size_t>(q * ld + col)];
              }
              x[static_cast<std::size_t>(n * s.image_size() + (c * s.height + h) * s.width + w)] +=
                  dot;
            }
  std::vector<T> out(x.size());
  const Index plane = s.height * s.width;
  for (std::size_t e = 0; e < x.size(); ++e) {
    const double z =
        x[e] + bias[static_cast<std::size_t>(static_cast<Index>(e) / plane % s.channels)];
    out[e] = static_cast<T>(z > 0 ? z : 0.2 * z);
  }
  return out;
}

}  // namespace

TEST_CASE(
    "gemm_col2im matches a naive loop and gemm then col2im bitwise, for any thread count, in "
    "FP32 and with bf16 products",
    "[gemm_col2im][kernels]") {
  for (const Precision precision : {Precision::fp32, Precision::bf16}) {
    const ConvShape shapes[] = {{3, 8, 8, 4, 2, 1},
                                {2, 7, 9, 3, 2, 1},
                                {5, 4, 4, 4, 1, 0},
                                {1, 17, 13, 5, 3, 2},
                                {4, 34, 34, 4, 2, 1}};
    for (const ConvShape& s : shapes) {
      for (Index K : {1, 7, 33}) {
        for (Index batch : {1, 5, 17}) {
          INFO("shape " << s.to_string() << " K " << K << " batch " << batch);
          const Index patch = s.patch_size(), cols = batch * s.out_positions();
          const auto a = random_vector<float>(patch * K, 1);
          const auto b = random_vector<float>(K * cols, 2);
          const auto bias = random_vector<float>(s.channels, 3);
          const auto ref = naive_gemm_col2im(a, K, b, batch, s, bias);

          // the unchunked reference: one GEMM over the batch, then col2im
          std::vector<float> col(static_cast<std::size_t>(patch * cols));
          kernels::gemm_in(precision, kernels::Trans::no, kernels::Trans::no, patch, cols, K, 1.0f,
                           a.data(), K, b.data(), cols, 0.0f, col.data(), cols);
          std::vector<float> whole(ref.size());
          kernels::col2im(col.data(), batch, s, whole.data(), false, bias.data(),
                          Activation::leaky_relu, 0.2f);
          if (precision == Precision::fp32 || !kernels::has_bf16_products) {
            for (std::size_t e = 0; e < ref.size(); ++e) {
              REQUIRE(whole[e] == Approx(ref[e]).epsilon(1e-4).margin(1e-5));
            }
          }
          for (int threads : {1, 2, 3}) {
            set_num_threads(threads);
            std::vector<float> x(ref.size(), 7.0f);
            kernels::gemm_col2im(a.data(), K, b.data(), batch, s, x.data(), bias.data(),
                                 Activation::leaky_relu, 0.2f, precision);
            CHECK(x == whole);
          }
          set_num_threads(0);
        }
      }
    }
  }
}
