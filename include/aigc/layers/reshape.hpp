/// @file
/// aigc: Reshape and Flatten. A sample is one row-major row whatever its shape (a vector, or
/// C x H x W), so both are a shape check and a pass-through: they return their input.
#pragma once

#include <numeric>
#include <string>
#include <vector>

#include "aigc/core/module.hpp"

namespace aigc {

/// Views each row as a sample of `shape` (e.g. {256, 4, 4}); rows must hold prod(shape) values.
/// forward and backward return their argument itself (valid as long as it is).
template <class T>
class Reshape : public Module<T> {
 public:
  /// A view of each row as `shape`, e.g. {256, 4, 4}.
  explicit Reshape(std::vector<Index> shape) : shape_(std::move(shape)) {
    features_ = std::accumulate(shape_.begin(), shape_.end(), Index{1}, std::multiplies<>());
    if (shape_.empty() || features_ <= 0) {
      throw ArgumentError("Reshape: the shape must be non-empty with positive sizes, got " +
                          shape_text());
    }
  }

  const Tensor<T>& forward(const Tensor<T>& x) override {
    check_cols(x, features_,
               [&] { return "Reshape '" + this->name() + "' forward (to " + shape_text() + ")"; });
    return x;
  }

  const Tensor<T>& backward(const Tensor<T>& dy) override {
    check_cols(dy, features_, [&] { return "Reshape '" + this->name() + "' backward"; });
    return dy;
  }

  /// The shape of one sample.
  const std::vector<Index>& shape() const { return shape_; }
  /// Values of one row: the product of shape().
  Index features() const { return features_; }

 private:
  std::string shape_text() const {
    std::string s = "{";
    for (std::size_t i = 0; i < shape_.size(); ++i) {
      s += (i ? ", " : "") + std::to_string(shape_[i]);
    }
    return s + "}";
  }

  std::vector<Index> shape_;
  Index features_ = 0;
};

/// Flattens each sample to a vector: the identity on batch x features rows.
template <class T>
class Flatten : public Module<T> {
 public:
  const Tensor<T>& forward(const Tensor<T>& x) override { return x; }
  const Tensor<T>& backward(const Tensor<T>& dy) override { return dy; }
};

}  // namespace aigc
