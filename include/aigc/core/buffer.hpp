/// @file
/// aigc: a named, non-trainable state tensor of a module (BatchNorm's running statistics), saved
/// by checkpoints beside the parameters.
#pragma once

#include <string>
#include <utility>

#include "aigc/core/tensor.hpp"

namespace aigc {

/// A named, non-trainable state tensor of a module (e.g. BatchNorm's running statistics).
template <class T>
struct Buffer {
  std::string name;  ///< full path, e.g. "generator.bn1.running_mean"
  Tensor<T> value;   ///< The values.

  /// An empty, unnamed buffer.
  Buffer() = default;
  /// A rows x cols buffer named `n`, every value `fill`.
  Buffer(std::string n, Index rows, Index cols, T fill)
      : name(std::move(n)), value(Tensor<T>::Constant(rows, cols, fill)) {}
};

}  // namespace aigc
