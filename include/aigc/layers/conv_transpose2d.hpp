/// @file
/// aigc: 2-d transposed convolution over NCHW images (batch x C*H*W), the adjoint of Conv2d:
/// Y = act(col2im(W^T X) + b), one GEMM per batch, with PyTorch's weight layout and default
/// initialisation.
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

/// Options of a ConvTranspose2d layer.
struct ConvTranspose2dOptions {
  Index stride = 1;   ///< step between kernel positions
  Index padding = 0;  ///< zeros added on every side (PyTorch's padding)
  bool bias = true;   ///< whether the layer has a bias per output channel
  Activation activation = Activation::identity;  ///< fused into the layer's output pass
  double negative_slope = 0.01;                  ///< for Activation::leaky_relu
};

/// Output height (or width) of a transposed convolution: (in - 1) stride - 2 padding + kernel.
inline Index conv_transpose2d_output_size(Index in, Index kernel, Index stride, Index padding) {
  return (in - 1) * stride - 2 * padding + kernel;
}

/// torch.nn.ConvTranspose2d with a square kernel, no output padding, dilation 1, one group. The
/// input size is fixed at construction. Weight: in_channels x out_channels*kernel*kernel.
template <class T>
class ConvTranspose2d : public Module<T> {
 public:
  /// Weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with PyTorch's fan_in for this layer,
  /// weight.size(1) * kernel^2 = out_channels * kernel^2.
  ConvTranspose2d(Index in_channels, Index out_channels, Index kernel, Index in_height,
                  Index in_width, Rng& rng, ConvTranspose2dOptions options = {})
      : in_(in_channels), in_height_(in_height), in_width_(in_width), options_(options) {
    // The geometry of the adjoint convolution: from the output image back to the input size.
    out_shape_ = {out_channels,
                  conv_transpose2d_output_size(in_height, kernel, options.stride, options.padding),
                  conv_transpose2d_output_size(in_width, kernel, options.stride, options.padding),
                  kernel,
                  options.stride,
                  options.padding};
    if (in_channels <= 0 || in_height <= 0 || in_width <= 0 || out_channels <= 0 || kernel <= 0 ||
        options.stride <= 0 || options.padding < 0 || out_shape_.height <= 0 ||
        out_shape_.width <= 0) {
      throw ArgumentError(
          "ConvTranspose2d: sizes must be positive (padding >= 0, output >= 1), got in " +
          std::to_string(in_channels) + " x " + std::to_string(in_height) + " x " +
          std::to_string(in_width) + ", out_channels " + std::to_string(out_channels) +
          ", kernel " + std::to_string(kernel) + ", stride " + std::to_string(options.stride) +
          ", padding " + std::to_string(options.padding));
    }
    if (options.activation == Activation::leaky_relu && !(options.negative_slope > 0.0)) {
      throw ArgumentError("ConvTranspose2d: negative_slope must be > 0 for leaky_relu");
    }
    const Index fan_in = out_shape_.patch_size();
    weight_ = Param<T>("weight", in_channels, fan_in);
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    rng.fill_uniform(weight_.value, -bound, bound);
    if (options.bias) {
      bias_ = Param<T>("bias", 1, out_channels);
      rng.fill_uniform(bias_.value, -bound, bound);
    }
    set_name("");
  }

  /// X' = X channel-major (in x batch*H*W); col = W^T X'; Y = act(col2im(col) + b).
  const Tensor<T>& forward(const Tensor<T>& x) override {
    check_cols(x, in_features(), [&] {
      return "ConvTranspose2d '" + this->name() + "' forward (input " + std::to_string(in_) +
             " x " + std::to_string(in_height_) + " x " + std::to_string(in_width_) + ")";
    });
    const Index batch = x.rows(), P = in_height_ * in_width_, cols = batch * P;
    const Index patch = out_shape_.patch_size();
    xcm_.resize(in_, cols);
    kernels::to_channel_major(x.data(), batch, in_, P, xcm_.data());
    col_.resize(patch, cols);
    kernels::gemm(kernels::Trans::yes, kernels::Trans::no, patch, cols, in_, T(1),
                  weight_.value.data(), patch, xcm_.data(), cols, T(0), col_.data(), cols);
    y_.resize(batch, out_features());
    kernels::col2im(col_.data(), batch, out_shape_, y_.data(), false,
                    options_.bias ? bias_.value.data() : nullptr, options_.activation,
                    static_cast<T>(options_.negative_slope));
    return y_;
  }

  /// dZ = dY * act'(Z); db += channel sums of dZ; dcol = im2col(dZ); dW += X' dcol^T;
  /// dX = W dcol back in NCHW.
  const Tensor<T>& backward(const Tensor<T>& dy) override {
    check_same_shape(dy, y_,
                     [&] { return "ConvTranspose2d '" + this->name() + "' backward (dY vs Y)"; });
    const Index batch = dy.rows(), P = in_height_ * in_width_, cols = batch * P;
    const Index patch = out_shape_.patch_size(),
                out_positions = out_shape_.height * out_shape_.width;
    const T* dz = dy.data();
    if (options_.activation != Activation::identity) {
      dz_.resize(dy.rows(), dy.cols());
      kernels::activation_backward(dy.data(), y_.data(), dz_.data(), dy.size(), options_.activation,
                                   static_cast<T>(options_.negative_slope));
      dz = dz_.data();
    }
    if (options_.bias) {
      kernels::channel_sums(dz, batch, out_shape_.channels, out_positions, bias_.grad.data(), true);
    }
    dcol_.resize(patch, cols);
    kernels::im2col(dz, batch, out_shape_, dcol_.data());
    kernels::gemm(kernels::Trans::no, kernels::Trans::yes, in_, patch, cols, T(1), xcm_.data(),
                  cols, dcol_.data(), cols, T(1), weight_.grad.data(), patch);
    if (!this->needs_input_grad()) {
      dx_.resize(0, in_features());
      return dx_;
    }
    dxcm_.resize(in_, cols);
    kernels::gemm(kernels::Trans::no, kernels::Trans::no, in_, cols, patch, T(1),
                  weight_.value.data(), patch, dcol_.data(), cols, T(0), dxcm_.data(), cols);
    dx_.resize(batch, in_features());
    kernels::from_channel_major(dxcm_.data(), batch, in_, P, dx_.data());
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
  Index in_channels() const { return in_; }
  /// Output channels.
  Index out_channels() const { return out_shape_.channels; }
  /// Input rows.
  Index in_height() const { return in_height_; }
  /// Input columns.
  Index in_width() const { return in_width_; }
  /// Output rows.
  Index out_height() const { return out_shape_.height; }
  /// Output columns.
  Index out_width() const { return out_shape_.width; }
  /// Values of an input row: C*H*W.
  Index in_features() const { return in_ * in_height_ * in_width_; }
  /// Values of an output row: C*H*W.
  Index out_features() const { return out_shape_.image_size(); }
  /// The kernel weights (PyTorch's layout, one row per input channel).
  Param<T>& weight() { return weight_; }
  /// The bias, one value per output channel (empty without bias).
  Param<T>& bias() { return bias_; }

 private:
  Index in_, in_height_, in_width_;
  kernels::ConvShape out_shape_;
  ConvTranspose2dOptions options_;
  Param<T> weight_, bias_;
  Tensor<T> xcm_, col_, y_, dz_, dcol_, dxcm_, dx_;
};

}  // namespace aigc
