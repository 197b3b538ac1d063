/// @file
/// aigc: binary cross-entropy on logits, stable for any |logit|.
#pragma once

#include "aigc/core/tensor.hpp"
#include "aigc/kernels/losses.hpp"
#include "aigc/losses/reduction.hpp"

namespace aigc {

/// L = reduce_i [max(z,0) - z t + log(1 + exp(-|z|))]; when dlogits is given it receives
/// dL/dz = (sigmoid(z) - t) (/ n for mean), resized to the logits' shape.
template <class T>
double bce_with_logits(const Tensor<T>& logits, const Tensor<T>& target, Reduction reduction,
                       Tensor<T>* dlogits = nullptr) {
  check_same_shape(logits, target, "bce_with_logits (logits vs target)");
  const Index n = logits.size();
  const double inv_n = n > 0 ? 1.0 / static_cast<double>(n) : 0.0;
  const T scale = reduction == Reduction::mean ? static_cast<T>(inv_n) : T(1);
  T* d = nullptr;
  if (dlogits) {
    dlogits->resize(logits.rows(), logits.cols());
    d = dlogits->data();
  }
  const double sum = kernels::bce_with_logits(logits.data(), target.data(), n, d, scale);
  return reduction == Reduction::mean ? sum * inv_n : sum;
}

}  // namespace aigc
