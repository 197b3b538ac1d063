/// @file
/// aigc: pointwise activation layers: ReLU, LeakyReLU, Sigmoid, Tanh.
#pragma once

#include <string>

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

  const Tensor<T>& forward(const Tensor<T>& x) override {
    y_ = x;
    kernels::bias_activation_forward<T>(y_.data(), nullptr, y_.rows(), y_.cols(), act_, slope_);
    return y_;
  }

  const Tensor<T>& backward(const Tensor<T>& dy) override {
    check_same_shape(dy, y_, [&] { return "activation '" + this->name() + "' backward (dY vs Y)"; });
    dx_.resize(dy.rows(), dy.cols());
    kernels::activation_backward(dy.data(), y_.data(), dx_.data(), dy.size(), act_, slope_);
    return dx_;
  }

 private:
  Activation act_;
  T slope_;
  Tensor<T> y_, dx_;
};

/// y = max(x, 0).
template <class T>
class ReLU : public ActivationLayer<T> {
 public:
  ReLU() : ActivationLayer<T>(Activation::relu) {}
};

/// y = x for x > 0, else negative_slope * x.
template <class T>
class LeakyReLU : public ActivationLayer<T> {
 public:
  /// A LeakyReLU with the given slope (> 0) for negative inputs.
  explicit LeakyReLU(double negative_slope = 0.01)
      : ActivationLayer<T>(Activation::leaky_relu, negative_slope) {}
};

/// y = 1 / (1 + exp(-x)).
template <class T>
class Sigmoid : public ActivationLayer<T> {
 public:
  Sigmoid() : ActivationLayer<T>(Activation::sigmoid) {}
};

/// y = tanh(x).
template <class T>
class Tanh : public ActivationLayer<T> {
 public:
  Tanh() : ActivationLayer<T>(Activation::tanh) {}
};

}  // namespace aigc
