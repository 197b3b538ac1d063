/// @file
/// aigc: pointwise activation layers: ReLU, LeakyReLU, Sigmoid, Tanh.
#pragma once

#include <memory>
#include <string>

#include "aigc/core/config.hpp"
#include "aigc/core/module.hpp"
#include "aigc/kernels/elementwise.hpp"

namespace aigc {

/// y = act(x); backward dx = dy * act'(x), computed from the cached output.
template <class T>
class ActivationLayer : public Module<T> {
 public:
  /// The layer of `act`; negative_slope (> 0) is used by Activation::leaky_relu only.
  explicit ActivationLayer(Activation act, double negative_slope = 0.01)
      : act_(act), slope_(static_cast<T>(negative_slope)) {
    if (act == Activation::leaky_relu && !(negative_slope > 0.0)) {
      throw ArgumentError("LeakyReLU: negative_slope must be > 0, got " +
                          std::to_string(negative_slope));
    }
  }

  /// The layer's type in model files.
  static constexpr const char* type_name = "Activation";
  /// Writes the activation and its slope to a model file's configuration.
  void write_config(Config& c) const {
    c.set_string("activation", activation_name(act_));
    c.set_double("negative_slope", static_cast<double>(slope_));
  }
  /// The layer of a model file's configuration.
  static std::unique_ptr<ActivationLayer> from_config(const Config& c) {
    const Activation act = activation_from_name(c.get_string("activation"));
    return std::make_unique<ActivationLayer>(act, c.get_double("negative_slope", 0.0, 1e6));
  }
  /// The input shape: the layer keeps it.
  SampleShape output_shape() const override { return this->input_shape(); }
  /// The activation computed.
  Activation activation() const { return act_; }
  /// The slope of LeakyReLU for negative inputs.
  double negative_slope() const { return static_cast<double>(slope_); }

  const Tensor<T>& forward(const Tensor<T>& x) override {
    y_.resize(x.rows(), x.cols());
    kernels::activation_forward(x.data(), y_.data(), x.size(), act_, slope_);
    return y_;
  }

  const Tensor<T>& backward(const Tensor<T>& dy) override {
    check_same_shape(dy, y_,
                     [&] { return "activation '" + this->name() + "' backward (dY vs Y)"; });
    dx_.resize(dy.rows(), dy.cols());
    kernels::activation_backward(dy.data(), y_.data(), dx_.data(), dy.size(), act_, slope_);
    return dx_;
  }

 private:
  Activation act_;
  T slope_;
  std::vector<Tensor<T>*> work_buffers() override { return {&y_, &dx_}; }
  Tensor<T> y_, dx_;
};

/// y = max(x, 0).
template <class T>
class ReLU : public ActivationLayer<T> {
 public:
  ReLU() : ActivationLayer<T>(Activation::relu) {}
  /// The layer's type in model files.
  static constexpr const char* type_name = "ReLU";
  /// A ReLU has no options.
  void write_config(Config&) const {}
  /// The layer of a model file's configuration (which holds nothing).
  static std::unique_ptr<ReLU> from_config(const Config&) { return std::make_unique<ReLU>(); }
};

/// y = x for x > 0, else negative_slope * x.
template <class T>
class LeakyReLU : public ActivationLayer<T> {
 public:
  /// A LeakyReLU with the given slope (> 0) for negative inputs.
  explicit LeakyReLU(double negative_slope = 0.01)
      : ActivationLayer<T>(Activation::leaky_relu, negative_slope) {}
  /// The layer's type in model files.
  static constexpr const char* type_name = "LeakyReLU";
  /// Writes the slope to a model file's configuration.
  void write_config(Config& c) const { c.set_double("negative_slope", this->negative_slope()); }
  /// The layer of a model file's configuration.
  static std::unique_ptr<LeakyReLU> from_config(const Config& c) {
    return std::make_unique<LeakyReLU>(c.get_double("negative_slope", 0.0, 1e6));
  }
};

/// y = 1 / (1 + exp(-x)).
template <class T>
class Sigmoid : public ActivationLayer<T> {
 public:
  Sigmoid() : ActivationLayer<T>(Activation::sigmoid) {}
  /// The layer's type in model files.
  static constexpr const char* type_name = "Sigmoid";
  /// A Sigmoid has no options.
  void write_config(Config&) const {}
  /// The layer of a model file's configuration (which holds nothing).
  static std::unique_ptr<Sigmoid> from_config(const Config&) { return std::make_unique<Sigmoid>(); }
};

/// y = tanh(x).
template <class T>
class Tanh : public ActivationLayer<T> {
 public:
  Tanh() : ActivationLayer<T>(Activation::tanh) {}
  /// The layer's type in model files.
  static constexpr const char* type_name = "Tanh";
  /// A Tanh has no options.
  void write_config(Config&) const {}
  /// The layer of a model file's configuration (which holds nothing).
  static std::unique_ptr<Tanh> from_config(const Config&) { return std::make_unique<Tanh>(); }
};

}  // namespace aigc
