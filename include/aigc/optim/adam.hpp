/// @file
/// aigc: Adam and AdamW with bias correction, as torch.optim.Adam / AdamW.
#pragma once

#include <cmath>
#include <vector>

#include "aigc/optim/optimizer.hpp"

namespace aigc {

/// Hyper-parameters of Adam / AdamW, with PyTorch's defaults.
struct AdamOptions {
  double lr = 1e-3;                     ///< learning rate
  double beta1 = 0.9;                   ///< decay of the first moment
  double beta2 = 0.999;                 ///< decay of the second moment
  double eps = 1e-8;                    ///< added to the root of the second moment
  double weight_decay = 0.0;            ///< L2 penalty (Adam) or decoupled decay (AdamW)
  bool decoupled_weight_decay = false;  ///< true: AdamW
};

/// Adam (Kingma & Ba) with bias correction, or AdamW with decoupled weight decay; the same
/// updates as torch.optim.Adam / AdamW.
template <class T>
class Adam : public Optimizer<T> {
 public:
  /// An optimiser of `params` (which must outlive it), with zero moments.
  Adam(std::vector<Param<T>*> params, AdamOptions options = {})
      : Optimizer<T>(std::move(params)), o_(options) {
    if (!(options.lr > 0.0) || !std::isfinite(options.lr))
      throw ArgumentError("Adam: lr must be finite and > 0, got " + std::to_string(options.lr));
    if (!(options.beta1 >= 0.0 && options.beta1 < 1.0) ||
        !(options.beta2 >= 0.0 && options.beta2 < 1.0)) {
      throw ArgumentError("Adam: betas must be in [0, 1), got (" + std::to_string(options.beta1) +
                          ", " + std::to_string(options.beta2) + ")");
    }
    if (!(options.eps > 0.0)) throw ArgumentError("Adam: eps must be > 0");
    for (Param<T>* p : this->params_) {
      exp_avg_.push_back(Tensor<T>::Zero(p->value.rows(), p->value.cols()));
      exp_avg_sq_.push_back(Tensor<T>::Zero(p->value.rows(), p->value.cols()));
    }
  }

  void step() override { step_range(0, this->value_count()); }

  void step_range(std::size_t begin, std::size_t end) override {
    const double lr = this->scheduled_lr(o_.lr);
    ++this->steps_;
    const double t = static_cast<double>(this->steps_);
    const double bias1 = 1.0 - std::pow(o_.beta1, t);
    const double bias2 = 1.0 - std::pow(o_.beta2, t);
    const T step_size = static_cast<T>(lr / bias1);
    const T bias2_sqrt = static_cast<T>(std::sqrt(bias2));
    const T coupled = o_.decoupled_weight_decay ? T(0) : T(o_.weight_decay);
    const T decoupled = o_.decoupled_weight_decay ? T(1.0 - lr * o_.weight_decay) : T(1);
    this->for_range(begin, end, [&](std::size_t i, Index at, Index n) {
      Param<T>& p = *this->params_[i];
      kernels::adam_update(p.value.data() + at, p.grad.data() + at, exp_avg_[i].data() + at,
                           exp_avg_sq_[i].data() + at, n, T(o_.beta1), T(o_.beta2), step_size,
                           bias2_sqrt, T(o_.eps), coupled, decoupled);
    });
  }

  std::vector<OptimizerState<T>> state() override {
    std::vector<OptimizerState<T>> s;
    for (std::size_t i = 0; i < this->params_.size(); ++i) {
      s.push_back({this->params_[i]->name + ".exp_avg", &exp_avg_[i]});
      s.push_back({this->params_[i]->name + ".exp_avg_sq", &exp_avg_sq_[i]});
    }
    return s;
  }

  /// The learning rate of the next update (the base rate times the schedule's factor).
  double current_lr() const { return this->scheduled_lr(o_.lr); }
  /// The options given at construction, with the current base learning rate.
  const AdamOptions& options() const { return o_; }
  /// Sets the learning rate of the next steps (schedules such as cosine decay).
  void set_lr(double lr) {
    if (!(lr > 0.0) || !std::isfinite(lr))
      throw ArgumentError("Adam::set_lr: lr must be finite and > 0, got " + std::to_string(lr));
    o_.lr = lr;
  }

 private:
  AdamOptions o_;
  std::vector<Tensor<T>> exp_avg_, exp_avg_sq_;
};

}  // namespace aigc
