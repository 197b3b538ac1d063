/// @file
/// aigc: mean squared error.
#pragma once

#include "aigc/core/tensor.hpp"
#include "aigc/kernels/losses.hpp"
#include "aigc/losses/reduction.hpp"

namespace aigc {

/// L = reduce_i (x_i - t_i)^2; dL/dx = 2 (x - t) (/ n for mean).
template <class T>
double mse(const Tensor<T>& x, const Tensor<T>& target, Reduction reduction,
           Tensor<T>* dx = nullptr) {
  check_same_shape(x, target, "mse (input vs target)");
  const Index n = x.size();
  const double inv_n = n > 0 ? 1.0 / static_cast<double>(n) : 0.0;
  const T scale = reduction == Reduction::mean ? static_cast<T>(inv_n) : T(1);
  T* d = nullptr;
  if (dx) {
    dx->resize(x.rows(), x.cols());
    d = dx->data();
  }
  const double sum = kernels::squared_error(x.data(), target.data(), n, d, scale);
  return reduction == Reduction::mean ? sum * inv_n : sum;
}

}  // namespace aigc
