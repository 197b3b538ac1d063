#include <aigc/core/rng.hpp>
#include <aigc/kernels/im2col.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "support/random.hpp"

using namespace aigc;
using aigc::test::random_vector;
using kernels::ConvShape;

namespace {

// The input pixel a patch entry reads, or -1 over the padding.
Index source_index(const ConvShape& s, Index n, Index c, Index i, Index j, Index oh, Index ow) {
  const Index h = oh * s.stride - s.padding + i, w = ow * s.stride - s.padding + j;
  if (h < 0 || h >= s.height || w < 0 || w >= s.width) return -1;
  return n * s.image_size() + (c * s.height + h) * s.width + w;
}

// col by the definition, one entry at a time.
template <class T>
std::vector<T> naive_im2col(const std::vector<T>& x, Index batch, const ConvShape& s) {
  const Index OH = s.out_height(), OW = s.out_width(), K = s.kernel, ld = batch * OH * OW;
  std::vector<T> col(static_cast<std::size_t>(s.patch_size() * ld));
  for (Index c = 0; c < s.channels; ++c)
    for (Index i = 0; i < K; ++i)
      for (Index j = 0; j < K; ++j)
        for (Index n = 0; n < batch; ++n)
          for (Index oh = 0; oh < OH; ++oh)
            for (Index ow = 0; ow < OW; ++ow) {
              const Index src = source_index(s, n, c, i, j, oh, ow);
              col[static_cast<std::size_t>(((c * K + i) * K + j) * ld + n * OH * OW + oh * OW +
                                           ow)] = src < 0 ? T(0) : x[static_cast<std::size_t>(src)];
            }
  return col;
}

// The adjoint of im2col by scattering every col entry onto its pixel.
template <class T>
std::vector<T> naive_col2im(const std::vector<T>& col, Index batch, const ConvShape& s) {
  const Index OH = s.out_height(), OW = s.out_width(), K = s.kernel, ld = batch * OH * OW;
  std::vector<T> x(static_cast<std::size_t>(batch * s.image_size()), T(0));
  for (Index c = 0; c < s.channels; ++c)
    for (Index i = 0; i < K; ++i)
      for (Index j = 0; j < K; ++j)
        for (Index n = 0; n < batch; ++n)
          for (Index oh = 0; oh < OH; ++oh)
            for (Index ow = 0; ow < OW; ++ow) {
              const Index src = source_index(s, n, c, i, j, oh, ow);
              if (src >= 0) {
                x[static_cast<std::size_t>(src)] += col[static_cast<std::size_t>(
                    ((c * K + i) * K + j) * ld + n * OH * OW + oh * OW + ow)];
              }
            }
  return x;
}

const ConvShape shapes[] = {
    {1, 7, 7, 3, 1, 1},   {3, 7, 5, 3, 2, 1},   {2, 9, 11, 4, 2, 1}, {5, 4, 4, 4, 1, 0},
    {2, 3, 3, 3, 1, 0},   {1, 17, 13, 5, 3, 2}, {3, 1, 1, 1, 1, 0},  {2, 6, 6, 4, 2, 3},
    {4, 14, 14, 4, 2, 1}, {1, 2, 3, 1, 1, 0},
};

template <class T, class A>
void check_im2col_against_naive() {
  for (const ConvShape& s : shapes) {
    for (Index batch : {1, 3, 7}) {
      INFO("shape " << s.to_string() << " batch " << batch);
      const auto x = random_vector<T>(batch * s.image_size(), 1);
      const Index cols = batch * s.out_positions();
      std::vector<T> col(static_cast<std::size_t>(s.patch_size() * cols), T(7));
      kernels::im2col(x.data(), batch, s, col.data());
      CHECK(col == naive_im2col(x, batch, s));  // a gather: exact

      const auto c = random_vector<T>(s.patch_size() * cols, 2);
      const auto ref = naive_col2im(c, batch, s);
      std::vector<T> back(ref.size(), T(7));
      kernels::col2im<T, A>(c.data(), batch, s, back.data());
      for (std::size_t k = 0; k < ref.size(); ++k) {
        REQUIRE(back[k] == Approx(ref[k]).epsilon(1e-5).margin(1e-6));
      }

      // accumulate, then bias and leaky ReLU per channel
      std::vector<T> acc = x, bias = random_vector<T>(s.channels, 3);
      kernels::col2im<T, A>(c.data(), batch, s, acc.data(), true, bias.data(),
                            Activation::leaky_relu, T(0.2));
      const Index plane = s.height * s.width;
      for (std::size_t k = 0; k < ref.size(); ++k) {
        const Index ch = static_cast<Index>(k) / plane % s.channels;
        const double z = static_cast<double>(x[k]) + ref[k] + bias[static_cast<std::size_t>(ch)];
        REQUIRE(acc[k] == Approx(z > 0 ? z : 0.2 * z).epsilon(1e-5).margin(1e-6));
      }
    }
  }
}

template <class T, class A>
void check_channel_major() {
  for (Index batch : {1, 3, 17}) {
    for (Index C : {1, 5}) {
      for (Index S : {1, 7, 33, 49}) {
        INFO("batch " << batch << " C " << C << " S " << S);
        const Index n = batch * C * S;
        const auto x = random_vector<T>(n, 4), y = random_vector<T>(n, 5);
        const auto bias = random_vector<T>(C, 6);
        std::vector<T> cm(static_cast<std::size_t>(n)), back(static_cast<std::size_t>(n));
        kernels::to_channel_major(x.data(), batch, C, S, cm.data());
        for (Index b = 0; b < batch; ++b)
          for (Index c = 0; c < C; ++c)
            for (Index s = 0; s < S; ++s)
              REQUIRE(cm[static_cast<std::size_t>(c * batch * S + b * S + s)] ==
                      x[static_cast<std::size_t>((b * C + c) * S + s)]);
        kernels::from_channel_major<T, A>(cm.data(), batch, C, S, back.data());
        CHECK(back == x);

        kernels::from_channel_major<T, A>(cm.data(), batch, C, S, back.data(), bias.data(),
                                          Activation::relu, T(0));
        for (std::size_t k = 0; k < back.size(); ++k) {
          const Index c = static_cast<Index>(k) / S % C;
          const T z = x[k] + bias[static_cast<std::size_t>(c)];
          REQUIRE(back[k] == (z > 0 ? z : T(0)));
        }

        // dy * relu'(y) into channel-major
        kernels::to_channel_major_backward<T, A>(x.data(), y.data(), batch, C, S, cm.data(),
                                                 Activation::relu, T(0));
        for (Index b = 0; b < batch; ++b)
          for (Index c = 0; c < C; ++c)
            for (Index s = 0; s < S; ++s) {
              const auto k = static_cast<std::size_t>((b * C + c) * S + s);
              REQUIRE(cm[static_cast<std::size_t>(c * batch * S + b * S + s)] ==
                      (y[k] > 0 ? x[k] : T(0)));
            }

        std::vector<T> sums(static_cast<std::size_t>(C), T(1));
        kernels::channel_sums<T, A>(x.data(), batch, C, S, sums.data(), true);
        for (Index c = 0; c < C; ++c) {
          double ref = 1.0;
          for (Index b = 0; b < batch; ++b)
            for (Index s = 0; s < S; ++s) ref += x[static_cast<std::size_t>((b * C + c) * S + s)];
          CHECK(sums[static_cast<std::size_t>(c)] == Approx(ref).epsilon(1e-5));
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("im2col and col2im match naive loops on odd shapes", "[im2col][kernels]") {
  check_im2col_against_naive<float, kernels::simd_arch>();
  check_im2col_against_naive<double, kernels::simd_arch>();
  check_im2col_against_naive<float, kernels::scalar_arch>();
}

// Kernel 4, stride 2, padding 1 (DCGAN's layers) takes a gathering path: each pixel sums its taps
// in the naive loop's order, so the results are exact, for even and odd sizes, images narrower
// and wider than two vectors, and output grids where some taps fall outside the image.
template <class T, class A>
void check_col2im_k4s2p1_exact() {
  const ConvShape k4s2p1[] = {{1, 2, 2, 4, 2, 1},   {3, 7, 5, 4, 2, 1},  {2, 9, 11, 4, 2, 1},
                              {1, 33, 17, 4, 2, 1}, {2, 6, 65, 4, 2, 1}, {3, 32, 32, 4, 2, 1},
                              {1, 3, 34, 4, 2, 1},  {2, 8, 8, 4, 2, 1},  {1, 4, 64, 4, 2, 1},
                              {1, 5, 40, 4, 2, 1},  {1, 3, 70, 4, 2, 1}};
  for (const ConvShape& s : k4s2p1) {
    for (Index batch : {1, 3}) {
      INFO("shape " << s.to_string() << " batch " << batch);
      const auto c = random_vector<T>(s.patch_size() * batch * s.out_positions(), 11);
      const auto ref = naive_col2im(c, batch, s);
      std::vector<T> back(ref.size(), T(7));
      kernels::col2im<T, A>(c.data(), batch, s, back.data());
      CHECK(back == ref);
      std::vector<T> acc = random_vector<T>(static_cast<Index>(ref.size()), 12), sum = acc;
      for (std::size_t k = 0; k < ref.size(); ++k) sum[k] += ref[k];
      kernels::col2im<T, A>(c.data(), batch, s, acc.data(), true);
      CHECK(acc == sum);
    }
  }
}

TEST_CASE("col2im with kernel 4, stride 2, padding 1 equals the naive loop bitwise",
          "[im2col][kernels]") {
  check_col2im_k4s2p1_exact<float, kernels::simd_arch>();
  check_col2im_k4s2p1_exact<double, kernels::simd_arch>();
  check_col2im_k4s2p1_exact<float, kernels::scalar_arch>();
}

TEST_CASE("channel-major moves, fused bias/activation and channel sums", "[im2col][kernels]") {
  check_channel_major<float, kernels::simd_arch>();
  check_channel_major<double, kernels::simd_arch>();
  check_channel_major<double, kernels::scalar_arch>();
}

TEST_CASE("im2col kernels are bitwise the same for 1, 2 and 3 threads", "[im2col][kernels]") {
  const ConvShape s{6, 14, 14, 4, 2, 1};
  const Index batch = 9, cols = batch * s.out_positions(), n = batch * s.image_size();
  const auto x = random_vector<float>(n, 8);
  const auto c = random_vector<float>(s.patch_size() * cols, 9);
  const auto bias = random_vector<float>(s.channels, 10);
  std::vector<std::vector<float>> results;
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    std::vector<float> col(static_cast<std::size_t>(s.patch_size() * cols)),
        img(static_cast<std::size_t>(n)), cm(static_cast<std::size_t>(n)),
        sums(static_cast<std::size_t>(s.channels));
    kernels::im2col(x.data(), batch, s, col.data());
    kernels::col2im(c.data(), batch, s, img.data(), false, bias.data(), Activation::tanh, 0.f);
    kernels::to_channel_major(img.data(), batch, s.channels, s.height * s.width, cm.data());
    kernels::channel_sums(img.data(), batch, s.channels, s.height * s.width, sums.data(), false);
    col.insert(col.end(), img.begin(), img.end());
    col.insert(col.end(), cm.begin(), cm.end());
    col.insert(col.end(), sums.begin(), sums.end());
    results.push_back(col);
  }
  set_num_threads(0);
  CHECK(results[0] == results[1]);
  CHECK(results[0] == results[2]);
}

TEST_CASE("ConvShape output sizes and validation", "[im2col][kernels]") {
  const ConvShape s{1, 28, 28, 4, 2, 1};
  CHECK(s.out_height() == 14);
  CHECK(s.out_width() == 14);
  CHECK(ConvShape{256, 4, 4, 3, 2, 1}.out_height() == 2);
  CHECK(ConvShape{256, 3, 3, 3, 1, 0}.out_positions() == 1);
  REQUIRE_THROWS_AS(ConvShape({1, 2, 2, 5, 1, 0}).validate("conv"), ArgumentError);
  REQUIRE_THROWS_WITH(ConvShape({0, 2, 2, 1, 1, 0}).validate("Conv2d 'd.conv1'"),
                      Catch::Contains("d.conv1") && Catch::Contains("0 x 2 x 2"));
}

TEST_CASE("transpose matches a naive loop on odd sizes", "[im2col][kernels]") {
  for (Index rows : {1, 7, 33, 100}) {
    for (Index cols : {1, 17, 65, 300}) {
      const auto src = random_vector<float>(rows * cols, 11);
      std::vector<float> dst(src.size());
      kernels::transpose(src.data(), rows, cols, dst.data());
      for (Index r = 0; r < rows; ++r)
        for (Index c = 0; c < cols; ++c)
          REQUIRE(dst[static_cast<std::size_t>(c * rows + r)] ==
                  src[static_cast<std::size_t>(r * cols + c)]);
    }
  }
}
