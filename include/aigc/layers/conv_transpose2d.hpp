/// @file
/// aigc: 2-d transposed convolution over NCHW images (batch x C*H*W), the adjoint of Conv2d:
/// Y = act(col2im(W^T X) + b), one GEMM per batch, with PyTorch's weight layout and default
/// initialisation.
#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "aigc/core/config.hpp"
#include "aigc/core/module.hpp"
#include "aigc/core/rng.hpp"
#include "aigc/kernels/elementwise.hpp"
#include "aigc/kernels/gemm.hpp"
#include "aigc/kernels/gemm_col2im.hpp"
#include "aigc/kernels/im2col.hpp"
#include "aigc/kernels/im2col_gemm.hpp"
#include "aigc/layers/conv2d.hpp"
#include "aigc/layers/precision.hpp"
#include "aigc/layers/spectral_norm.hpp"

namespace aigc {

/// Options of ConvTranspose2d.
struct ConvTranspose2dOptions {
  Index stride = 1;                              ///< Step between output positions.
  Index padding = 0;                             ///< Zeros added on each side of the input.
  bool bias = true;                              ///< Whether the layer has a bias.
  Activation activation = Activation::identity;  ///< fused into the layer's output pass
  double negative_slope = 0.01;                  ///< for Activation::leaky_relu
};

/// Output height (or width) of a transposed convolution: (in - 1) stride - 2 padding + kernel.
inline Index conv_transpose2d_output_size(Index in, Index kernel, Index stride, Index padding) {
  return (in - 1) * stride - 2 * padding + kernel;
}

/// torch.nn.ConvTranspose2d with a square kernel, no output padding, dilation 1, one group. The
/// input height and width are given at construction or learnt from the input shape. Weight:
/// in_channels x out_channels*kernel*kernel.
template <class T>
class ConvTranspose2d : public Module<T>, public SpectralNormalizable<T>, public PrecisionSettable {
 public:
  /// The layer's type in model files.
  static constexpr const char* type_name = "ConvTranspose2d";

  /// Weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with PyTorch's fan_in for this layer,
  /// weight.size(1) * kernel^2 = out_channels * kernel^2.
  ConvTranspose2d(Index in_channels, Index out_channels, Index kernel, Index in_height,
                  Index in_width, Rng& rng, ConvTranspose2dOptions options = {})
      : ConvTranspose2d(in_channels, out_channels, kernel, rng, options) {
    set_image_size(in_height, in_width);
  }

  /// A ConvTranspose2d whose input height and width are left open: they are taken from the first
  /// input shape the layer is told (set_input_shape, e.g. by the Sequential it joins) or else
  /// from its first input, taken as square. The weights are drawn here, as by the sized
  /// constructor.
  ConvTranspose2d(Index in_channels, Index out_channels, Index kernel, Rng& rng,
                  ConvTranspose2dOptions options = {})
      : in_(in_channels), in_height_(0), in_width_(0), options_(options) {
    out_shape_ = {out_channels, 0, 0, kernel, options.stride, options.padding};
    if (in_channels <= 0 || out_channels <= 0 || kernel <= 0 || options.stride <= 0 ||
        options.padding < 0) {
      throw ArgumentError(
          "ConvTranspose2d: sizes must be positive (padding >= 0), got in_channels " +
          std::to_string(in_channels) + ", out_channels " + std::to_string(out_channels) +
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

  /// Writes the sizes and options to a model file's configuration.
  void write_config(Config& c) const {
    if (in_height_ == 0) {
      throw ArgumentError("ConvTranspose2d '" + this->name() +
                          "': its input height and width are not known yet (set its input shape "
                          "or run it)");
    }
    c.set_int("in_channels", in_);
    c.set_int("out_channels", out_shape_.channels);
    c.set_int("kernel", out_shape_.kernel);
    c.set_int("in_height", in_height_);
    c.set_int("in_width", in_width_);
    c.set_int("stride", options_.stride);
    c.set_int("padding", options_.padding);
    c.set_bool("bias", options_.bias);
    c.set_string("activation", activation_name(options_.activation));
    c.set_double("negative_slope", options_.negative_slope);
    if (spectral_norm_.on()) c.set_bool("spectral_norm", true);
  }
  /// The layer of a model file's configuration (its values are overwritten by the file's).
  static std::unique_ptr<ConvTranspose2d> from_config(const Config& c) {
    const Index in = c.get_int("in_channels", 1, config_max_size);
    const Index out = c.get_int("out_channels", 1, config_max_size);
    const Index kernel = c.get_int("kernel", 1, 1024);
    const Index h = c.get_int("in_height", 1, config_max_size);
    const Index w = c.get_int("in_width", 1, config_max_size);
    const ConvTranspose2dOptions o{.stride = c.get_int("stride", 1, 1024),
                                   .padding = c.get_int("padding", 0, 1024),
                                   .bias = c.get_bool("bias"),
                                   .activation = activation_from_name(c.get_string("activation")),
                                   .negative_slope = c.get_double("negative_slope", 0.0, 1e6)};
    c.check_elements(Config::product(Config::product(in, kernel * kernel) + 1, out),
                     "the weight and bias");
    c.check_sample({in, h, w}, "the input image");
    c.check_sample({out, conv_transpose2d_output_size(h, kernel, o.stride, 0),
                    conv_transpose2d_output_size(w, kernel, o.stride, 0)},
                   "the output image");
    Rng rng(0);
    auto layer = std::make_unique<ConvTranspose2d>(in, out, kernel, h, w, rng, o);
    if (c.contains("spectral_norm") && c.get_bool("spectral_norm")) layer->enable_spectral_norm(0);
    return layer;
  }

  /// Takes the input height and width from `shape` ({C, H, W}, or {C*H*W} of a square image)
  /// when open, or checks that a sample of `shape` holds the layer's C*H*W values.
  void set_input_shape(const SampleShape& shape) override {
    const Index n = sample_size(shape);
    const bool fits = in_height_ == 0
                          ? (shape.size() == 3 && shape[0] == in_) || detail::square_side(n, in_)
                          : n == in_features() && (shape.size() != 3 || shape[0] == in_);
    if (!fits) {
      const std::string want = in_height_ == 0 ? "{" + std::to_string(in_) + ", H, W}"
                                               : sample_shape_string({in_, in_height_, in_width_});
      throw ShapeError("ConvTranspose2d '" + this->name() + "': input shape " +
                       sample_shape_string(shape) + " does not fit the layer's " + want);
    }
    if (in_height_ == 0) {
      if (shape.size() == 3 && shape[0] == in_) {
        set_image_size(shape[1], shape[2]);
      } else {
        const Index side = detail::square_side(n, in_);
        set_image_size(side, side);
      }
    }
    Module<T>::set_input_shape(shape);
  }
  /// {out_channels, out_height, out_width} (empty while the input size is open).
  SampleShape output_shape() const override {
    if (in_height_ == 0) return {};
    return {out_shape_.channels, out_shape_.height, out_shape_.width};
  }

  /// Train or eval mode; whether the last forward kept its input is kept per mode, like the
  /// buffers.
  void set_training(bool on) override {
    if (on != this->training()) std::swap(xcm_kept_, other_mode_xcm_kept_);
    Module<T>::set_training(on);
  }

  /// X' = X channel-major (in x batch*H*W); Y = act(col2im(W^T X') + b), a few images at a time.
  const Tensor<T>& forward(const Tensor<T>& x) override {
    if (in_height_ == 0) infer_square_input(x);
    check_cols(x, in_features(), [&] {
      return "ConvTranspose2d '" + this->name() + "' forward (input " + std::to_string(in_) +
             " x " + std::to_string(in_height_) + " x " + std::to_string(in_width_) + ")";
    });
    const Index batch = x.rows(), P = in_height_ * in_width_, cols = batch * P;
    const Index patch = out_shape_.patch_size();
    if (one_position()) return forward_one_position(x);
    weight_t_.resize(patch, in_);  // W^T as a plain operand (see kernels::transpose)
    kernels::transpose(spectral_norm_.on() ? spectral_norm_.normalized(weight_.value).data()
                                           : weight_.value.data(),
                       in_, patch, weight_t_.data());
    y_.resize(batch, out_features());
    const T* bias = options_.bias ? bias_.value.data() : nullptr;
    const auto slope = static_cast<T>(options_.negative_slope);
    xcm_kept_ = this->training();
    if (!xcm_kept_) {  // eval mode: X' is not kept for a backward
      kernels::gemm_col2im_images(weight_t_.data(), in_, x.data(), batch, out_shape_, y_.data(),
                                  bias, options_.activation, slope, this->precision_);
      return y_;
    }
    xcm_.resize(in_, cols);
    kernels::to_channel_major(x.data(), batch, in_, P, xcm_.data());
    kernels::gemm_col2im(weight_t_.data(), in_, xcm_.data(), batch, out_shape_, y_.data(), bias,
                         options_.activation, slope, this->precision_);
    return y_;
  }

  /// dZ = dY * act'(Z); db += channel sums of dZ; dcol = im2col(dZ); dW += X' dcol^T;
  /// dX = W dcol back in NCHW (for one input pixel: dW += X^T dZ, dX = dZ W^T).
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
    const bool param_grads = this->needs_param_grads();
    if (options_.bias && param_grads) {
      kernels::channel_sums(dz, batch, out_shape_.channels, out_positions, bias_.grad.data(), true);
    }
    // One input pixel: dcol is dZ^T, and the products take dZ as it is (see one_position).
    // Else dcol is gathered chunk by chunk of images when the whole batch's would not fit the
    // cache.
    const bool one = one_position();
    const bool chunked = !one && kernels::im2col_chunked(patch, cols, sizeof(T));
    if (!one && !chunked) {
      dcol_.resize(patch, cols);
      kernels::im2col(dz, batch, out_shape_, dcol_.data());
    }
    if (param_grads) {
      if (!xcm_kept_) {
        throw ArgumentError("ConvTranspose2d '" + this->name() +
                            "' backward: the last forward ran in eval mode, which keeps no input "
                            "for the weight gradient; run forward in training mode");
      }
      const bool sn = spectral_norm_.on();
      T* dw = sn ? spectral_norm_.dweight_normalized(weight_.value).data() : weight_.grad.data();
      if (one) {  // dW += X^T dZ
        kernels::gemm_in<T>(this->precision_, kernels::Trans::yes, kernels::Trans::no, in_, patch,
                            batch, T(1), xcm_.data(), in_, dz, patch, sn ? T(0) : T(1), dw, patch);
      } else if (chunked) {
        kernels::im2col_weight_grad(xcm_.data(), in_, dz, batch, out_shape_, sn ? T(0) : T(1), dw,
                                    this->precision_);
      } else {
        kernels::gemm_in<T>(this->precision_, kernels::Trans::no, kernels::Trans::yes, in_, patch,
                            cols, T(1), xcm_.data(), cols, dcol_.data(), cols, sn ? T(0) : T(1), dw,
                            patch);
      }
      if (sn) spectral_norm_.backward(weight_.grad);
    }
    if (!this->needs_input_grad()) {
      no_dx_.resize(0, in_features());  // dx_ keeps its storage for the next call
      return no_dx_;
    }
    const T* w =
        spectral_norm_.on() ? spectral_norm_.normalized_weight().data() : weight_.value.data();
    dx_.resize(batch, in_features());
    if (one) {  // dX = dZ W^T
      kernels::gemm_in<T>(this->precision_, kernels::Trans::no, kernels::Trans::yes, batch, in_,
                          patch, T(1), dz, patch, w, patch, T(0), dx_.data(), in_);
      return dx_;
    }
    if (chunked) {
      kernels::im2col_gemm(w, in_, dz, batch, out_shape_, dx_.data(),
                           static_cast<const T*>(nullptr), Activation::identity, T(0),
                           this->precision_);
      return dx_;
    }
    dxcm_.resize(in_, cols);
    kernels::gemm_in<T>(this->precision_, kernels::Trans::no, kernels::Trans::no, in_, cols, patch,
                        T(1), w, patch, dcol_.data(), cols, T(0), dxcm_.data(), cols);
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
    spectral_norm_.set_names(this->child_name("weight_u"), this->child_name("weight_v"));
  }

  /// "<name>.weight_u" and "<name>.weight_v", its spectral norm's (when on).
  std::vector<Buffer<T>*> buffers() override { return spectral_norm_.buffers(); }

  Index in_channels() const { return in_; }                   ///< Channels of an input image.
  Index out_channels() const { return out_shape_.channels; }  ///< Channels of an output image.
  Index in_height() const { return in_height_; }              ///< Height of an input image.
  Index in_width() const { return in_width_; }                ///< Width of an input image.
  Index out_height() const { return out_shape_.height; }      ///< Height of an output image.
  Index out_width() const { return out_shape_.width; }        ///< Width of an output image.
  Index in_features() const { return in_ * in_height_ * in_width_; }  ///< C*H*W of an input row
  Index out_features() const { return out_shape_.image_size(); }      ///< of an output row
  Index kernel() const { return out_shape_.kernel; }  ///< Side of the square kernel.
  /// The options given at construction.
  const ConvTranspose2dOptions& options() const { return options_; }
  Param<T>& weight() { return weight_; }  ///< The weight (see the class comment for its layout).
  /// The bias, one per output channel (unused when the layer has none).
  Param<T>& bias() { return bias_; }

 private:
  using SpectralNormalizable<T>::spectral_norm_;
  Param<T>& normalized_param() override { return weight_; }
  void set_image_size(Index height, Index width) {
    const Index kernel = out_shape_.kernel, stride = options_.stride, padding = options_.padding;
    const Index oh = conv_transpose2d_output_size(height, kernel, stride, padding);
    const Index ow = conv_transpose2d_output_size(width, kernel, stride, padding);
    if (height <= 0 || width <= 0 || oh <= 0 || ow <= 0) {
      throw ArgumentError(
          "ConvTranspose2d: sizes must be positive (padding >= 0, output >= 1), got in " +
          std::to_string(in_) + " x " + std::to_string(height) + " x " + std::to_string(width) +
          ", out_channels " + std::to_string(out_shape_.channels) + ", kernel " +
          std::to_string(kernel) + ", stride " + std::to_string(stride) + ", padding " +
          std::to_string(padding));
    }
    in_height_ = height;
    in_width_ = width;
    out_shape_.height = oh;
    out_shape_.width = ow;
  }

  /// Whether an input image is one pixel and nothing is padded (the generator's first layer,
  /// z as 1 x 1 images): then col2im places each row of col at its own output value, and the layer
  /// is a product with the weight as it is stored, Y = X W (batch x out*k*k, NCHW already).
  bool one_position() const { return in_height_ == 1 && in_width_ == 1 && options_.padding == 0; }

  /// Y = act(X W + b): the values of col2im(W^T X') in their output places, each the same sum in
  /// the same order (the GEMM's sums do not depend on which operand is which), without col,
  /// col2im or W^T (the 64x64 DCGAN's first layer, 2 threads, batch 256: 7.1-7.4 ms through col2im,
  /// 1.1 ms as a product, measured).
  const Tensor<T>& forward_one_position(const Tensor<T>& x) {
    const Index batch = x.rows(), patch = out_shape_.patch_size();
    const T* w = spectral_norm_.on() ? spectral_norm_.normalized(weight_.value).data()
                                     : weight_.value.data();
    xcm_kept_ = this->training();
    if (xcm_kept_) {  // X as it is (one position per image: X' is X^T), for the weight gradient
      xcm_.resize(batch, in_);
      kernels::copy(x.data(), xcm_.data(), x.size());
    }
    y_.resize(batch, patch);
    kernels::gemm_in<T>(this->precision_, kernels::Trans::no, kernels::Trans::no, batch, patch, in_,
                        T(1), x.data(), in_, w, patch, T(0), y_.data(), patch);
    if (options_.bias || options_.activation != Activation::identity) {  // as col2im applies them
      const Index kk = out_shape_.kernel * out_shape_.kernel;
      kernels::plane_bias_activation(y_.data(), batch, out_shape_.channels, kk,
                                     options_.bias ? bias_.value.data() : nullptr,
                                     options_.activation, static_cast<T>(options_.negative_slope));
    }
    return y_;
  }

  /// H = W = sqrt(cols / C) from the first input, when nobody told the layer its input shape.
  void infer_square_input(const Tensor<T>& x) {
    if (detail::square_side(x.cols(), in_) == 0) {
      throw ShapeError("ConvTranspose2d '" + this->name() + "': input size unknown and the input " +
                       shape_string(x) + " is not " + std::to_string(in_) +
                       " square images; give the layer (or its Sequential) the input shape");
    }
    set_input_shape({x.cols()});
  }

  Index in_, in_height_, in_width_;
  kernels::ConvShape out_shape_;
  ConvTranspose2dOptions options_;
  Param<T> weight_, bias_;
  bool xcm_kept_ = false;  ///< whether xcm_ holds the last forward's input
  bool other_mode_xcm_kept_ = false;
  std::vector<Tensor<T>*> work_buffers() override {
    return {&xcm_, &y_, &dz_, &dcol_, &dxcm_, &dx_};
  }
  Tensor<T> xcm_, weight_t_, y_, dz_, dcol_, dxcm_, dx_, no_dx_;
};

}  // namespace aigc
