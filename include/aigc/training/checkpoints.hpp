/// @file
/// aigc: the checkpoints of a training run: the trainer's state, the loader's position and the
/// sums of the epoch in progress, saved every N steps and at each epoch's end, and resumed.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "aigc/data/loader.hpp"
#include "aigc/io/checkpoint.hpp"
#include "aigc/training/log.hpp"

namespace aigc {

/// The checkpoints of one training run, in a CheckpointManager's folder: each holds everything
/// the next step depends on (the trainer's save_state: parameters, buffers, optimisers, RNGs; the
/// loader's position; the epoch's sums), so a resumed run is bitwise the uninterrupted one.
/// `Trainer` has save_state(StateDict&) and load_state(const StateDict&).
template <class Trainer, class T>
class TrainingCheckpoints {
 public:
  /// Checkpoints of `trainer`, `loader` and `sums` (all outliving this; `sums` may be null),
  /// numbered by `step()`.
  /// `last` is kept up to date with the newest checkpoint written or resumed from, so that an
  /// error message can name it.
  TrainingCheckpoints(CheckpointOptions options, Trainer& trainer, BatchLoader<T>& loader,
                      EpochSums* sums, std::function<std::int64_t()> step, std::string& last)
      : manager_(std::move(options)),
        trainer_(trainer),
        loader_(loader),
        sums_(sums),
        step_(std::move(step)),
        last_(last) {}

  /// Writes the checkpoint of the current step.
  void save() {
    StateDict s;
    trainer_.save_state(s);
    save_loader(s, loader_);
    if (sums_) sums_->save(s);
    last_ = manager_.save(s, step_());
  }

  /// Resumes from `resume` (a file, or a folder's newest good checkpoint:
  /// resume_newest_checkpoint) and, when `announce`, says so on stdout; returns where the logs
  /// pick up. Nothing when `resume` is empty.
  std::optional<LogResume> resume(const std::string& resume, bool announce = true) {
    if (resume.empty()) return std::nullopt;
    last_ = resume_newest_checkpoint(resume, manager_.options().prefix, [&](const StateDict& s) {
      trainer_.load_state(s);
      load_loader(s, loader_);
      if (sums_) sums_->load(s);
    });
    if (announce)
      std::printf("resumed from %s at step %lld (epoch %lld, batch %lld)\n", last_.c_str(),
                  static_cast<long long>(step_()), static_cast<long long>(loader_.epoch() + 1),
                  static_cast<long long>(loader_.batch_index()));
    return LogResume{step_(), loader_.epoch(), loader_.batches_per_epoch()};
  }

 private:
  CheckpointManager manager_;
  Trainer& trainer_;
  BatchLoader<T>& loader_;
  EpochSums* sums_;
  std::function<std::int64_t()> step_;
  std::string& last_;
};

}  // namespace aigc
