/// @file
/// aigc: an exponential moving average of a module's parameters and buffers (the averaged
/// generator of progressive GANs and StyleGAN), swapped in to sample and export.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "aigc/core/error.hpp"
#include "aigc/core/module.hpp"
#include "aigc/core/state.hpp"
#include "aigc/kernels/update.hpp"

namespace aigc {

/// Options of an ExponentialMovingAverage.
struct EmaOptions {
  double decay = 0.999;  ///< avg = decay avg + (1 - decay) value after every update
  /// Warm-up (tf.train.ExponentialMovingAverage's num_updates): the decay of update n (from 0) is
  /// min(decay, (1 + n) / (10 + n)), so the first updates do not hold on to the initial weights.
  bool warmup = true;
};

/// The average of a module's parameters and buffers (BatchNorm's running statistics, spectral
/// norm's vectors) over its updates: update() after each optimiser step; swap() exchanges the
/// module's values with the averages (a pointer swap per tensor: no copy, no allocation), so the
/// module runs with the averaged weights until the next swap().
template <class T>
class ExponentialMovingAverage {
 public:
  /// An average of `module` (which must outlive it), starting from its current values.
  ExponentialMovingAverage(Module<T>& module, EmaOptions options = {})
      : o_(options), params_(module.params()), buffers_(module.buffers()) {
    if (!(options.decay >= 0.0 && options.decay < 1.0)) {
      throw ArgumentError("ExponentialMovingAverage: decay must be in [0, 1), got " +
                          std::to_string(options.decay));
    }
    for (const Param<T>* p : params_) average_.push_back(p->value);
    for (const Buffer<T>* b : buffers_) average_.push_back(b->value);
  }

  /// The decay the next update uses.
  double decay() const {
    if (!o_.warmup) return o_.decay;
    const auto n = static_cast<double>(updates_);
    return std::min(o_.decay, (1.0 + n) / (10.0 + n));
  }

  /// avg += (1 - decay) (value - avg) for every parameter and buffer.
  void update() {
    if (swapped_)
      throw ArgumentError("ExponentialMovingAverage::update: the averages are swapped in");
    const T d = static_cast<T>(decay());
    std::size_t i = 0;
    for (Param<T>* p : params_) {
      kernels::moving_average(average_[i].data(), p->value.data(), p->value.size(), d);
      ++i;
    }
    for (Buffer<T>* b : buffers_) {
      kernels::moving_average(average_[i].data(), b->value.data(), b->value.size(), d);
      ++i;
    }
    ++updates_;
  }

  /// Exchanges the module's values with the averages (twice: back as before).
  void swap() {
    std::size_t i = 0;
    for (Param<T>* p : params_) p->value.swap(average_[i++]);
    for (Buffer<T>* b : buffers_) b->value.swap(average_[i++]);
    swapped_ = !swapped_;
  }
  /// Whether the averages are in the module now.
  bool swapped() const { return swapped_; }

  /// Runs f() with the averages in the module, and swaps back even when f throws.
  template <class F>
  decltype(auto) with_average(F&& f) {
    struct Back {
      ExponentialMovingAverage* e;
      ~Back() { e->swap(); }
    };
    swap();
    Back back{this};
    return f();
  }

  /// Updates taken so far.
  std::int64_t updates() const { return updates_; }
  /// The options given at construction.
  const EmaOptions& options() const { return o_; }

  /// Saves the averages ("<prefix>param/<name>", "<prefix>buffer/<name>") and the update count
  /// ("<prefix>updates").
  void save_state(StateDict& s, const std::string& prefix = "ema/") const {
    if (swapped_) throw ArgumentError("ExponentialMovingAverage::save_state: averages swapped in");
    std::size_t i = 0;
    for (const Param<T>* p : params_) s.put_tensor(prefix + "param/" + p->name, average_[i++]);
    for (const Buffer<T>* b : buffers_) s.put_tensor(prefix + "buffer/" + b->name, average_[i++]);
    s.put_int(prefix + "updates", updates_);
  }

  /// Restores what save_state saved: every average present with its shape, and no other entry
  /// under the prefix.
  void load_state(const StateDict& s, const std::string& prefix = "ema/") {
    if (swapped_) throw ArgumentError("ExponentialMovingAverage::load_state: averages swapped in");
    const std::string src = s.source.empty() ? "state" : s.source;
    std::vector<std::string> names;
    for (const Param<T>* p : params_) names.push_back(prefix + "param/" + p->name);
    for (const Buffer<T>* b : buffers_) names.push_back(prefix + "buffer/" + b->name);
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (!s.contains(names[i])) {
        throw FileError(src + ": the moving average '" + names[i] +
                        "' is missing (a checkpoint of a run without EMA?)");
      }
      s.get_tensor(names[i], average_[i]);
    }
    std::size_t under = 0;
    for (const StateEntry& e : s.entries()) under += e.name.rfind(prefix, 0) == 0 ? 1 : 0;
    if (under != names.size() + 1) {
      throw FileError(src + ": " + std::to_string(under - 1) + " moving averages under '" + prefix +
                      "', the model has " + std::to_string(names.size()));
    }
    const std::int64_t n = s.get_int(prefix + "updates");
    if (n < 0) throw FileError(src + ": negative EMA update count " + std::to_string(n));
    updates_ = n;
  }

 private:
  EmaOptions o_;
  std::vector<Param<T>*> params_;
  std::vector<Buffer<T>*> buffers_;
  std::vector<Tensor<T>> average_;  ///< the parameters' averages, then the buffers'
  std::int64_t updates_ = 0;
  bool swapped_ = false;
};

}  // namespace aigc
