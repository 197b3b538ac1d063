/// @file
/// aigc: stochastic gradient descent with momentum, as torch.optim.SGD.
#pragma once

#include <cmath>
#include <vector>

#include "aigc/optim/optimizer.hpp"

namespace aigc {

/// Hyper-parameters of SGD, as torch.optim.SGD.
struct SgdOptions {
  double lr = 0.01;           ///< learning rate
  double momentum = 0.0;      ///< momentum factor; 0: plain SGD
  double dampening = 0.0;     ///< dampening of the momentum
  double weight_decay = 0.0;  ///< L2 penalty added to the gradient
  bool nesterov = false;      ///< Nesterov momentum (needs momentum > 0, dampening 0)
};

/// Stochastic gradient descent with momentum, as torch.optim.SGD.
template <class T>
class Sgd : public Optimizer<T> {
 public:
  /// An optimiser of `params` (which must outlive it).
  Sgd(std::vector<Param<T>*> params, SgdOptions options)
      : Optimizer<T>(std::move(params)), o_(options) {
    if (!(options.lr > 0.0) || !std::isfinite(options.lr))
      throw ArgumentError("Sgd: lr must be finite and > 0, got " + std::to_string(options.lr));
    if (options.momentum < 0.0) throw ArgumentError("Sgd: momentum must be >= 0");
    if (options.nesterov && (options.momentum <= 0.0 || options.dampening != 0.0)) {
      throw ArgumentError("Sgd: nesterov needs momentum > 0 and dampening 0");
    }
    for (Param<T>* p : this->params_) {
      buffers_.push_back(Tensor<T>::Zero(p->value.rows(), p->value.cols()));
    }
  }

  void step() override { step_range(0, this->value_count()); }

  void step_range(std::size_t begin, std::size_t end) override {
    const bool first = this->steps_ == 0;
    const double lr = this->scheduled_lr(o_.lr);
    this->for_range(begin, end, [&](std::size_t i, Index at, Index n) {
      Param<T>& p = *this->params_[i];
      kernels::sgd_update(p.value.data() + at, p.grad.data() + at, buffers_[i].data() + at, n,
                          T(lr), T(o_.momentum), T(o_.dampening), T(o_.weight_decay), o_.nesterov,
                          first);
    });
    ++this->steps_;
  }

  std::vector<OptimizerState<T>> state() override {
    std::vector<OptimizerState<T>> s;
    if (o_.momentum == 0.0) return s;
    for (std::size_t i = 0; i < this->params_.size(); ++i) {
      s.push_back({this->params_[i]->name + ".momentum_buffer", &buffers_[i]});
    }
    return s;
  }

 private:
  SgdOptions o_;
  std::vector<Tensor<T>> buffers_;
};

}  // namespace aigc
