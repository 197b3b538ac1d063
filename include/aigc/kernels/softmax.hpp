/// @file
/// aigc: softmax cross-entropy over rows of class logits (the classifier's loss).
#pragma once

#include <algorithm>
#include <cmath>

#include "aigc/core/tensor.hpp"

namespace aigc::kernels {

/// Returns sum_r [logsumexp(z_r) - z_r[label_r]]; when dz is given it receives
/// scale * (softmax(z_r) - onehot(label_r)). Rows are short (one logit per class), so the loop runs
/// over rows; max-subtracted for stability.
template <class T>
double softmax_cross_entropy(const T* z, const int* labels, Index rows, Index classes, T* dz,
                             T scale) {
  double total = 0.0;
  for (Index r = 0; r < rows; ++r) {
    const T* zr = z + r * classes;
    const double top = static_cast<double>(*std::max_element(zr, zr + classes));
    double sum = 0.0;
    for (Index c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(zr[c]) - top);
    const double lse = top + std::log(sum);
    total += lse - static_cast<double>(zr[labels[r]]);
    if (dz) {
      T* dr = dz + r * classes;
      for (Index c = 0; c < classes; ++c) {
        const double p = std::exp(static_cast<double>(zr[c]) - lse);
        dr[c] = static_cast<T>(scale * (p - (c == labels[r] ? 1.0 : 0.0)));
      }
    }
  }
  return total;
}

}  // namespace aigc::kernels
