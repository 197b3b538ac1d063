/// @file
/// aigc: the update of a data-parallel step: the gradients summed over a ProcessGroup and the
/// optimiser's update applied with the same bits on every process, either sharded (each process
/// forms the sum of the values it owns, updates them and their optimiser state, and the processes
/// gather the updated values: ZeRO's first stage, torch's ZeroRedundancyOptimizer) or whole
/// (every process sums and updates everything).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "aigc/core/error.hpp"
#include "aigc/core/process_group.hpp"
#include "aigc/optim/optimizer.hpp"

namespace aigc::detail {

/// One optimiser's update in a trainer's step, alone or data parallel. In order: sum() (nothing
/// without a group), the trainer's own checks of the summed losses, check_finite_grads(), update().
/// Sharded, a process's optimiser state is current only for the values it owns until
/// consolidate_state() gathers it (collective), which a checkpoint needs.
template <class T>
class DataParallelUpdate {
 public:
  /// Sums the gradients of `opt`'s parameters (each process's times `scale`) and `extras` over
  /// `group` in one exchange; nothing when `group` is null. Sharded, only this process's own
  /// values of the gradient sum are formed, and each process checks its own gradients before the
  /// exchange (when `check_finite`), the result riding along with the extras, so that every
  /// process knows whether any gradient is not finite before anything is updated.
  void sum(ProcessGroup* group, Optimizer<T>& opt, T scale, std::span<double> extras, bool sharded,
           bool check_finite) {
    group_ = group;
    sharded_ = group && sharded && group->size() > 1;
    bad_ = {-1, -1};
    if (!group) return;
    pieces_.clear();
    for (Param<T>* p : opt.params())
      pieces_.emplace_back(p->grad.data(), static_cast<std::size_t>(p->grad.size()));
    if (!sharded_) {
      group->sum_pieces(pieces_, scale, extras);
      return;
    }
    // The extras, then one slot per process: 1 + the index of its first parameter whose own
    // gradient is not finite (0: none).
    const std::size_t m = extras.size();
    const auto P = static_cast<std::size_t>(group->size());
    extras_.assign(m + P, 0.0);
    std::copy(extras.begin(), extras.end(), extras_.begin());
    if (check_finite) {
      const std::vector<Param<T>*>& params = opt.params();
      for (std::size_t i = 0; i < params.size(); ++i) {
        if (!kernels::all_finite(params[i]->grad.data(), params[i]->grad.size())) {
          extras_[m + static_cast<std::size_t>(group->rank())] = static_cast<double>(i + 1);
          break;
        }
      }
    }
    group->sum_owned_pieces(pieces_, scale, extras_);
    std::copy(extras_.begin(), extras_.begin() + static_cast<std::ptrdiff_t>(m), extras.begin());
    for (std::size_t r = 0; r < P; ++r) {
      if (extras_[m + r] > 0.0) {
        bad_ = {static_cast<int>(r), static_cast<int>(extras_[m + r]) - 1};
        break;
      }
    }
  }

  /// Throws NumericError naming `who`, the step and the first parameter whose gradient (summed,
  /// or sharded: a process's own) holds a NaN or an infinity. Sharded, an overflow of the sum
  /// itself (finite gradients whose sum is not) is not seen here; it makes the owner's values
  /// NaN, and the next step's loss check stops the run.
  void check_finite_grads(Optimizer<T>& opt, const char* who, std::int64_t step) const {
    if (!sharded_) {
      aigc::check_finite_grads(opt.params(), who, step);
      return;
    }
    if (bad_.first < 0) return;
    const Param<T>& p = *opt.params()[static_cast<std::size_t>(bad_.second)];
    throw NumericError(std::string(who) + ": step " + std::to_string(step) + ": the gradient of '" +
                       p.name + "' " + shape_string(p.grad) +
                       " is not finite (NaN or infinity) on process " + std::to_string(bad_.first));
  }

  /// The optimiser's update: sharded, of this process's own values, which the processes then
  /// gather; otherwise opt.step().
  void update(Optimizer<T>& opt) {
    if (!sharded_) {
      opt.step();
      return;
    }
    const auto [begin, end] = group_->owned(opt.value_count());
    opt.step_range(begin, end);
    values(opt);
    group_->gather_pieces(pieces_);
    stale_ = true;
  }

  /// Gives every process the whole optimiser state (collective: every process of the group calls
  /// it at the same point); nothing unless a sharded update left it spread over the processes.
  void consolidate_state(Optimizer<T>& opt) {
    if (!stale_) return;
    std::vector<OptimizerState<T>> state = opt.state();
    const std::vector<Param<T>*>& params = opt.params();
    const std::size_t slots = params.empty() ? 0 : state.size() / params.size();
    if (slots * params.size() != state.size()) {
      throw Error("DataParallelUpdate: " + std::to_string(state.size()) +
                  " optimizer state tensors for " + std::to_string(params.size()) +
                  " parameters (not a whole number of slots)");
    }
    // state() lists each parameter's slots in turn; each slot gathered as the values are.
    for (std::size_t k = 0; k < slots; ++k) {
      pieces_.clear();
      for (std::size_t i = 0; i < params.size(); ++i) {
        Tensor<T>& t = *state[i * slots + k].tensor;
        if (t.size() != params[i]->value.size()) {
          throw Error("DataParallelUpdate: optimizer state '" + state[i * slots + k].name +
                      "' is not the shape of its parameter");
        }
        pieces_.emplace_back(t.data(), static_cast<std::size_t>(t.size()));
      }
      group_->gather_pieces(pieces_);
    }
    stale_ = false;
  }

  /// Whether a sharded update left the optimiser state spread over the processes.
  bool state_spread() const { return stale_; }
  /// Forgets that (the state was loaded whole on every process).
  void state_loaded() { stale_ = false; }

 private:
  void values(Optimizer<T>& opt) {
    pieces_.clear();
    for (Param<T>* p : opt.params())
      pieces_.emplace_back(p->value.data(), static_cast<std::size_t>(p->value.size()));
  }

  ProcessGroup* group_ = nullptr;
  bool sharded_ = false, stale_ = false;
  std::pair<int, int> bad_{-1, -1};  ///< the first process with a non-finite gradient, its index
  std::vector<std::span<T>> pieces_;
  std::vector<double> extras_;
};

}  // namespace aigc::detail
