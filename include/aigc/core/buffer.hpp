/// @file
/// aigc: a named, non-trainable state tensor of a module (BatchNorm's running statistics), saved
/// by checkpoints beside the parameters.
#pragma once

#include <string>
#include <utility>

#include "aigc/core/tensor.hpp"

namespace aigc {

/// A named state tensor of a module that is not trained (BatchNorm's running statistics): saved in
/// checkpoints like a parameter, but without a gradient.
template <class T>
struct Buffer {
  std::string name;  ///< full path, e.g. "generator.bn1.running_mean"
  Tensor<T> value;   ///< the state itself

  /// An empty, unnamed buffer.
  Buffer() = default;
  /// A buffer named `n` of rows x cols values equal to `fill`.
  Buffer(std::string n, Index rows, Index cols, T fill)
      : name(std::move(n)), value(Tensor<T>::Constant(rows, cols, fill)) {}
};

}  // namespace aigc
