/// @file
/// aigc: the pointwise activations the layers fuse into their output passes.
#pragma once

#include <string>

#include "aigc/core/error.hpp"

namespace aigc {

/// A pointwise activation, fused into the layers' output passes.
enum class Activation {
  identity,    ///< y = x
  relu,        ///< y = max(x, 0)
  leaky_relu,  ///< y = x for x > 0, else slope * x
  sigmoid,     ///< y = 1 / (1 + exp(-x))
  tanh         ///< y = tanh(x)
};

/// The activation's name in model files: "identity", "relu", "leaky_relu", "sigmoid", "tanh".
inline const char* activation_name(Activation a) {
  switch (a) {
    case Activation::identity:
      return "identity";
    case Activation::relu:
      return "relu";
    case Activation::leaky_relu:
      return "leaky_relu";
    case Activation::sigmoid:
      return "sigmoid";
    case Activation::tanh:
      return "tanh";
  }
  return "?";
}

/// The activation named `name` (as activation_name gives it); ArgumentError quoting it otherwise.
inline Activation activation_from_name(const std::string& name) {
  for (Activation a : {Activation::identity, Activation::relu, Activation::leaky_relu,
                       Activation::sigmoid, Activation::tanh}) {
    if (name == activation_name(a)) return a;
  }
  throw ArgumentError("unknown activation '" + name +
                      "' (known: identity, relu, leaky_relu, sigmoid, tanh)");
}

}  // namespace aigc
