/// @file
/// aigc: softmax cross-entropy of class logits against integer labels.
#pragma once

#include <string>
#include <vector>

#include "aigc/core/tensor.hpp"
#include "aigc/kernels/softmax.hpp"
#include "aigc/losses/reduction.hpp"

namespace aigc {

/// L = reduce_r [logsumexp(z_r) - z_r[y_r]] over the rows (mean divides by the number of rows, as
/// torch.nn.CrossEntropyLoss); dlogits receives dL/dz = softmax(z) - onehot(y) (/ rows for mean).
template <class T>
double cross_entropy(const Tensor<T>& logits, const std::vector<int>& labels, Reduction reduction,
                     Tensor<T>* dlogits = nullptr) {
  if (static_cast<Index>(labels.size()) != logits.rows()) {
    throw ShapeError("cross_entropy: " + std::to_string(labels.size()) + " labels for logits " +
                     shape_string(logits));
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= logits.cols()) {
      throw ArgumentError("cross_entropy: label " + std::to_string(labels[i]) + " at index " +
                          std::to_string(i) + " is out of range [0, " +
                          std::to_string(logits.cols()) + ")");
    }
  }
  const double inv_n = logits.rows() > 0 ? 1.0 / static_cast<double>(logits.rows()) : 0.0;
  const T scale = reduction == Reduction::mean ? static_cast<T>(inv_n) : T(1);
  T* d = nullptr;
  if (dlogits) {
    dlogits->resize(logits.rows(), logits.cols());
    d = dlogits->data();
  }
  const double sum = kernels::softmax_cross_entropy(logits.data(), labels.data(), logits.rows(),
                                                    logits.cols(), d, scale);
  return reduction == Reduction::mean ? sum * inv_n : sum;
}

}  // namespace aigc
