// aigc: a trainable parameter, its value and its gradient, under a stable name.
#pragma once

#include <string>
#include <utility>

#include "aigc/core/tensor.hpp"

namespace aigc {

template <class T>
struct Param {
  std::string name;  // full path, e.g. "encoder.fc1.weight"
  Tensor<T> value;
  Tensor<T> grad;  // same shape as value; backward passes accumulate into it

  Param() = default;
  Param(std::string n, Index rows, Index cols)
      : name(std::move(n)), value(Tensor<T>::Zero(rows, cols)), grad(Tensor<T>::Zero(rows, cols)) {}

  void zero_grad() { grad.setZero(); }
};

}  // namespace aigc
