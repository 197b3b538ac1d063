/// @file
/// aigc: fully connected layer, Y = act(X W^T + b), with PyTorch's default initialisation.
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
#include "aigc/layers/precision.hpp"
#include "aigc/layers/spectral_norm.hpp"

namespace aigc {

/// Options of a Dense layer.
struct DenseOptions {
  bool bias = true;                              ///< whether the layer has a bias b
  Activation activation = Activation::identity;  ///< fused into the layer's output pass
  double negative_slope = 0.01;                  ///< for Activation::leaky_relu
};

/// A fully connected layer: Y = act(X W^T + b), W out x in, b 1 x out, the activation fused
/// into the GEMM's output pass. Parameters "<name>.weight" and "<name>.bias".
template <class T>
class Dense : public Module<T>, public SpectralNormalizable<T>, public PrecisionSettable {
 public:
  /// The layer's type in model files.
  static constexpr const char* type_name = "Dense";

  /// Weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)), as torch.nn.Linear.
  Dense(Index in_features, Index out_features, Rng& rng, DenseOptions options = {})
      : out_(out_features), options_(options) {
    if (in_features <= 0 || out_features <= 0) {
      throw ArgumentError("Dense: sizes must be positive, got in=" + std::to_string(in_features) +
                          " out=" + std::to_string(out_features));
    }
    check_options();
    initialise(in_features, rng);
    set_name("");
  }

  /// A Dense whose input size is left open: it is taken from the first input shape the layer is
  /// told (set_input_shape, e.g. by the Sequential it joins) or else from its first input, and
  /// the weights are drawn from `rng` then, exactly as the sized constructor draws them (so `rng`
  /// must outlive that moment; a Sequential that knows its shape does it at once).
  Dense(Index out_features, Rng& rng, DenseOptions options = {})
      : out_(out_features), options_(options), pending_rng_(&rng) {
    if (out_features <= 0) {
      throw ArgumentError("Dense: out_features must be positive, got " +
                          std::to_string(out_features));
    }
    check_options();
    set_name("");
  }

  /// Writes the sizes and options to a model file's configuration.
  void write_config(Config& c) const {
    if (in_ == 0) {
      throw ArgumentError("Dense '" + this->name() +
                          "': its input size is not known yet (set its input shape or run it)");
    }
    c.set_int("in_features", in_);
    c.set_int("out_features", out_);
    c.set_bool("bias", options_.bias);
    c.set_string("activation", activation_name(options_.activation));
    c.set_double("negative_slope", options_.negative_slope);
    if (spectral_norm_.on()) c.set_bool("spectral_norm", true);
  }
  /// The layer of a model file's configuration (its values are overwritten by the file's).
  static std::unique_ptr<Dense> from_config(const Config& c) {
    const Index in = c.get_int("in_features", 1, config_max_size);
    const Index out = c.get_int("out_features", 1, config_max_size);
    const DenseOptions o{.bias = c.get_bool("bias"),
                         .activation = activation_from_name(c.get_string("activation")),
                         .negative_slope = c.get_double("negative_slope", 0.0, 1e6)};
    c.check_elements(Config::product(in + 1, out), "the weight and bias");
    Rng rng(0);
    auto layer = std::make_unique<Dense>(in, out, rng, o);
    if (c.contains("spectral_norm") && c.get_bool("spectral_norm")) layer->enable_spectral_norm(0);
    return layer;
  }

  /// Takes the input size from `shape` (a size left open), or checks it against the layer's.
  void set_input_shape(const SampleShape& shape) override {
    const Index features = sample_size(shape);
    if (in_ == 0 && features > 0) {
      initialise(features, *pending_rng_);
      pending_rng_ = nullptr;
    } else if (features != in_) {
      throw ShapeError("Dense '" + this->name() + "': input shape " + sample_shape_string(shape) +
                       " has " + std::to_string(features) + " values, the layer takes " +
                       std::to_string(in_));
    }
    Module<T>::set_input_shape(shape);
  }
  /// {out_features}.
  SampleShape output_shape() const override { return {out_}; }

  /// Y = act(X W^T + b)
  const Tensor<T>& forward(const Tensor<T>& x) override {
    if (in_ == 0) set_input_shape({x.cols()});
    check_cols(x, in_, [&] { return "Dense '" + this->name() + "' forward"; });
    x_in_ = &x;  // kept for backward's dW = dZ^T X: a pointer when x stays, else a copy
    if (!this->input_stable()) {
      x_.resize(x.rows(), x.cols());
      kernels::copy(x.data(), x_.data(), x.size());
      x_in_ = &x_;
    }
    y_.resize(x.rows(), out_);
    const T* w = spectral_norm_.on() ? spectral_norm_.normalized(weight_.value).data()
                                     : weight_.value.data();
    const T* bias = options_.bias ? bias_.value.data() : nullptr;
    const auto slope = static_cast<T>(options_.negative_slope);
    if (this->precision_ == Precision::bf16) {
      kernels::gemm_in<T>(this->precision_, kernels::Trans::no, kernels::Trans::yes, x.rows(), out_,
                          in_, T(1), x.data(), in_, w, in_, T(0), y_.data(), out_);
      kernels::bias_activation_forward(y_.data(), bias, x.rows(), out_, options_.activation, slope);
      return y_;
    }
    kernels::gemm_bias_activation(kernels::Trans::no, kernels::Trans::yes, x.rows(), out_, in_,
                                  T(1), x.data(), in_, w, in_, T(0), y_.data(), out_, bias,
                                  options_.activation, slope);
    return y_;
  }

  /// dZ = dY * act'(Z); dW += dZ^T X; db += sum_rows dZ (unless needs_param_grads() is off);
  /// dX = dZ W. With spectral norm, W is W_sn in both and dW goes through SpectralNorm::backward.
  const Tensor<T>& backward(const Tensor<T>& dy) override {
    check_same_shape(dy, y_, [&] { return "Dense '" + this->name() + "' backward (dY vs Y)"; });
    const T* dz = dy.data();
    if (options_.activation != Activation::identity) {
      dz_.resize(dy.rows(), out_);
      kernels::activation_backward(dy.data(), y_.data(), dz_.data(), dy.size(), options_.activation,
                                   static_cast<T>(options_.negative_slope));
      dz = dz_.data();
    }
    const Index batch = dy.rows();
    if (this->needs_param_grads()) {
      const bool sn = spectral_norm_.on();
      T* dw = sn ? spectral_norm_.dweight_normalized(weight_.value).data() : weight_.grad.data();
      kernels::gemm_in<T>(this->precision_, kernels::Trans::yes, kernels::Trans::no, out_, in_,
                          batch, T(1), dz, out_, x_in_->data(), in_, sn ? T(0) : T(1), dw, in_);
      if (sn) spectral_norm_.backward(weight_.grad);
      if (options_.bias) kernels::column_sums(dz, batch, out_, bias_.grad.data(), true);
    }
    if (!this->needs_input_grad()) {
      no_dx_.resize(0, in_);  // a separate empty tensor: dx_ keeps its buffer for later calls
      return no_dx_;
    }
    dx_.resize(batch, in_);
    const T* w =
        spectral_norm_.on() ? spectral_norm_.normalized_weight().data() : weight_.value.data();
    if (this->precision_ == Precision::bf16) {
      kernels::gemm_in<T>(this->precision_, kernels::Trans::no, kernels::Trans::no, batch, in_,
                          out_, T(1), dz, out_, w, in_, T(0), dx_.data(), in_);
      return dx_;
    }
    kernels::gemm_by_weights(batch, in_, out_, dz, w, dx_.data());
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

  /// Input features per sample.
  Index in_features() const { return in_; }
  /// Output features per sample.
  Index out_features() const { return out_; }
  /// The options given at construction.
  const DenseOptions& options() const { return options_; }
  /// W, out_features x in_features.
  Param<T>& weight() { return weight_; }
  /// b, 1 x out_features (empty without bias).
  Param<T>& bias() { return bias_; }

 private:
  using SpectralNormalizable<T>::spectral_norm_;
  Param<T>& normalized_param() override { return weight_; }
  void check_options() const {
    if (options_.activation == Activation::leaky_relu && !(options_.negative_slope > 0.0)) {
      throw ArgumentError("Dense: negative_slope must be > 0 for leaky_relu");
    }
  }

  /// W and b ~ U(-1/sqrt(in), 1/sqrt(in)), W first.
  void initialise(Index in_features, Rng& rng) {
    in_ = in_features;
    weight_ = Param<T>(this->child_name("weight"), out_, in_features);
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    rng.fill_uniform(weight_.value, -bound, bound);
    if (options_.bias) {
      bias_ = Param<T>(this->child_name("bias"), 1, out_);
      rng.fill_uniform(bias_.value, -bound, bound);
    }
  }

  Index in_ = 0, out_;
  DenseOptions options_;
  Rng* pending_rng_ = nullptr;  ///< the generator of the weights, while the input size is open
  Param<T> weight_, bias_;
  std::vector<Tensor<T>*> work_buffers() override { return {&x_, &y_, &dz_, &dx_}; }
  Tensor<T> x_, y_, dz_, dx_, no_dx_;
  const Tensor<T>* x_in_ = &x_;  ///< forward's input (x_ or the caller's stable tensor)
};

}  // namespace aigc
