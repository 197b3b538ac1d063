/// @file
/// aigc: 2-d convolution over NCHW images (batch x C*H*W), Y = act(W * X + b), lowered onto one
/// GEMM per batch through im2col (or chunk by chunk of images when the batch's im2col matrix
/// would not fit the cache), with PyTorch's weight layout and default initialisation.
#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "aigc/core/config.hpp"
#include "aigc/core/module.hpp"
#include "aigc/core/rng.hpp"
#include "aigc/kernels/elementwise.hpp"
#include "aigc/kernels/gemm.hpp"
#include "aigc/kernels/gemm_col2im.hpp"
#include "aigc/kernels/im2col.hpp"
#include "aigc/kernels/im2col_gemm.hpp"
#include "aigc/layers/precision.hpp"
#include "aigc/layers/spectral_norm.hpp"

namespace aigc {

/// Options of Conv2d.
struct Conv2dOptions {
  Index stride = 1;                              ///< Step between output positions.
  Index padding = 0;                             ///< Zeros added on each side of the input.
  bool bias = true;                              ///< Whether the layer has a bias.
  Activation activation = Activation::identity;  ///< fused into the layer's output pass
  double negative_slope = 0.01;                  ///< for Activation::leaky_relu
};

namespace detail {

/// The side of `channels` square images of `values` values in all, or 0 when there is none.
inline Index square_side(Index values, Index channels) {
  if (channels <= 0 || values <= 0 || values % channels != 0) return 0;
  const Index pixels = values / channels;
  const auto side = static_cast<Index>(std::llround(std::sqrt(static_cast<double>(pixels))));
  return side * side == pixels ? side : 0;
}

}  // namespace detail

/// Output height (or width) of a convolution: (in + 2 padding - kernel) / stride + 1.
inline Index conv2d_output_size(Index in, Index kernel, Index stride, Index padding) {
  return (in + 2 * padding - kernel) / stride + 1;
}

/// torch.nn.Conv2d with a square kernel, dilation 1, one group. The input height and width are
/// given at construction or learnt from the input shape (rows carry no shape). Weight: out_channels
/// x in_channels*kernel*kernel.
template <class T>
class Conv2d : public Module<T>, public SpectralNormalizable<T>, public PrecisionSettable {
 public:
  /// The layer's type in model files.
  static constexpr const char* type_name = "Conv2d";

  /// Weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels * kernel^2, as
  /// torch.nn.Conv2d.
  Conv2d(Index in_channels, Index out_channels, Index kernel, Index in_height, Index in_width,
         Rng& rng, Conv2dOptions options = {})
      : Conv2d(in_channels, out_channels, kernel, rng, options) {
    set_image_size(in_height, in_width);
  }

  /// A Conv2d whose input height and width are left open: they are taken from the first input
  /// shape the layer is told (set_input_shape, e.g. by the Sequential it joins) or else from its
  /// first input, taken as square. The weights are drawn here, as by the sized constructor.
  Conv2d(Index in_channels, Index out_channels, Index kernel, Rng& rng, Conv2dOptions options = {})
      : shape_{in_channels, 0, 0, kernel, options.stride, options.padding},
        out_(out_channels),
        options_(options) {
    if (in_channels <= 0 || kernel <= 0 || options.stride <= 0 || options.padding < 0) {
      throw ArgumentError("Conv2d: sizes must be positive (padding >= 0), got in_channels " +
                          std::to_string(in_channels) + ", kernel " + std::to_string(kernel) +
                          ", stride " + std::to_string(options.stride) + ", padding " +
                          std::to_string(options.padding));
    }
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

  /// Writes the sizes and options to a model file's configuration.
  void write_config(Config& c) const {
    if (shape_.height == 0) {
      throw ArgumentError("Conv2d '" + this->name() +
                          "': its input height and width are not known yet (set its input shape "
                          "or run it)");
    }
    c.set_int("in_channels", shape_.channels);
    c.set_int("out_channels", out_);
    c.set_int("kernel", shape_.kernel);
    c.set_int("in_height", shape_.height);
    c.set_int("in_width", shape_.width);
    c.set_int("stride", options_.stride);
    c.set_int("padding", options_.padding);
    c.set_bool("bias", options_.bias);
    c.set_string("activation", activation_name(options_.activation));
    c.set_double("negative_slope", options_.negative_slope);
    if (spectral_norm_.on()) c.set_bool("spectral_norm", true);
  }
  /// The layer of a model file's configuration (its values are overwritten by the file's).
  static std::unique_ptr<Conv2d> from_config(const Config& c) {
    const Index in = c.get_int("in_channels", 1, config_max_size);
    const Index out = c.get_int("out_channels", 1, config_max_size);
    const Index kernel = c.get_int("kernel", 1, 1024);
    const Index h = c.get_int("in_height", 1, config_max_size);
    const Index w = c.get_int("in_width", 1, config_max_size);
    const Conv2dOptions o{.stride = c.get_int("stride", 1, 1024),
                          .padding = c.get_int("padding", 0, 1024),
                          .bias = c.get_bool("bias"),
                          .activation = activation_from_name(c.get_string("activation")),
                          .negative_slope = c.get_double("negative_slope", 0.0, 1e6)};
    c.check_elements(Config::product(Config::product(in, kernel * kernel) + 1, out),
                     "the weight and bias");
    c.check_sample({in, h, w}, "the input image");
    c.check_sample({out, h + 2 * o.padding, w + 2 * o.padding}, "the output image");
    Rng rng(0);
    auto layer = std::make_unique<Conv2d>(in, out, kernel, h, w, rng, o);
    if (c.contains("spectral_norm") && c.get_bool("spectral_norm")) layer->enable_spectral_norm(0);
    return layer;
  }

  /// Takes the input height and width from `shape` ({C, H, W}, or {C*H*W} of a square image)
  /// when open, or checks that a sample of `shape` holds the layer's C*H*W values.
  void set_input_shape(const SampleShape& shape) override {
    const Index C = shape_.channels, n = sample_size(shape);
    if (shape_.height == 0) {
      if (shape.size() == 3 && shape[0] == C) {
        set_image_size(shape[1], shape[2]);
      } else {
        const Index side = detail::square_side(n, C);
        if (side == 0) throw ShapeError(shape_message(shape));
        set_image_size(side, side);
      }
    } else if (n != shape_.image_size() || (shape.size() == 3 && shape[0] != C)) {
      throw ShapeError(shape_message(shape));
    }
    Module<T>::set_input_shape(shape);
  }
  /// {out_channels, out_height, out_width} (empty while the input size is open).
  SampleShape output_shape() const override {
    if (shape_.height == 0) return {};
    return {out_, shape_.out_height(), shape_.out_width()};
  }

  /// col = im2col(X); Y' = W col (out_channels x batch*OH*OW); Y = act(Y' + b) back in NCHW.
  const Tensor<T>& forward(const Tensor<T>& x) override {
    if (shape_.height == 0) infer_square_input(x);
    check_cols(x, shape_.image_size(), [&] {
      return "Conv2d '" + this->name() + "' forward (input " + shape_.to_string() + ")";
    });
    const Index batch = x.rows(), P = shape_.out_positions(), cols = batch * P;
    const T* w = spectral_norm_.on() ? spectral_norm_.normalized(weight_.value).data()
                                     : weight_.value.data();
    if (one_position()) {  // col is X^T: the products take X as it is, in either mode
      keep_input(x);
      weight_grad_ready_ = true;
      ycm_.resize(out_, batch);
      kernels::gemm_in<T>(this->precision_, kernels::Trans::no, kernels::Trans::yes, out_, batch,
                          shape_.patch_size(), T(1), w, shape_.patch_size(), x.data(),
                          shape_.patch_size(), T(0), ycm_.data(), batch);
      y_.resize(batch, out_);
      kernels::from_channel_major(ycm_.data(), batch, out_, 1, y_.data(),
                                  options_.bias ? bias_.value.data() : nullptr, options_.activation,
                                  static_cast<T>(options_.negative_slope));
      return y_;
    }
    // A col of 16 MB or more, too large for the cache, is gathered chunk by chunk
    // (kernels::im2col_gemm), and again by the weight gradient (kernels::im2col_weight_grad), from
    // x, which a training forward keeps (a pointer when x stays until the backward, else a copy):
    // faster than one col of the whole batch through memory (the 64x64 DCGAN's second to fourth
    // layers, cols of 134, 67 and 34 MB), and without that col. When no dW follows (eval mode, or
    // training with the parameter gradients off: a GAN's D in G's step), nothing gathers it again.
    // When col has fewer than 128 rows, dW gathers the whole col again from x, a copy of a few
    // input channels, and multiplies it as the unchunked layer does (the same bits), while the
    // forward's output never goes through memory channel-major (the 64x64 DCGAN's first D layer,
    // 2 threads: 3.3 ms against 5.2). A training forward keeps x in either case, for a dW asked
    // for after all.
    const Index patch = shape_.patch_size();
    if (kernels::im2col_chunked_forward(patch, cols, sizeof(T))) {
      weight_grad_ready_ = this->training();  // an eval forward keeps no x for dW
      if (this->training()) keep_input(x);
      y_.resize(batch, out_ * P);
      kernels::im2col_gemm(w, out_, x.data(), batch, shape_, y_.data(),
                           options_.bias ? bias_.value.data() : nullptr, options_.activation,
                           static_cast<T>(options_.negative_slope), this->precision_);
      return y_;
    }
    col_kept_ = weight_grad_ready_ = true;  // col_ is this forward's, in either mode
    col_.resize(shape_.patch_size(), cols);
    kernels::im2col(x.data(), batch, shape_, col_.data());
    ycm_.resize(out_, cols);
    kernels::gemm_in<T>(this->precision_, kernels::Trans::no, kernels::Trans::no, out_, cols,
                        shape_.patch_size(), T(1), w, shape_.patch_size(), col_.data(), cols, T(0),
                        ycm_.data(), cols);
    y_.resize(batch, out_ * P);
    kernels::from_channel_major(ycm_.data(), batch, out_, P, y_.data(),
                                options_.bias ? bias_.value.data() : nullptr, options_.activation,
                                static_cast<T>(options_.negative_slope));
    return y_;
  }

  /// dZ' = dY * act'(Z) (channel-major); dW += dZ' col^T; db += row sums of dZ' (unless
  /// needs_param_grads() is off); dX = col2im(W^T dZ'), a few images at a time. With spectral norm,
  /// W is W_sn in both and dW goes through SpectralNorm::backward.
  const Tensor<T>& backward(const Tensor<T>& dy) override {
    check_same_shape(dy, y_, [&] { return "Conv2d '" + this->name() + "' backward (dY vs Y)"; });
    const Index batch = dy.rows(), P = shape_.out_positions(), cols = batch * P;
    const Index patch = shape_.patch_size();
    dzcm_.resize(out_, cols);
    kernels::to_channel_major_backward(dy.data(), y_.data(), batch, out_, P, dzcm_.data(),
                                       options_.activation,
                                       static_cast<T>(options_.negative_slope));
    if (this->needs_param_grads()) {
      if (!weight_grad_ready_) {
        throw ArgumentError("Conv2d '" + this->name() +
                            "' backward: the last forward ran in eval mode on a large input, "
                            "which keeps no input for the weight gradient; run forward in "
                            "training mode");
      }
      const bool sn = spectral_norm_.on();
      T* dw = sn ? spectral_norm_.dweight_normalized(weight_.value).data() : weight_.grad.data();
      if (one_position()) {  // dW += dZ' X
        kernels::gemm_in<T>(this->precision_, kernels::Trans::no, kernels::Trans::no, out_, patch,
                            batch, T(1), dzcm_.data(), batch, x_in_->data(), patch,
                            sn ? T(0) : T(1), dw, patch);
      } else if (!col_kept_ && kernels::im2col_chunked(patch, cols, sizeof(T))) {
        kernels::im2col_weight_grad(dzcm_.data(), out_, x_in_->data(), batch, shape_,
                                    sn ? T(0) : T(1), dw, this->precision_);
      } else {
        if (!col_kept_) {  // the forward was chunked; dW multiplies the whole col
          col_.resize(patch, cols);
          kernels::im2col(x_in_->data(), batch, shape_, col_.data());
        }
        kernels::gemm_in<T>(this->precision_, kernels::Trans::no, kernels::Trans::yes, out_, patch,
                            cols, T(1), dzcm_.data(), cols, col_.data(), cols, sn ? T(0) : T(1), dw,
                            patch);
      }
      if (sn) spectral_norm_.backward(weight_.grad);
      if (options_.bias) {
        kernels::channel_sums(dzcm_.data(), 1, out_, cols, bias_.grad.data(), true);
      }
    }
    if (!this->needs_input_grad()) {
      no_dx_.resize(0, shape_.image_size());  // dx_ keeps its storage for the next call
      return no_dx_;
    }
    const T* w =
        spectral_norm_.on() ? spectral_norm_.normalized_weight().data() : weight_.value.data();
    if (one_position()) {  // dX = dZ'^T W
      dx_.resize(batch, patch);
      kernels::gemm_in<T>(this->precision_, kernels::Trans::yes, kernels::Trans::no, batch, patch,
                          out_, T(1), dzcm_.data(), batch, w, patch, T(0), dx_.data(), patch);
      return dx_;
    }
    weight_t_.resize(patch, out_);  // W^T as a plain operand (see kernels::transpose)
    kernels::transpose(w, out_, patch, weight_t_.data());
    dx_.resize(batch, shape_.image_size());
    kernels::gemm_col2im(weight_t_.data(), out_, dzcm_.data(), batch, shape_, dx_.data(),
                         static_cast<const T*>(nullptr), Activation::identity, T(0),
                         this->precision_);
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

  Index in_channels() const { return shape_.channels; }      ///< Channels of an input image.
  Index out_channels() const { return out_; }                ///< Channels of an output image.
  Index in_height() const { return shape_.height; }          ///< Height of an input image.
  Index in_width() const { return shape_.width; }            ///< Width of an input image.
  Index out_height() const { return shape_.out_height(); }   ///< Height of an output image.
  Index out_width() const { return shape_.out_width(); }     ///< Width of an output image.
  Index in_features() const { return shape_.image_size(); }  ///< C*H*W of an input row
  Index out_features() const { return out_ * shape_.out_positions(); }  ///< of an output row
  /// The geometry of the convolution (input size, kernel, stride, padding).
  const kernels::ConvShape& shape() const { return shape_; }
  /// The options given at construction.
  const Conv2dOptions& options() const { return options_; }
  Param<T>& weight() { return weight_; }  ///< The weight (see the class comment for its layout).
  /// The bias, one per output channel (unused when the layer has none).
  Param<T>& bias() { return bias_; }

 private:
  using SpectralNormalizable<T>::spectral_norm_;
  Param<T>& normalized_param() override { return weight_; }
  void set_image_size(Index height, Index width) {
    shape_.height = height;
    shape_.width = width;
    shape_.validate(this->name().empty() ? "Conv2d" : "Conv2d '" + this->name() + "'");
  }

  std::string shape_message(const SampleShape& shape) const {
    const std::string c = std::to_string(shape_.channels);
    return "Conv2d '" + this->name() + "': input shape " + sample_shape_string(shape) +
           " does not fit the layer's " +
           (shape_.height == 0
                ? "{" + c + ", H, W}"
                : sample_shape_string({shape_.channels, shape_.height, shape_.width}));
  }

  /// Whether the kernel covers the whole unpadded input: one output position, where im2col's col
  /// is X^T (row (c k + i) k + j of column n is x[n, c, i, j]), so the products take X itself (a
  /// discriminator's last layer).
  bool one_position() const {
    return shape_.padding == 0 && shape_.kernel == shape_.height && shape_.kernel == shape_.width;
  }

  /// Keeps x for dW without col: a pointer when x stays until the backward, else a copy.
  void keep_input(const Tensor<T>& x) {
    col_kept_ = false;
    x_in_ = &x;
    if (!this->input_stable()) {
      x_.resize(x.rows(), x.cols());
      kernels::copy(x.data(), x_.data(), x.size());
      x_in_ = &x_;
    }
  }

  /// H = W = sqrt(cols / C) from the first input, when nobody told the layer its input shape.
  void infer_square_input(const Tensor<T>& x) {
    if (detail::square_side(x.cols(), shape_.channels) == 0) {
      throw ShapeError("Conv2d '" + this->name() + "': input size unknown and the input " +
                       shape_string(x) + " is not " + std::to_string(shape_.channels) +
                       " square images; give the layer (or its Sequential) the input shape");
    }
    set_input_shape({x.cols()});
  }

  kernels::ConvShape shape_;
  Index out_;
  Conv2dOptions options_;
  Param<T> weight_, bias_;
  std::vector<Tensor<T>*> work_buffers() override { return {&col_, &x_, &ycm_, &y_, &dzcm_, &dx_}; }
  Tensor<T> col_, x_, ycm_, y_, dzcm_, weight_t_, dx_, no_dx_;
  /// Whether the last forward kept col_ (else x_in_ for im2col_weight_grad).
  bool col_kept_ = true;
  bool weight_grad_ready_ = false;  ///< the last forward kept col_ or x_in_ for dW
  /// The last training forward's input, when its products were chunked (x_ or the caller's).
  const Tensor<T>* x_in_ = &x_;
};

}  // namespace aigc
