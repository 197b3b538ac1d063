/// @file
/// aigc: dropout, as torch.nn.Dropout: in train mode each element is zeroed with probability p
/// and the survivors scaled by 1 / (1 - p); in eval mode the identity.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "aigc/core/config.hpp"
#include "aigc/core/module.hpp"
#include "aigc/core/rng.hpp"
#include "aigc/kernels/dropout.hpp"

namespace aigc {

/// Inverted dropout (torch.nn.Dropout): train mode zeroes each value with probability p and
/// scales the rest by 1/(1-p); eval mode is the identity.
template <class T>
class Dropout : public Module<T> {
 public:
  /// p in [0, 1); the masks come from the layer's own generator, seeded here.
  explicit Dropout(double p = 0.5, std::uint64_t seed = 0) : p_(p), seed_(seed), rng_(seed) {
    if (!(p >= 0.0 && p < 1.0)) {
      throw ArgumentError("Dropout: p must be in [0, 1), got " + std::to_string(p));
    }
  }

  /// The layer's type in model files.
  static constexpr const char* type_name = "Dropout";
  /// Writes p and the seed to a model file's configuration.
  void write_config(Config& c) const {
    c.set_double("p", p_);
    c.set_int("seed", static_cast<std::int64_t>(seed_));
  }
  /// The layer of a model file's configuration.
  static std::unique_ptr<Dropout> from_config(const Config& c) {
    const auto seed = c.get_int("seed", std::numeric_limits<std::int64_t>::min(),
                                std::numeric_limits<std::int64_t>::max());
    return std::make_unique<Dropout>(c.get_double("p", 0.0, 1.0), static_cast<std::uint64_t>(seed));
  }

  /// The input shape: the layer keeps it.
  SampleShape output_shape() const override { return this->input_shape(); }
  /// Train or eval mode; whether the last forward masked is kept per mode, like the buffers.
  void set_training(bool on) override {
    if (on != this->training()) std::swap(masked_, other_mode_masked_);
    Module<T>::set_training(on);
  }

  /// Train: Y = X * M with M[i] = 1/(1-p) or 0, a new mask per call; eval: Y = X.
  const Tensor<T>& forward(const Tensor<T>& x) override {
    y_.resize(x.rows(), x.cols());
    masked_ = this->training() && p_ > 0.0;
    if (!masked_) {
      kernels::copy(x.data(), y_.data(), x.size());
      return y_;
    }
    mask_.resize(x.rows(), x.cols());
    kernels::dropout_mask(rng_, p_, mask_.size(), mask_.data());
    kernels::multiply(x.data(), mask_.data(), y_.data(), x.size());
    return y_;
  }

  /// dX = dY * M (train), dY (eval).
  const Tensor<T>& backward(const Tensor<T>& dy) override {
    check_same_shape(dy, y_, [&] { return "Dropout '" + this->name() + "' backward (dY vs Y)"; });
    dx_.resize(dy.rows(), dy.cols());
    if (masked_) {
      kernels::multiply(dy.data(), mask_.data(), dx_.data(), dy.size());
    } else {
      kernels::copy(dy.data(), dx_.data(), dy.size());
    }
    return dx_;
  }

  double p() const { return p_; }  ///< The drop probability.
  Rng& rng() { return rng_; }      ///< The generator of the masks.
  /// The mask generator as "<name>.rng": checkpoints save it so that a resumed run draws the
  /// masks an uninterrupted one would.
  std::vector<NamedRng> rngs() override { return {{this->child_name("rng"), &rng_}}; }

 private:
  double p_;
  std::uint64_t seed_;
  Rng rng_;
  bool masked_ = false, other_mode_masked_ = false;
  std::vector<Tensor<T>*> work_buffers() override { return {&mask_, &y_, &dx_}; }
  Tensor<T> mask_, y_, dx_;
};

}  // namespace aigc
