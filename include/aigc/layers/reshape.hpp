/// @file
/// aigc: Reshape and Flatten. A sample is one row-major row whatever its shape (a vector, or
/// C x H x W), so both are a shape check and a pass-through: they return their input.
#pragma once

#include <cstdint>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "aigc/core/config.hpp"
#include "aigc/core/module.hpp"

namespace aigc {

/// Views each row as a sample of `shape` (e.g. {256, 4, 4}); rows must hold prod(shape) values.
/// forward and backward return their argument itself (valid as long as it is).
template <class T>
class Reshape : public Module<T> {
 public:
  /// A reshape to samples of `shape` (positive sizes).
  explicit Reshape(std::vector<Index> shape) : shape_(std::move(shape)) {
    features_ = std::accumulate(shape_.begin(), shape_.end(), Index{1}, std::multiplies<>());
    if (shape_.empty() || features_ <= 0) {
      throw ArgumentError("Reshape: the shape must be non-empty with positive sizes, got " +
                          shape_text());
    }
  }

  /// The layer's type in model files.
  static constexpr const char* type_name = "Reshape";
  /// Writes the shape to a model file's configuration.
  void write_config(Config& c) const {
    c.set_ints("shape", std::vector<std::int64_t>(shape_.begin(), shape_.end()));
  }
  /// The layer of a model file's configuration.
  static std::unique_ptr<Reshape> from_config(const Config& c) {
    const std::vector<std::int64_t> s = c.get_ints("shape", 1, config_max_size, 8);
    std::uint64_t n = 1;
    for (std::int64_t d : s) n = Config::product(n, static_cast<std::uint64_t>(d));
    if (n > static_cast<std::uint64_t>(config_max_sample)) {
      throw ArgumentError("option 'shape' holds " + std::to_string(n) +
                          " values per sample, too many");
    }
    return std::make_unique<Reshape>(std::vector<Index>(s.begin(), s.end()));
  }
  /// Checks that a sample of `shape` holds as many values as a sample of the layer's shape.
  void set_input_shape(const SampleShape& shape) override {
    if (sample_size(shape) != features_) {
      throw ShapeError("Reshape '" + this->name() + "': input shape " + sample_shape_string(shape) +
                       " does not hold the " + std::to_string(features_) + " values of " +
                       shape_text());
    }
    Module<T>::set_input_shape(shape);
  }
  /// The layer's shape.
  SampleShape output_shape() const override { return shape_; }

  const Tensor<T>& forward(const Tensor<T>& x) override {
    check_cols(x, features_,
               [&] { return "Reshape '" + this->name() + "' forward (to " + shape_text() + ")"; });
    return x;
  }

  const Tensor<T>& backward(const Tensor<T>& dy) override {
    check_cols(dy, features_, [&] { return "Reshape '" + this->name() + "' backward"; });
    return dy;
  }

  const std::vector<Index>& shape() const { return shape_; }  ///< The shape of a sample.
  Index features() const { return features_; }  ///< Values per sample (the product of the shape).

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
  /// The layer's type in model files.
  static constexpr const char* type_name = "Flatten";
  /// A Flatten has no options.
  void write_config(Config&) const {}
  /// The layer of a model file's configuration (which holds nothing).
  static std::unique_ptr<Flatten> from_config(const Config&) { return std::make_unique<Flatten>(); }
  /// {C*H*W} for an input of {C, H, W} (empty while the input shape is unknown).
  SampleShape output_shape() const override {
    if (this->input_shape().empty()) return {};
    return {sample_size(this->input_shape())};
  }

  const Tensor<T>& forward(const Tensor<T>& x) override { return x; }
  const Tensor<T>& backward(const Tensor<T>& dy) override { return dy; }
};

}  // namespace aigc
