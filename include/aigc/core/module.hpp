/// @file
/// aigc: the Module interface every layer and network implements.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "aigc/core/buffer.hpp"
#include "aigc/core/param.hpp"
#include "aigc/core/rng.hpp"
#include "aigc/core/tensor.hpp"

namespace aigc {

/// The shape of one sample: {C, H, W} for an image, {features} for a vector (a row of a batch
/// holds its values in row-major order); empty while unknown.
using SampleShape = std::vector<Index>;

/// "{C, H, W}" for messages.
inline std::string sample_shape_string(const SampleShape& s) {
  std::string out = "{";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "}";
}

/// The values of one sample of shape s (0 when s is empty).
inline Index sample_size(const SampleShape& s) {
  if (s.empty()) return 0;
  Index n = 1;
  for (Index d : s) n *= d;
  return n;
}

/// The interface of every layer and network: forward(x) computes the output and caches what
/// backward needs; backward(dy) accumulates the parameter gradients and returns dx. Both return
/// references to buffers the module owns, valid until its next forward/backward; buffers are sized
/// once per batch shape.
template <class T>
class Module {
 public:
  /// Virtual: modules are owned through Module pointers (Sequential).
  virtual ~Module() = default;

  /// Computes the output of a batch `x` (one sample per row) and caches what backward needs.
  virtual const Tensor<T>& forward(const Tensor<T>& x) = 0;
  /// Given dY = dL/dY for the last forward, accumulates the parameter gradients into
  /// their Param::grad and returns dX = dL/dX (empty when needs_input_grad() is false).
  virtual const Tensor<T>& backward(const Tensor<T>& dy) = 0;

  /// The trainable parameters, with their full names.
  virtual std::vector<Param<T>*> params() { return {}; }

  /// The non-trainable state (running statistics), with their full names, for checkpoints.
  virtual std::vector<Buffer<T>*> buffers() { return {}; }

  /// The random generators the module draws from in training (Dropout's), for checkpoints.
  virtual std::vector<NamedRng> rngs() { return {}; }

  /// Train mode (default) or eval mode; BatchNorm and Dropout behave differently. Each mode has
  /// its own set of the module's batch-sized buffers (`work_buffers()`): a switch swaps them, so
  /// sampling at another batch size between training steps leaves the training buffers in place.
  virtual void set_training(bool on) {
    if (on != training_) {
      const std::vector<Tensor<T>*> mine = work_buffers();
      if (other_mode_.size() < mine.size()) other_mode_.resize(mine.size());
      for (std::size_t i = 0; i < mine.size(); ++i) mine[i]->swap(other_mode_[i]);
    }
    training_ = on;
  }
  /// True in train mode.
  bool training() const { return training_; }

  /// The module's path (e.g. "encoder.fc1"); parameter names derive from it.
  virtual void set_name(const std::string& name) { name_ = name; }
  /// The module's path, "" when unnamed.
  const std::string& name() const { return name_; }

  /// When false, backward may skip computing dx (the first layer of a network needs no dx);
  /// it then returns an empty tensor.
  virtual void set_needs_input_grad(bool on) { needs_input_grad_ = on; }
  /// Whether backward must compute dx.
  bool needs_input_grad() const { return needs_input_grad_; }

  /// When true, the caller promises that the input of each forward stays alive and unchanged
  /// until the backward that follows it, so the module may keep a pointer to it instead of a copy
  /// (Sequential promises this to each child whose input is the previous child's output).
  virtual void set_input_stable(bool on) { input_stable_ = on; }
  /// Whether forward's input outlives the next backward unchanged (default false).
  bool input_stable() const { return input_stable_; }
  /// When false, backward leaves every parameter gradient untouched and only computes dx: a
  /// GAN's generator step backpropagates through the discriminator this way without disturbing
  /// (or paying for) the discriminator's own gradients. Containers pass it to all their
  /// children; every module with parameters must honour it.
  virtual void set_needs_param_grads(bool on) { needs_param_grads_ = on; }
  /// Whether backward accumulates the parameter gradients (default true).
  bool needs_param_grads() const { return needs_param_grads_; }

  /// Tells the module the shape of one input sample: layers whose sizes were left open at
  /// construction (Conv2d without H and W, Dense without its input size) take their sizes from
  /// it, the others check it against their own (ShapeError naming the layer); Sequential passes
  /// it down its chain.
  virtual void set_input_shape(const SampleShape& shape) { input_shape_ = shape; }
  /// The shape of one output sample for the input shape set; empty while unknown, and by
  /// default (a module that does not say stops the inference there).
  virtual SampleShape output_shape() const { return {}; }
  /// The input shape set by set_input_shape (empty while unknown).
  const SampleShape& input_shape() const { return input_shape_; }

  /// Sets the gradients of all params() to zero.
  void zero_grad() {
    for (Param<T>* p : params()) p->zero_grad();
  }

 protected:
  /// The buffers whose size follows the batch (outputs, cached inputs, gradients), kept per mode
  /// by set_training. Reallocating one costs more than its memory: a fresh buffer of tens of MB
  /// is mapped from the system and faulted in page by page (the 64x64 DCGAN's generator: 0.7 s
  /// of page faults when sampling at batch 256 between training steps at 128, against 0.25 s
  /// for the forward itself), and a layer whose buffer changes size is what Eigen reallocates.
  virtual std::vector<Tensor<T>*> work_buffers() { return {}; }

  /// "name.suffix", or just "suffix" for an unnamed module.
  std::string child_name(const std::string& suffix) const {
    return name_.empty() ? suffix : name_ + "." + suffix;
  }

  bool training_ = true;           ///< Train mode (true) or eval mode.
  bool needs_input_grad_ = true;   ///< Whether backward computes dx.
  bool needs_param_grads_ = true;  ///< Whether backward accumulates the parameter gradients.
  bool input_stable_ = false;      ///< Whether forward's input outlives the next backward.
  std::string name_;               ///< The module's path.
  SampleShape input_shape_;        ///< One input sample's shape, when known.

 private:
  std::vector<Tensor<T>> other_mode_;  // work_buffers() of the mode not in use
};

}  // namespace aigc
