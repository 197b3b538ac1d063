#include <aigc/kernels/partition.hpp>
#include <aigc/layers/conv2d.hpp>
#include <aigc/layers/conv_transpose2d.hpp>
#include <aigc/testing/gradcheck.hpp>
#include <catch2/catch.hpp>
#include <cmath>

using namespace aigc;

namespace {

struct Geometry {
  Index in_channels, out_channels, kernel, height, width, stride, padding;
};

// Small odd shapes, strides and paddings (the DCGAN's patterns included; the kernel covering the
// whole unpadded input, one output position, as a discriminator's last layer: {2, 1, 3, 3, 3}
// and {3, 2, 2, 2, 2} with stride 2).
const Geometry geometries[] = {
    {1, 2, 3, 5, 5, 1, 1}, {2, 3, 3, 7, 5, 2, 1}, {3, 2, 4, 6, 7, 2, 1}, {2, 1, 3, 3, 3, 1, 0},
    {3, 4, 1, 4, 3, 1, 0}, {2, 3, 4, 1, 1, 1, 0}, {3, 2, 2, 2, 2, 2, 0},
};

// Whether a Conv2d fits (the kernel no larger than the padded image); ConvTranspose2d always does.
bool conv_fits(const Geometry& g) {
  return g.height + 2 * g.padding >= g.kernel && g.width + 2 * g.padding >= g.kernel;
}

double act_ref(Activation act, double z, double slope) {
  switch (act) {
    case Activation::relu:
      return z > 0 ? z : 0;
    case Activation::leaky_relu:
      return z > 0 ? z : slope * z;
    case Activation::sigmoid:
      return 1 / (1 + std::exp(-z));
    case Activation::tanh:
      return std::tanh(z);
    default:
      return z;
  }
}

// Direct convolution, PyTorch's definition: y[n, o, oh, ow] = b[o] + sum over c, i, j of
// W[o, c, i, j] x[n, c, oh s - p + i, ow s - p + j].
Tensor<double> naive_conv2d(const Tensor<double>& x, const Tensor<double>& w, const double* b,
                            const Geometry& g) {
  const Index K = g.kernel, H = g.height, Wd = g.width;
  const Index OH = conv2d_output_size(H, K, g.stride, g.padding);
  const Index OW = conv2d_output_size(Wd, K, g.stride, g.padding);
  Tensor<double> y(x.rows(), g.out_channels * OH * OW);
  for (Index n = 0; n < x.rows(); ++n)
    for (Index o = 0; o < g.out_channels; ++o)
      for (Index oh = 0; oh < OH; ++oh)
        for (Index ow = 0; ow < OW; ++ow) {
          double s = b ? b[o] : 0.0;
          for (Index c = 0; c < g.in_channels; ++c)
            for (Index i = 0; i < K; ++i)
              for (Index j = 0; j < K; ++j) {
                const Index h = oh * g.stride - g.padding + i, v = ow * g.stride - g.padding + j;
                if (h < 0 || h >= H || v < 0 || v >= Wd) continue;
                s += w(o, (c * K + i) * K + j) * x(n, (c * H + h) * Wd + v);
              }
          y(n, (o * OH + oh) * OW + ow) = s;
        }
  return y;
}

// Direct transposed convolution, PyTorch's definition: every input pixel x[n, c, h, w] adds
// W[c, o, i, j] x[n, c, h, w] to y[n, o, h s - p + i, w s - p + j].
Tensor<double> naive_conv_transpose2d(const Tensor<double>& x, const Tensor<double>& w,
                                      const double* b, const Geometry& g) {
  const Index K = g.kernel, H = g.height, Wd = g.width;
  const Index OH = conv_transpose2d_output_size(H, K, g.stride, g.padding);
  const Index OW = conv_transpose2d_output_size(Wd, K, g.stride, g.padding);
  Tensor<double> y = Tensor<double>::Zero(x.rows(), g.out_channels * OH * OW);
  for (Index n = 0; n < x.rows(); ++n) {
    for (Index o = 0; o < g.out_channels; ++o)
      for (Index p = 0; p < OH * OW; ++p) y(n, o * OH * OW + p) = b ? b[o] : 0.0;
    for (Index c = 0; c < g.in_channels; ++c)
      for (Index h = 0; h < H; ++h)
        for (Index v = 0; v < Wd; ++v)
          for (Index o = 0; o < g.out_channels; ++o)
            for (Index i = 0; i < K; ++i)
              for (Index j = 0; j < K; ++j) {
                const Index oh = h * g.stride - g.padding + i, ow = v * g.stride - g.padding + j;
                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                y(n, (o * OH + oh) * OW + ow) +=
                    w(c, (o * K + i) * K + j) * x(n, (c * H + h) * Wd + v);
              }
  }
  return y;
}

template <class Layer, class Options>
Layer make(const Geometry& g, Rng& rng, Options o) {
  o.stride = g.stride;
  o.padding = g.padding;
  return Layer(g.in_channels, g.out_channels, g.kernel, g.height, g.width, rng, o);
}

}  // namespace

TEST_CASE("Conv2d forward matches a direct convolution", "[conv2d]") {
  for (const Geometry& g : geometries) {
    if (!conv_fits(g)) continue;
    for (Activation act : {Activation::identity, Activation::leaky_relu, Activation::tanh}) {
      for (bool bias : {true, false}) {
        INFO("geometry " << g.in_channels << "->" << g.out_channels << " k" << g.kernel << " "
                         << g.height << "x" << g.width << " s" << g.stride << " p" << g.padding
                         << " act " << static_cast<int>(act) << " bias " << bias);
        Rng rng(1);
        auto conv = make<Conv2d<double>>(
            g, rng, Conv2dOptions{.bias = bias, .activation = act, .negative_slope = 0.2});
        const Tensor<double> x = random_input(3, g.in_channels * g.height * g.width, 2);
        const Tensor<double>& y = conv.forward(x);
        const Tensor<double> ref =
            naive_conv2d(x, conv.weight().value, bias ? conv.bias().value.data() : nullptr, g);
        REQUIRE(y.rows() == ref.rows());
        REQUIRE(y.cols() == ref.cols());
        REQUIRE(y.cols() == conv.out_features());
        for (Index k = 0; k < y.size(); ++k) {
          REQUIRE(y.data()[k] ==
                  Approx(act_ref(act, ref.data()[k], 0.2)).epsilon(1e-12).margin(1e-12));
        }
      }
    }
  }
}

TEST_CASE("ConvTranspose2d forward matches a direct transposed convolution", "[conv2d]") {
  for (const Geometry& g : geometries) {
    for (Activation act : {Activation::identity, Activation::relu, Activation::tanh}) {
      for (bool bias : {true, false}) {
        INFO("geometry " << g.in_channels << "->" << g.out_channels << " k" << g.kernel << " "
                         << g.height << "x" << g.width << " s" << g.stride << " p" << g.padding
                         << " act " << static_cast<int>(act) << " bias " << bias);
        Rng rng(1);
        auto conv = make<ConvTranspose2d<double>>(
            g, rng, ConvTranspose2dOptions{.bias = bias, .activation = act});
        const Tensor<double> x = random_input(3, g.in_channels * g.height * g.width, 2);
        const Tensor<double>& y = conv.forward(x);
        const Tensor<double> ref = naive_conv_transpose2d(
            x, conv.weight().value, bias ? conv.bias().value.data() : nullptr, g);
        REQUIRE(y.rows() == ref.rows());
        REQUIRE(y.cols() == ref.cols());
        REQUIRE(y.cols() == conv.out_features());
        for (Index k = 0; k < y.size(); ++k) {
          REQUIRE(y.data()[k] ==
                  Approx(act_ref(act, ref.data()[k], 0.01)).epsilon(1e-12).margin(1e-12));
        }
      }
    }
  }
}

TEST_CASE("Conv2d and ConvTranspose2d gradients match finite differences", "[conv2d][gradcheck]") {
  for (const Geometry& g : geometries) {
    for (Activation act : {Activation::identity, Activation::leaky_relu, Activation::sigmoid}) {
      for (bool bias : {true, false}) {
        INFO("geometry " << g.in_channels << "->" << g.out_channels << " k" << g.kernel << " "
                         << g.height << "x" << g.width << " s" << g.stride << " p" << g.padding
                         << " act " << static_cast<int>(act) << " bias " << bias);
        const Tensor<double> x = random_input(2, g.in_channels * g.height * g.width, 9);
        Rng rng(5);
        if (conv_fits(g)) {
          auto conv = make<Conv2d<double>>(
              g, rng, Conv2dOptions{.bias = bias, .activation = act, .negative_slope = 0.2});
          const auto r = check_module_gradients(conv, x);
          CHECK(r.input_error < 1e-6);
          CHECK(r.max_param_error < 1e-6);
        }
        auto convt = make<ConvTranspose2d<double>>(
            g, rng, ConvTranspose2dOptions{.bias = bias, .activation = act, .negative_slope = 0.2});
        const auto rt = check_module_gradients(convt, x);
        CHECK(rt.input_error < 1e-6);
        CHECK(rt.max_param_error < 1e-6);
      }
    }
  }
}

TEST_CASE("Conv layers initialise as PyTorch, with PyTorch's fan_in", "[conv2d]") {
  Rng rng(3);
  Conv2d<float> conv(4, 8, 5, 9, 9, rng);  // fan_in = 4 * 25 = 100
  CHECK(conv.weight().value.rows() == 8);
  CHECK(conv.weight().value.cols() == 100);
  CHECK(conv.weight().value.cwiseAbs().maxCoeff() <= 0.1f);
  CHECK(conv.weight().value.cwiseAbs().maxCoeff() > 0.09f);
  CHECK(conv.bias().value.cwiseAbs().maxCoeff() <= 0.1f);
  // ConvTranspose2d: weight in x out*k*k, fan_in = out_channels * k * k = 16 * 4 = 64
  ConvTranspose2d<float> convt(100, 16, 2, 1, 1, rng);
  CHECK(convt.weight().value.rows() == 100);
  CHECK(convt.weight().value.cols() == 64);
  CHECK(convt.weight().value.cwiseAbs().maxCoeff() <= 0.125f);
  CHECK(convt.weight().value.cwiseAbs().maxCoeff() > 0.12f);
  CHECK(convt.bias().value.cwiseAbs().maxCoeff() <= 0.125f);
}

TEST_CASE("Conv output shapes follow PyTorch's formulas (the DCGAN's layers)", "[conv2d]") {
  Rng rng(3);
  Conv2d<float> d1(1, 64, 4, 28, 28, rng, {.stride = 2, .padding = 1});
  CHECK(d1.out_height() == 14);
  Conv2d<float> d2(64, 128, 4, 14, 14, rng, {.stride = 2, .padding = 1});
  CHECK(d2.out_height() == 7);
  Conv2d<float> d3(128, 256, 4, 7, 7, rng, {.stride = 2, .padding = 1});
  CHECK(d3.out_height() == 3);
  Conv2d<float> d4(256, 1, 3, 3, 3, rng);
  CHECK(d4.out_features() == 1);
  ConvTranspose2d<float> g1(100, 256, 4, 1, 1, rng);
  CHECK(g1.out_height() == 4);
  ConvTranspose2d<float> g2(256, 128, 3, 4, 4, rng, {.stride = 2, .padding = 1});
  CHECK(g2.out_height() == 7);
  ConvTranspose2d<float> g3(128, 64, 4, 7, 7, rng, {.stride = 2, .padding = 1});
  CHECK(g3.out_height() == 14);
  ConvTranspose2d<float> g4(64, 1, 4, 14, 14, rng, {.stride = 2, .padding = 1});
  CHECK(g4.out_features() == 784);
  CHECK(conv2d_output_size(28, 4, 2, 1) == 14);
  CHECK(conv_transpose2d_output_size(14, 4, 2, 1) == 28);
}

TEST_CASE("Conv layers name both shapes in their errors", "[conv2d]") {
  Rng rng(3);
  Conv2d<float> conv(3, 8, 3, 9, 9, rng);
  conv.set_name("discriminator.conv1");
  const Tensor<float> x = Tensor<float>::Zero(2, 100);
  REQUIRE_THROWS_AS(conv.forward(x), ShapeError);
  REQUIRE_THROWS_WITH(conv.forward(x), Catch::Contains("discriminator.conv1") &&
                                           Catch::Contains("243") && Catch::Contains("[2 x 100]") &&
                                           Catch::Contains("3 x 9 x 9"));
  ConvTranspose2d<float> convt(4, 2, 3, 5, 6, rng);
  convt.set_name("generator.deconv2");
  REQUIRE_THROWS_WITH(convt.forward(x),
                      Catch::Contains("generator.deconv2") && Catch::Contains("120") &&
                          Catch::Contains("[2 x 100]") && Catch::Contains("4 x 5 x 6"));
  conv.forward(Tensor<float>::Zero(2, 243));
  REQUIRE_THROWS_AS(conv.backward(Tensor<float>::Zero(2, 5)), ShapeError);
  REQUIRE_THROWS_AS(Conv2d<float>(3, 8, 11, 4, 4, rng), ArgumentError);
  REQUIRE_THROWS_AS(ConvTranspose2d<float>(3, 0, 3, 4, 4, rng), ArgumentError);
}

TEST_CASE("Conv layers skip dX when not needed and are bitwise the same for 1 and 2 threads",
          "[conv2d]") {
  std::vector<Tensor<float>> outs;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Rng rng(4);
    Conv2d<float> conv(3, 16, 4, 14, 14, rng, {.stride = 2, .padding = 1});
    ConvTranspose2d<float> convt(16, 3, 4, 7, 7, rng, {.stride = 2, .padding = 1});
    Tensor<float> x(32, 3 * 14 * 14);
    rng.fill_normal(x);
    const Tensor<float> y = convt.forward(conv.forward(x));
    const Tensor<float> dx = conv.backward(convt.backward(y));
    Tensor<float> all(
        1, y.size() + dx.size() + conv.weight().grad.size() + convt.weight().grad.size());
    all << y.reshaped<Eigen::RowMajor>().transpose(), dx.reshaped<Eigen::RowMajor>().transpose(),
        conv.weight().grad.reshaped<Eigen::RowMajor>().transpose(),
        convt.weight().grad.reshaped<Eigen::RowMajor>().transpose();
    outs.push_back(all);
    conv.set_needs_input_grad(false);
    conv.forward(x);
    CHECK(conv.backward(convt.backward(y)).size() == 0);
  }
  set_num_threads(0);
  CHECK((outs[0].array() == outs[1].array()).all());
}

TEST_CASE(
    "Conv layers with a batch im2col matrix too large for the cache (chunked) give the "
    "products of the whole matrix, bitwise the same for 1 and 2 threads",
    "[conv2d]") {
  // 8 -> 2 channels at 64x64, batch 40: col is 128 x 40960 values (21 MB), so the Conv2d forward
  // and backward (here a forward without parameter gradients, then asked for them in backward all
  // the same) and the ConvTranspose2d backward go through kernels::im2col_gemm and
  // im2col_weight_grad.
  const Index batch = 40;
  const kernels::ConvShape s{8, 64, 64, 4, 2, 1};
  const Index patch = s.patch_size(), P = s.out_positions(), cols = batch * P;
  REQUIRE(kernels::im2col_chunked(patch, cols, 4));
  std::vector<Tensor<float>> outs;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Rng rng(4);
    Conv2d<float> conv(8, 2, 4, 64, 64, rng, {.stride = 2, .padding = 1});
    ConvTranspose2d<float> convt(2, 8, 4, 32, 32, rng, {.stride = 2, .padding = 1});
    Tensor<float> x(batch, s.image_size());
    rng.fill_normal(x);
    conv.set_needs_param_grads(false);
    const Tensor<float> y = conv.forward(x);
    conv.set_needs_param_grads(true);
    const Tensor<float> z = convt.forward(y);
    const Tensor<float> dy = convt.backward(z);  // dZ = z: the gradient of |z|^2 / 2
    conv.backward(dy);

    // The whole batch's col, as the unchunked layers compute with it.
    Tensor<float> col(patch, cols), ycm(2, cols), ref(batch, 2 * P);
    kernels::im2col(x.data(), batch, s, col.data());
    kernels::gemm(kernels::Trans::no, kernels::Trans::no, 2, cols, patch, 1.0f,
                  conv.weight().value.data(), patch, col.data(), cols, 0.0f, ycm.data(), cols);
    kernels::from_channel_major(ycm.data(), batch, 2, P, ref.data(), conv.bias().value.data(),
                                Activation::identity, 0.0f);
    CHECK((y.array() == ref.array()).all());
    Tensor<float> dcm(2, cols), dw(2, patch);
    kernels::to_channel_major(dy.data(), batch, 2, P, dcm.data());
    kernels::gemm(kernels::Trans::no, kernels::Trans::yes, 2, patch, cols, 1.0f, dcm.data(), cols,
                  col.data(), cols, 0.0f, dw.data(), patch);
    CHECK(((conv.weight().grad - dw).array().abs() <= 1e-3f * (1.0f + dw.array().abs())).all());
    // ConvTranspose2d's dX = W im2col(dZ) (channel-major), and its dW = X' im2col(dZ)^T.
    kernels::im2col(z.data(), batch, s, col.data());
    kernels::gemm(kernels::Trans::no, kernels::Trans::no, 2, cols, patch, 1.0f,
                  convt.weight().value.data(), patch, col.data(), cols, 0.0f, ycm.data(), cols);
    kernels::from_channel_major(ycm.data(), batch, 2, P, ref.data());
    CHECK((dy.array() == ref.array()).all());
    kernels::to_channel_major(y.data(), batch, 2, P, dcm.data());
    kernels::gemm(kernels::Trans::no, kernels::Trans::yes, 2, patch, cols, 1.0f, dcm.data(), cols,
                  col.data(), cols, 0.0f, dw.data(), patch);
    CHECK(((convt.weight().grad - dw).array().abs() <= 1e-3f * (1.0f + dw.array().abs())).all());

    Tensor<float> all(1, y.size() + dy.size() + 2 * dw.size());
    all << y.reshaped<Eigen::RowMajor>().transpose(), dy.reshaped<Eigen::RowMajor>().transpose(),
        conv.weight().grad.reshaped<Eigen::RowMajor>().transpose(),
        convt.weight().grad.reshaped<Eigen::RowMajor>().transpose();
    outs.push_back(all);
  }
  set_num_threads(0);
  CHECK((outs[0].array() == outs[1].array()).all());
}

TEST_CASE(
    "Conv2d's weight gradient after an eval-mode forward: that forward's col, or a clear error "
    "when the forward kept nothing for it",
    "[conv2d]") {
  // The chunked shape of the case above: a training forward at batch 40 keeps x for dW; an
  // eval-mode forward at batch 1 (a col of 0.5 MB, not chunked) must take its own col.
  Rng rng(6);
  Conv2d<float> conv(8, 2, 4, 64, 64, rng, {.stride = 2, .padding = 1});
  Conv2d<float> fresh(8, 2, 4, 64, 64, rng, {.stride = 2, .padding = 1});
  fresh.weight().value = conv.weight().value;
  fresh.bias().value = conv.bias().value;
  Tensor<float> big(40, 8 * 64 * 64), one(1, 8 * 64 * 64);
  rng.fill_normal(big);
  rng.fill_normal(one);
  conv.forward(big);
  conv.set_training(false);
  const Tensor<float> y = conv.forward(one);
  conv.weight().grad.setZero();
  conv.backward(y);
  fresh.set_training(false);
  fresh.forward(one);
  fresh.backward(y);
  CHECK((conv.weight().grad.array() == fresh.weight().grad.array()).all());
  // An eval-mode forward of the chunked shape keeps no input: backward with dW is refused.
  const Tensor<float> y_big = conv.forward(big);
  CHECK_THROWS_WITH(conv.backward(y_big),
                    Catch::Contains("keeps no input for the weight gradient"));
  conv.set_needs_param_grads(false);
  CHECK(conv.backward(y_big).rows() == 40);  // dX alone is fine
}

TEST_CASE("Conv2d chunks the forwards of large cols: the same Y, dX and dW bitwise", "[conv2d]") {
  // Wide: 256 -> 17 channels, 8x8 to 4x4, batch 64: col is 4096 x 1024 values (16.8 MB), chunked
  // in every forward, its dW chunked too (im2col_weight_grad). Narrow: 3 -> 4 channels, 64x64 to
  // 32x32, batch 128: col is 48 x 131072 (25 MB), chunked in every forward, its dW from the whole
  // col gathered again (a colour discriminator's first layer).
  struct Case {
    Index in, out, side, batch;
    bool chunked_dw;
  };
  for (const Case c : {Case{256, 17, 8, 64, true}, Case{3, 4, 64, 128, false}}) {
    const kernels::ConvShape s{c.in, c.side, c.side, 4, 2, 1};
    const Index patch = s.patch_size(), P = s.out_positions(), cols = c.batch * P;
    REQUIRE(kernels::im2col_chunked(patch, cols, 4) == c.chunked_dw);
    REQUIRE(kernels::im2col_chunked_forward(patch, cols, 4));
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      Rng rng(8);
      Conv2d<float> with(c.in, c.out, 4, c.side, c.side, rng, {.stride = 2, .padding = 1});
      Conv2d<float> without(c.in, c.out, 4, c.side, c.side, rng, {.stride = 2, .padding = 1});
      without.weight().value = with.weight().value;
      without.bias().value = with.bias().value;
      Tensor<float> x(c.batch, s.image_size()), dy(c.batch, c.out * P);
      rng.fill_normal(x);
      rng.fill_normal(dy);
      // The products through the whole col, as the unchunked layer computes them.
      Tensor<float> col(patch, cols), ycm(c.out, cols), y(c.batch, c.out * P), dw(c.out, patch);
      kernels::im2col(x.data(), c.batch, s, col.data());
      kernels::gemm(kernels::Trans::no, kernels::Trans::no, c.out, cols, patch, 1.0f,
                    with.weight().value.data(), patch, col.data(), cols, 0.0f, ycm.data(), cols);
      kernels::from_channel_major(ycm.data(), c.batch, c.out, P, y.data(), with.bias().value.data(),
                                  Activation::identity, 0.0f);
      kernels::to_channel_major(dy.data(), c.batch, c.out, P, ycm.data());
      if (c.chunked_dw) {
        kernels::im2col_weight_grad(ycm.data(), c.out, x.data(), c.batch, s, 0.0f, dw.data());
      } else {
        kernels::gemm(kernels::Trans::no, kernels::Trans::yes, c.out, patch, cols, 1.0f, ycm.data(),
                      cols, col.data(), cols, 0.0f, dw.data(), patch);
      }

      CHECK((with.forward(x).array() == y.array()).all());
      const Tensor<float> dx = with.backward(dy);
      CHECK((with.weight().grad.array() == dw.array()).all());
      without.set_needs_param_grads(false);
      CHECK((without.forward(x).array() == y.array()).all());
      CHECK((without.backward(dy).array() == dx.array()).all());
      CHECK((without.weight().grad.array() == 0.0f).all());
      // Asked for dW after such a forward, the layer gathers col again from the x it kept.
      without.forward(x);
      without.set_needs_param_grads(true);
      CHECK((without.backward(dy).array() == dx.array()).all());
      CHECK((without.weight().grad.array() == dw.array()).all());
      CHECK((without.bias().grad.array() == with.bias().grad.array()).all());
      // In eval mode, the same Y, and dW is refused: nothing is kept for it.
      without.set_training(false);
      CHECK((without.forward(x).array() == y.array()).all());
      CHECK_THROWS_WITH(without.backward(dy),
                        Catch::Contains("keeps no input for the weight gradient"));
    }
  }
  set_num_threads(0);
}

TEST_CASE("Conv2d with one output position takes X as col: the bits of the im2col products",
          "[conv2d]") {
  // 64 -> 3 channels, a 4x4 kernel on 4x4 images (a discriminator's last layer), batch 20: the
  // layer multiplies X itself; the reference gathers col = im2col(X) and scatters dX with col2im.
  const Index batch = 20, out = 3;
  const kernels::ConvShape s{64, 4, 4, 4, 1, 0};
  const Index patch = s.patch_size();
  for (Precision precision : {Precision::fp32, Precision::bf16}) {
    Rng rng(9);
    Conv2d<float> conv(64, out, 4, 4, 4, rng, {.activation = Activation::leaky_relu});
    conv.set_precision(precision);
    Tensor<float> x(batch, patch), dy(batch, out);
    rng.fill_normal(x);
    rng.fill_normal(dy);
    const Tensor<float> y = conv.forward(x);
    const Tensor<float> dx = conv.backward(dy);

    const float slope = static_cast<float>(conv.options().negative_slope);
    const float* w = conv.weight().value.data();
    Tensor<float> col(patch, batch), ycm(out, batch), ref(batch, out), dz(out, batch);
    Tensor<float> dw(out, patch), wt(patch, out), ref_dx(batch, patch);
    kernels::im2col(x.data(), batch, s, col.data());
    kernels::gemm_in<float>(precision, kernels::Trans::no, kernels::Trans::no, out, batch, patch,
                            1.0f, w, patch, col.data(), batch, 0.0f, ycm.data(), batch);
    kernels::from_channel_major(ycm.data(), batch, out, 1, ref.data(), conv.bias().value.data(),
                                Activation::leaky_relu, slope);
    CHECK((y.array() == ref.array()).all());
    kernels::to_channel_major_backward(dy.data(), y.data(), batch, out, 1, dz.data(),
                                       Activation::leaky_relu, slope);
    kernels::gemm_in<float>(precision, kernels::Trans::no, kernels::Trans::yes, out, patch, batch,
                            1.0f, dz.data(), batch, col.data(), batch, 0.0f, dw.data(), patch);
    CHECK((conv.weight().grad.array() == dw.array()).all());
    kernels::transpose(w, out, patch, wt.data());
    kernels::gemm_in<float>(precision, kernels::Trans::no, kernels::Trans::no, patch, batch, out,
                            1.0f, wt.data(), out, dz.data(), batch, 0.0f, col.data(), batch);
    kernels::col2im(col.data(), batch, s, ref_dx.data());
    CHECK((dx.array() == ref_dx.array()).all());
  }
}
