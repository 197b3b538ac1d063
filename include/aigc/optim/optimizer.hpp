/// @file
/// aigc: the optimiser interface and gradient clipping.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "aigc/core/param.hpp"
#include "aigc/core/state.hpp"
#include "aigc/kernels/update.hpp"
#include "aigc/optim/schedule.hpp"

namespace aigc {

/// A named state tensor of an optimiser, e.g. {"exp_avg", param, tensor}, for checkpoints.
template <class T>
struct OptimizerState {
  std::string name;   ///< "<param name>.<slot>"
  Tensor<T>* tensor;  ///< the state, owned by the optimiser
};

/// The base of every optimiser: holds the parameters; step() updates them from their gradients.
template <class T>
class Optimizer {
 public:
  /// An optimiser of `params`, which must outlive it.
  explicit Optimizer(std::vector<Param<T>*> params) : params_(std::move(params)) {
    for (Param<T>* p : params_) {
      if (!p) throw ArgumentError("optimizer: null parameter");
    }
  }
  /// Virtual: optimisers may be owned through Optimizer pointers.
  virtual ~Optimizer() = default;

  /// Applies one update from the accumulated gradients.
  virtual void step() = 0;

  /// Applies one update to the values [begin, end) of the concatenation of the parameters (in
  /// params() order) alone, with the bits step() gives them, and counts the step: what a process
  /// of a sharded data-parallel update does with the values it owns. This default updates all of
  /// them and accepts only the whole range; Adam and Sgd take any.
  virtual void step_range(std::size_t begin, std::size_t end) {
    if (begin != 0 || end != value_count()) {
      throw ArgumentError("optimizer: this optimizer updates all " + std::to_string(value_count()) +
                          " values at once, not [" + std::to_string(begin) + ", " +
                          std::to_string(end) + ")");
    }
    step();
  }

  /// The number of values of all the parameters.
  std::size_t value_count() const {
    std::size_t n = 0;
    for (const Param<T>* p : params_) n += static_cast<std::size_t>(p->value.size());
    return n;
  }

  /// Sets the gradients of all parameters to zero.
  void zero_grad() {
    for (Param<T>* p : params_) {
      kernels::fill(p->grad.data(), p->grad.size(), T(0), kernels::parameter_grain);
    }
  }

  /// Number of steps taken so far.
  std::int64_t steps() const { return steps_; }
  /// Sets the step count (resuming from a checkpoint; Adam's bias correction uses it).
  void set_steps(std::int64_t s) { steps_ = s; }

  /// The optimiser's per-parameter state (momentum buffers, moments), for checkpoints.
  virtual std::vector<OptimizerState<T>> state() { return {}; }

  /// The parameters this optimiser updates.
  const std::vector<Param<T>*>& params() const { return params_; }

  /// Follows `schedule` from now on: update t (counted by steps()) uses the base learning rate
  /// times lr_factor(schedule, t). A schedule is a function of the step count alone, so a
  /// resumed optimiser follows it exactly.
  void set_schedule(const LrSchedule& schedule) {
    check_schedule(schedule, "optimizer");
    schedule_ = schedule;
  }
  /// The schedule followed (constant by default).
  const LrSchedule& schedule() const { return schedule_; }

 protected:
  /// The learning rate of the next update: `base` times the schedule's factor (exactly `base`
  /// under the constant schedule).
  double scheduled_lr(double base) const {
    return schedule_.is_constant() ? base : base * lr_factor(schedule_, steps_);
  }

  /// Calls f(i, offset, count) for each parameter i with values in [begin, end) of the
  /// concatenation: its values [offset, offset + count).
  template <class F>
  void for_range(std::size_t begin, std::size_t end, F&& f) const {
    std::size_t at = 0;
    for (std::size_t i = 0; i < params_.size() && at < end; ++i) {
      const auto n = static_cast<std::size_t>(params_[i]->value.size());
      const std::size_t lo = std::max(at, begin), hi = std::min(at + n, end);
      if (lo < hi) f(i, static_cast<Index>(lo - at), static_cast<Index>(hi - lo));
      at += n;
    }
  }

  LrSchedule schedule_{};          ///< the learning-rate schedule
  std::vector<Param<T>*> params_;  ///< the parameters updated by step()
  std::int64_t steps_ = 0;         ///< steps taken
};

/// Scales all gradients so that their joint L2 norm is at most max_norm
/// (torch.nn.utils.clip_grad_norm_); returns the norm before clipping.
template <class T>
double clip_grad_norm(const std::vector<Param<T>*>& params, double max_norm) {
  double total = 0.0;
  for (Param<T>* p : params) total += kernels::sum_of_squares(p->grad.data(), p->grad.size());
  total = std::sqrt(total);
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1.0) {
    for (Param<T>* p : params) kernels::scale(p->grad.data(), p->grad.size(), static_cast<T>(coef));
  }
  return total;
}

/// Throws NumericError naming `who`, the step and the first parameter whose gradient holds a NaN
/// or an infinity.
template <class T>
void check_finite_grads(const std::vector<Param<T>*>& params, const char* who, std::int64_t step) {
  for (const Param<T>* p : params) {
    if (!kernels::all_finite(p->grad.data(), p->grad.size())) {
      throw NumericError(std::string(who) + ": step " + std::to_string(step) +
                         ": the gradient of '" + p->name + "' " + shape_string(p->grad) +
                         " is not finite (NaN or infinity)");
    }
  }
}

/// Saves the optimiser's step count ("<prefix>steps") and its state tensors ("<prefix><name>").
template <class T>
void save_optimizer(StateDict& s, Optimizer<T>& opt, const std::string& prefix = "optim/") {
  s.put_int(prefix + "steps", opt.steps());
  for (const OptimizerState<T>& st : opt.state()) s.put_tensor(prefix + st.name, *st.tensor);
}

/// Restores what save_optimizer saved, checking every name and shape.
template <class T>
void load_optimizer(const StateDict& s, Optimizer<T>& opt, const std::string& prefix = "optim/") {
  const std::int64_t steps = s.get_int(prefix + "steps");
  if (steps < 0) {
    throw FileError((s.source.empty() ? "state" : s.source) + ": '" + prefix +
                    "steps' is negative (" + std::to_string(steps) + ")");
  }
  for (const OptimizerState<T>& st : opt.state()) s.get_tensor(prefix + st.name, *st.tensor);
  opt.set_steps(steps);
}

}  // namespace aigc
