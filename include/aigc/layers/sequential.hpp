/// @file
/// aigc: a chain of modules, each fed the previous one's output.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "aigc/core/config.hpp"
#include "aigc/core/module.hpp"

namespace aigc {

/// A chain of modules, each fed the previous one's output; backward runs them in reverse.
/// Owns its children; their parameters are named "<this>.<child>.<param>". Given its input
/// shape, it passes each child the shape the previous one outputs (shape inference).
template <class T>
class Sequential : public Module<T> {
 public:
  Sequential() = default;
  /// A chain whose input samples have `input_shape` ({C, H, W} or {features}): each module added
  /// is told the shape the chain gives it, so that sizes left open (Conv2d without H and W, Dense
  /// without its input size) are learnt and the others checked as the chain is built.
  explicit Sequential(SampleShape input_shape) { Module<T>::set_input_shape(input_shape); }

  /// The layer's type in model files.
  static constexpr const char* type_name = "Sequential";
  /// Writes the input shape, when known, to a model file's configuration (the children are
  /// written by the model file itself).
  void write_config(Config& c) const {
    const SampleShape& s = this->input_shape();
    if (!s.empty()) c.set_ints("input_shape", std::vector<std::int64_t>(s.begin(), s.end()));
  }
  /// An empty chain of a model file's configuration.
  static std::unique_ptr<Sequential> from_config(const Config& c) {
    if (!c.contains("input_shape")) return std::make_unique<Sequential>();
    const std::vector<std::int64_t> s = c.get_ints("input_shape", 1, config_max_size, 3);
    std::uint64_t n = 1;
    for (std::int64_t d : s) n = Config::product(n, static_cast<std::uint64_t>(d));
    if (n > static_cast<std::uint64_t>(config_max_sample))
      throw ArgumentError("option 'input_shape' holds " + std::to_string(n) +
                          " values per sample, more than " + std::to_string(config_max_sample));
    return std::make_unique<Sequential>(SampleShape(s.begin(), s.end()));
  }

  /// Appends a module under `name` (its parameters become "<this>.<name>.weight", ...). When the
  /// chain knows its input shape, the module is told the shape the chain gives it so far
  /// (set_input_shape); otherwise sizes are checked by forward.
  template <class M>
  M& add(const std::string& name, std::unique_ptr<M> module) {
    if (!module) throw ArgumentError("Sequential::add: null module '" + name + "'");
    if (name.empty())
      throw ArgumentError("Sequential '" + this->name() + "': a layer needs a non-empty name");
    for (const std::string& n : names_) {
      if (n == name)
        throw ArgumentError("Sequential '" + this->name() + "': a layer named '" + name +
                            "' is already in the chain");
    }
    M& ref = *module;
    names_.push_back(name);
    children_.push_back(std::move(module));
    ref.set_name(this->child_name(name));
    ref.set_training(this->training());
    if (children_.size() == 1) ref.set_needs_input_grad(this->needs_input_grad());
    ref.set_needs_param_grads(this->needs_param_grads());
    if (!this->input_shape().empty()) {
      const SampleShape in = children_.size() == 1
                                 ? this->input_shape()
                                 : children_[children_.size() - 2]->output_shape();
      if (!in.empty()) ref.set_input_shape(in);
    }
    return ref;
  }

  /// Constructs a module in place: seq.emplace<Dense<float>>("fc1", 784, 400, rng).
  template <class M, class... Args>
  M& emplace(const std::string& name, Args&&... args) {
    return add(name, std::make_unique<M>(std::forward<Args>(args)...));
  }

  const Tensor<T>& forward(const Tensor<T>& x) override {
    if (children_.empty()) throw ArgumentError("Sequential '" + this->name() + "' is empty");
    const Tensor<T>* h = &x;
    for (auto& child : children_) {
      // The previous child's output stays as it is until after this child's backward (the
      // children run backward in reverse order); x itself only if this container's caller says so.
      child->set_input_stable(h != &x || this->input_stable());
      h = &child->forward(*h);
    }
    return *h;
  }

  const Tensor<T>& backward(const Tensor<T>& dy) override {
    if (children_.empty()) throw ArgumentError("Sequential '" + this->name() + "' is empty");
    const Tensor<T>* d = &dy;
    for (auto it = children_.rbegin(); it != children_.rend(); ++it) d = &(*it)->backward(*d);
    return *d;
  }

  std::vector<Param<T>*> params() override {
    std::vector<Param<T>*> out;
    for (auto& child : children_) {
      for (Param<T>* p : child->params()) out.push_back(p);
    }
    return out;
  }

  std::vector<Buffer<T>*> buffers() override {
    std::vector<Buffer<T>*> out;
    for (auto& child : children_) {
      for (Buffer<T>* b : child->buffers()) out.push_back(b);
    }
    return out;
  }

  std::vector<NamedRng> rngs() override {
    std::vector<NamedRng> out;
    for (auto& child : children_) {
      for (const NamedRng& r : child->rngs()) out.push_back(r);
    }
    return out;
  }

  void set_training(bool on) override {
    Module<T>::set_training(on);
    for (auto& child : children_) child->set_training(on);
  }

  void set_name(const std::string& name) override {
    Module<T>::set_name(name);
    for (std::size_t i = 0; i < children_.size(); ++i) {
      children_[i]->set_name(this->child_name(names_[i]));
    }
  }

  void set_needs_input_grad(bool on) override {
    Module<T>::set_needs_input_grad(on);
    if (!children_.empty()) children_.front()->set_needs_input_grad(on);
  }

  void set_needs_param_grads(bool on) override {
    Module<T>::set_needs_param_grads(on);
    for (auto& child : children_) child->set_needs_param_grads(on);
  }

  /// Tells the chain its input shape; it passes it down, each child's output to the next.
  void set_input_shape(const SampleShape& shape) override {
    Module<T>::set_input_shape(shape);
    SampleShape s = shape;
    for (auto& child : children_) {
      if (s.empty()) break;
      child->set_input_shape(s);
      s = child->output_shape();
    }
  }
  /// The last child's output shape (the input shape for an empty chain; empty while unknown).
  SampleShape output_shape() const override {
    if (children_.empty()) return this->input_shape();
    return children_.back()->output_shape();
  }
  /// The output features of the chain so far (the product of output_shape(); 0 while unknown):
  /// the input size of a Dense appended next.
  Index out_features() const { return sample_size(output_shape()); }

  /// Number of children.
  std::size_t size() const { return children_.size(); }
  /// Child i (throws std::out_of_range past the end).
  Module<T>& operator[](std::size_t i) { return *children_.at(i); }
  /// Child i (throws std::out_of_range past the end).
  const Module<T>& operator[](std::size_t i) const { return *children_.at(i); }
  /// The name child i was added under (its own, without this chain's path).
  const std::string& child_key(std::size_t i) const { return names_.at(i); }

 private:
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<Module<T>>> children_;
};

}  // namespace aigc
