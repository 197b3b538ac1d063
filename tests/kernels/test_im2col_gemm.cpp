#include <aigc/kernels/im2col_gemm.hpp>
#include <aigc/kernels/threads.hpp>
#include <catch2/catch.hpp>
#include <vector>

#include "support/random.hpp"

using namespace aigc;
using aigc::test::random_vector;
using kernels::ConvShape;

namespace {

const ConvShape chunked_shapes[] = {{3, 8, 8, 4, 2, 1},   {2, 7, 9, 3, 2, 1},   {5, 4, 4, 4, 1, 0},
                                    {1, 17, 13, 5, 3, 2}, {4, 34, 34, 4, 2, 1}, {3, 9, 6, 2, 2, 0}};

// dW = dZ im2col(x)^T by the definition, summed in double.
std::vector<double> naive_weight_grad(const std::vector<float>& dz, Index out,
                                      const std::vector<float>& x, Index batch,
                                      const ConvShape& s) {
  const Index OH = s.out_height(), OW = s.out_width(), k = s.kernel, P = OH * OW;
  const Index patch = s.patch_size(), cols = batch * P;
  std::vector<double> dw(static_cast<std::size_t>(out * patch), 0.0);
  for (Index o = 0; o < out; ++o)
    for (Index c = 0; c < s.channels; ++c)
      for (Index i = 0; i < k; ++i)
        for (Index j = 0; j < k; ++j)
          for (Index n = 0; n < batch; ++n)
            for (Index oh = 0; oh < OH; ++oh)
              for (Index ow = 0; ow < OW; ++ow) {
                const Index h = oh * s.stride - s.padding + i, w = ow * s.stride - s.padding + j;
                if (h < 0 || h >= s.height || w < 0 || w >= s.width) continue;
                dw[static_cast<std::size_t>(o * patch + (c * k + i) * k + j)] +=
                    static_cast<double>(
                        dz[static_cast<std::size_t>(o * cols + n * P + oh * OW + ow)]) *
                    x[static_cast<std::size_t>(n * s.image_size() + (c * s.height + h) * s.width +
                                               w)];
              }
  return dw;
}

}  // namespace

TEST_CASE(
    "im2col_gemm equals im2col, gemm and from_channel_major bitwise, for any thread count, in "
    "FP32 and with bf16 products",
    "[im2col_gemm][kernels]") {
  for (const Precision precision : {Precision::fp32, Precision::bf16}) {
    for (const ConvShape& s : chunked_shapes) {
      for (Index out : {1, 9, 40}) {
        for (Index batch : {1, 6, 19}) {
          INFO("shape " << s.to_string() << " out " << out << " batch " << batch);
          const Index patch = s.patch_size(), P = s.out_positions(), cols = batch * P;
          const auto w = random_vector<float>(out * patch, 1);
          const auto x = random_vector<float>(batch * s.image_size(), 2);
          const auto bias = random_vector<float>(out, 3);
          std::vector<float> col(static_cast<std::size_t>(patch * cols));
          std::vector<float> ycm(static_cast<std::size_t>(out * cols));
          std::vector<float> whole(static_cast<std::size_t>(batch * out * P));
          kernels::im2col(x.data(), batch, s, col.data());
          kernels::gemm_in(precision, kernels::Trans::no, kernels::Trans::no, out, cols, patch,
                           1.0f, w.data(), patch, col.data(), cols, 0.0f, ycm.data(), cols);
          kernels::from_channel_major(ycm.data(), batch, out, P, whole.data(), bias.data(),
                                      Activation::leaky_relu, 0.2f);
          for (int threads : {1, 2, 3}) {
            set_num_threads(threads);
            std::vector<float> y(whole.size(), 7.0f);
            kernels::im2col_gemm(w.data(), out, x.data(), batch, s, y.data(), bias.data(),
                                 Activation::leaky_relu, 0.2f, precision);
            CHECK(y == whole);
          }
          set_num_threads(0);
        }
      }
    }
  }
}

TEST_CASE("im2row_part is im2col_part transposed", "[im2col_gemm][kernels]") {
  for (const ConvShape& s : chunked_shapes) {
    const Index batch = 5, n0 = 1, n = 3, P = s.out_positions();
    const auto x = random_vector<float>(batch * s.image_size(), 7);
    for (const auto& [c0, c1] :
         {std::pair<Index, Index>{0, s.channels}, {s.channels / 2, s.channels}}) {
      INFO("shape " << s.to_string() << " channels " << c0 << " to " << c1);
      const Index rows = (c1 - c0) * s.kernel * s.kernel, cols = n * P;
      std::vector<float> col(rows * cols), row(cols * rows, 7.0f);
      kernels::im2col_part(x.data(), n0, n, c0, c1, s, col.data());
      kernels::im2row_part(x.data(), n0, n, c0, c1, s, row.data());
      bool same = true;
      for (Index r = 0; r < rows; ++r) {
        for (Index j = 0; j < cols; ++j) same = same && row[j * rows + r] == col[r * cols + j];
      }
      CHECK(same);
    }
  }
}

TEST_CASE("im2col_weight_grad matches the definition and is bitwise the same for any thread count",
          "[im2col_gemm][kernels]") {
  for (const ConvShape& s : chunked_shapes) {
    for (Index out : {1, 9, 40}) {
      for (Index batch : {1, 6, 19}) {
        INFO("shape " << s.to_string() << " out " << out << " batch " << batch);
        const Index patch = s.patch_size(), cols = batch * s.out_positions();
        const auto dz = random_vector<float>(out * cols, 4);
        const auto x = random_vector<float>(batch * s.image_size(), 5);
        const auto before = random_vector<float>(out * patch, 6);
        const auto ref = naive_weight_grad(dz, out, x, batch, s);
        std::vector<float> first;
        for (int threads : {1, 2, 3}) {
          set_num_threads(threads);
          for (float beta : {0.0f, 1.0f}) {
            std::vector<float> dw = before;
            kernels::im2col_weight_grad(dz.data(), out, x.data(), batch, s, beta, dw.data());
            for (std::size_t e = 0; e < dw.size(); ++e) {
              REQUIRE(dw[e] == Approx(ref[e] + beta * before[e]).epsilon(1e-4).margin(1e-4));
            }
            if (beta == 1.0f) {
              if (first.empty()) first = dw;
              CHECK(dw == first);
            }
          }
        }
        set_num_threads(0);
      }
    }
  }
}

TEST_CASE("The chunked products are taken for the 64x64 DCGAN's large im2col matrices only",
          "[im2col_gemm][kernels]") {
  const auto chunked = [](Index in, Index size, Index batch) {
    const ConvShape s{in, size, size, 4, 2, 1};
    return kernels::im2col_chunked(s.patch_size(), batch * s.out_positions(), 4);
  };
  CHECK(!chunked(3, 64, 128));  // the 64x64 discriminator's first layer: 48 rows
  CHECK(chunked(64, 32, 128));  // its second: col 134 MB
  CHECK(chunked(256, 8, 128));  // its fourth: col 34 MB
  CHECK(!chunked(256, 8, 32));  // the same at batch 32: 8.4 MB
  CHECK(!chunked(1, 28, 64));   // the 28x28 discriminator's layers at batch 64
  CHECK(!chunked(64, 14, 64));
}
