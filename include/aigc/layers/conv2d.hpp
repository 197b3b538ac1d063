/// @file
/// aigc: 2-d convolution over NCHW images (batch x C*H*W), Y = act(W * X + b), lowered onto one
/// GEMM per batch through im2col, with PyTorch's weight layout and default initialisation.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "aigc/core/module.hpp"
#include "aigc/core/rng.hpp"
#include "aigc/kernels/elementwise.hpp"
#include "aigc/kernels/gemm.hpp"
#include "aigc/kernels/im2col.hpp"

namespace aigc {

/// Options of a Conv2d layer.
struct Conv2dOptions {
  Index stride = 1;   ///< step between kernel positions
  Index padding = 0;  ///< zeros added on every side (PyTorch's padding)
  bool bias = true;   ///< whether the layer has a bias per output channel
  Activation activation = Activation::identity;  ///< fused into the layer's output pass
  double negative_slope = 0.01;                  ///< for Activation::leaky_relu
};

/// Output height (or width) of a convolution: (in + 2 padding - kernel) / stride + 1.
inline Index conv2d_output_size(Index in, Index kernel, Index stride, Index padding) {
  return (in + 2 * padding - kernel) / stride + 1;
}

/// torch.nn.Conv2d with a square kernel, dilation 1, one group. The input size is fixed at
/// construction (rows carry no shape). Weight: out_channels x in_channels*kernel*kernel.
template <class T>
class Conv2d : public Module<T> {
 public:
  /// Weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels * kernel^2, as
  /// torch.nn.Conv2d.
  Conv2d(Index in_channels, Index out_channels, Index kernel, Index in_height, Index in_width,
         Rng& rng, Conv2dOptions options = {})
      : shape_{in_channels, in_height, in_width, kernel, options.stride, options.padding},
        out_(out_channels),
        options_(options) {
    shape_.validate("Conv2d");
    if (out_channels <= 0) {
      throw ArgumentError("Conv2d: out_channels must be positive, got " +
                          std::to_string(out_channels));
    }
    if (options.activation == Activation::leaky_relu && !(options.negative_slope > 0.0)) {
      throw ArgumentError("Conv2d: negative_slope must be > 0 for leaky_relu");
    }
    const Index fan_in = shape_.patch_size();
    weight_ = Param<T>("weight", out_channels, fan_in);
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    rng.fill_uniform(weight_.value, -bound, bound);
    if (options.bias) {
      bias_ = Param<T>("bias", 1, out_channels);
      rng.fill_uniform(bias_.value, -bound, bound);
    }
    set_name("");
  }

  /// col = im2col(X); Y' = W col (out_channels x batch*OH*OW); Y = act(Y' + b) back in NCHW.
  const Tensor<T>& forward(const Tensor<T>& x) override {
    check_cols(x, shape_.image_size(), [&] {
      return "Conv2d '" + this->name() + "' forward (input " + shape_.to_string() + ")";
    });
    const Index batch = x.rows(), P = shape_.out_positions(), cols = batch * P;
    col_.resize(shape_.patch_size(), cols);
    kernels::im2col(x.data(), batch, shape_, col_.data());
    ycm_.resize(out_, cols);
    kernels::gemm(kernels::Trans::no, kernels::Trans::no, out_, cols, shape_.patch_size(), T(1),
                  weight_.value.data(), shape_.patch_size(), col_.data(), cols, T(0), ycm_.data(),
                  cols);
    y_.resize(batch, out_ * P);
    kernels::from_channel_major(ycm_.data(), batch, out_, P, y_.data(),
                                options_.bias ? bias_.value.data() : nullptr, options_.activation,
                                static_cast<T>(options_.negative_slope));
    return y_;
  }

  /// dZ' = dY * act'(Z) (channel-major); dW += dZ' col^T; db += row sums of dZ';
  /// dX = col2im(W^T dZ').
  const Tensor<T>& backward(const Tensor<T>& dy) override {
    check_same_shape(dy, y_, [&] { return "Conv2d '" + this->name() + "' backward (dY vs Y)"; });
    const Index batch = dy.rows(), P = shape_.out_positions(), cols = batch * P;
    const Index patch = shape_.patch_size();
    dzcm_.resize(out_, cols);
    kernels::to_channel_major_backward(dy.data(), y_.data(), batch, out_, P, dzcm_.data(),
                                       options_.activation,
                                       static_cast<T>(options_.negative_slope));
    kernels::gemm(kernels::Trans::no, kernels::Trans::yes, out_, patch, cols, T(1), dzcm_.data(),
                  cols, col_.data(), cols, T(1), weight_.grad.data(), patch);
    if (options_.bias) kernels::channel_sums(dzcm_.data(), 1, out_, cols, bias_.grad.data(), true);
    if (!this->needs_input_grad()) {
      dx_.resize(0, shape_.image_size());
      return dx_;
    }
    dcol_.resize(patch, cols);
    kernels::gemm(kernels::Trans::yes, kernels::Trans::no, patch, cols, out_, T(1),
                  weight_.value.data(), patch, dzcm_.data(), cols, T(0), dcol_.data(), cols);
    dx_.resize(batch, shape_.image_size());
    kernels::col2im(dcol_.data(), batch, shape_, dx_.data());
    return dx_;
  }

  std::vector<Param<T>*> params() override {
    if (options_.bias) return {&weight_, &bias_};
    return {&weight_};
  }

  void set_name(const std::string& name) override {
    Module<T>::set_name(name);
    weight_.name = this->child_name("weight");
    bias_.name = this->child_name("bias");
  }

  /// Input channels.
  Index in_channels() const { return shape_.channels; }
  /// Output channels.
  Index out_channels() const { return out_; }
  /// Input rows.
  Index in_height() const { return shape_.height; }
  /// Input columns.
  Index in_width() const { return shape_.width; }
  /// Output rows.
  Index out_height() const { return shape_.out_height(); }
  /// Output columns.
  Index out_width() const { return shape_.out_width(); }
  /// Values of an input row: C*H*W.
  Index in_features() const { return shape_.image_size(); }
  /// Values of an output row: C*H*W.
  Index out_features() const { return out_ * shape_.out_positions(); }
  /// The input geometry: channels, size, kernel, stride, padding.
  const kernels::ConvShape& shape() const { return shape_; }
  /// The kernel weights (PyTorch's layout, one row per output channel).
  Param<T>& weight() { return weight_; }
  /// The bias, one value per output channel (empty without bias).
  Param<T>& bias() { return bias_; }

 private:
  kernels::ConvShape shape_;
  Index out_;
  Conv2dOptions options_;
  Param<T> weight_, bias_;
  Tensor<T> col_, ycm_, y_, dzcm_, dcol_, dx_;
};

}  // namespace aigc
