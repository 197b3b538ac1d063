/// @file
/// aigc: a chain of modules, each fed the previous one's output.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "aigc/core/module.hpp"

namespace aigc {

/// A chain of modules, each fed the previous one's output; backward runs them in reverse.
/// Owns its children; their parameters are named "<this>.<child>.<param>".
template <class T>
class Sequential : public Module<T> {
 public:
  Sequential() = default;

  /// Appends a module under `name` (its parameters become "<this>.<name>.weight", ...).
  template <class M>
  M& add(const std::string& name, std::unique_ptr<M> module) {
    if (!module) throw ArgumentError("Sequential::add: null module '" + name + "'");
    M& ref = *module;
    names_.push_back(name);
    children_.push_back(std::move(module));
    ref.set_name(this->child_name(name));
    ref.set_training(this->training());
    if (children_.size() == 1) ref.set_needs_input_grad(this->needs_input_grad());
    ref.set_needs_param_grads(this->needs_param_grads());
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

  /// Number of children.
  std::size_t size() const { return children_.size(); }
  /// Child i (throws std::out_of_range past the end).
  Module<T>& operator[](std::size_t i) { return *children_.at(i); }

 private:
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<Module<T>>> children_;
};

}  // namespace aigc
