/// @file
/// aigc: a trainable parameter, its value and its gradient, under a stable name.
#pragma once

#include <string>
#include <utility>

#include "aigc/core/tensor.hpp"

namespace aigc {

/// A trainable parameter: its value, its gradient and its full name.
template <class T>
struct Param {
  std::string name;  ///< full path, e.g. "encoder.fc1.weight"
  Tensor<T> value;   ///< the parameter itself
  Tensor<T> grad;    ///< same shape as value; backward passes accumulate into it

  /// An empty, unnamed parameter.
  Param() = default;
  /// A parameter named `n` of rows x cols zeros, with a zero gradient.
  Param(std::string n, Index rows, Index cols)
      : name(std::move(n)), value(Tensor<T>::Zero(rows, cols)), grad(Tensor<T>::Zero(rows, cols)) {}

  /// Sets the gradient to zero.
  void zero_grad() { grad.setZero(); }
};

}  // namespace aigc
