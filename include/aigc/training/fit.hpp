/// @file
/// aigc: fit, the training loop every example and user shares (Keras' Model.fit, Lightning's
/// Trainer): epochs over a loader with a progress line, CSV logs, TensorBoard, loss.png,
/// checkpoints (every N steps and at each epoch's end, the newest N kept), resume from a file or
/// a folder, and a stop on a non-finite value that names the last good checkpoint.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "aigc/core/error.hpp"
#include "aigc/data/loader.hpp"
#include "aigc/io/checkpoint.hpp"
#include "aigc/io/progress.hpp"
#include "aigc/models/step_value.hpp"
#include "aigc/training/checkpoints.hpp"
#include "aigc/training/log.hpp"

namespace aigc {

/// A value computed at each epoch's end (e.g. the test loss), logged beside the epoch's means.
struct EpochMetric {
  std::string name{};                 ///< its column in metrics.csv, e.g. "test_loss"
  std::function<double()> compute{};  ///< called once per epoch, after the epoch's last step
};

/// What fit's on_epoch_end callback gets: the epoch that ended and a way to write pictures.
class FitEpoch {
 public:
  /// The end of epoch `epoch` (1-based) at step `step`, logging into `log`; `primary` false: a
  /// process of a data-parallel run other than process 0, which writes no picture.
  FitEpoch(int epoch, std::int64_t step, TrainingLog& log, bool primary = true)
      : epoch_(epoch), step_(step), log_(log), primary_(primary) {}

  /// The epoch that ended, from 1.
  int epoch() const { return epoch_; }
  /// The trainer's step count at its end.
  std::int64_t step() const { return step_; }
  /// Writes `<out>/<name>.png` and, with TensorBoard on, the image under `name` (on process 0
  /// only, in a data-parallel run).
  void image(const std::string& name, const Image& img) {
    if (primary_) log_.image(name, img, step_);
  }
  /// Whether this process writes: false on all but process 0 of a data-parallel run.
  bool primary() const { return primary_; }
  /// The run's TensorBoard writer (null when TensorBoard is off).
  TensorBoardWriter* tensorboard() { return log_.tensorboard(); }

 private:
  int epoch_;
  std::int64_t step_;
  TrainingLog& log_;
  bool primary_;
};

/// What fit does besides training; every output can be switched off.
struct FitOptions {
  int epochs = 10;             ///< epochs in all, counting those before a resumed checkpoint
  std::string out = "out";     ///< folder of the logs, pictures and checkpoints (created)
  std::string name = "model";  ///< checkpoints are `<name>-<step>.aigc`; loss.png's title
  bool progress = true;        ///< a progress line on stderr during each epoch
  ProgressOptions progress_options{};  ///< how the progress line is drawn
  std::FILE* progress_file = stderr;   ///< where the progress line goes
  bool print = true;  ///< one line per epoch on stdout (means, seconds) and the "resumed from" line
  bool csv = true;    ///< steps.csv (every step) and metrics.csv (every epoch)
  bool tensorboard = true;  ///< `<out>/tensorboard/events.out.tfevents.*`
  bool plot = true;         ///< loss.png, redrawn at each epoch's end
  bool checkpoints = true;  ///< a checkpoint at each epoch's end (and every checkpoint_every)
  std::int64_t checkpoint_every = 0;  ///< also a checkpoint every N steps (0: epoch ends only)
  std::string checkpoint_dir{};       ///< "" : `<out>/checkpoints`
  int keep = 3;                       ///< checkpoints kept, newest first (0: all)
  std::string resume{};  ///< "" or a checkpoint file, or a folder whose newest valid one is resumed
  bool stop_on_non_finite = true;  ///< a nan or inf step value stops the run (NumericError)
  std::vector<EpochMetric> epoch_metrics{};  ///< extra per-epoch values (test loss, ...)
  std::function<void(FitEpoch&)>
      on_epoch_end{};  ///< the model's own pictures, before the checkpoint
};

/// What a fit run did.
struct FitResult {
  std::int64_t epochs = 0;      ///< epochs finished, in all
  std::int64_t steps = 0;       ///< the trainer's step count at the end
  std::string last_checkpoint;  ///< the newest checkpoint written or resumed ("" when none)
  std::vector<std::pair<std::string, double>> last_epoch;  ///< the last epoch's means and metrics
  std::vector<std::string> files;  ///< files written into the output folder (relative names)

  /// "<out>/: file, file, ...; last checkpoint <path>".
  std::string summary(const std::string& out) const {
    std::string s = out + "/: ";
    for (std::size_t i = 0; i < files.size(); ++i) s += (i ? ", " : "") + files[i];
    if (!last_checkpoint.empty()) s += "; last checkpoint " + last_checkpoint;
    return s;
  }
};

namespace detail {

/// The statistics type a trainer's step returns: step(x), or step(x, labels) for a trainer that
/// only has the conditional form.
template <class Trainer, class T>
auto fit_step_stats() {
  if constexpr (requires(Trainer & t, const Tensor<T>& x) { t.step(x); }) {
    return std::decay_t<decltype(std::declval<Trainer&>().step(
        std::declval<const Tensor<T>&>()))>{};
  } else {
    return std::decay_t<decltype(std::declval<Trainer&>().step(
        std::declval<const Tensor<T>&>(), std::declval<const std::vector<int>&>()))>{};
  }
}

/// Whether this process writes the logs, pictures and checkpoints: false on all but process 0 of
/// a trainer that trains data parallel (set_process_group).
template <class Trainer>
bool fit_primary(const Trainer& trainer) {
  if constexpr (requires { trainer.process_group(); }) {
    return trainer.process_group() == nullptr || trainer.process_group()->rank() == 0;
  } else {
    return true;
  }
}

/// A data-parallel trainer's consolidate_state() (its optimiser state gathered from the
/// processes of a sharded update; collective), before a checkpoint.
template <class Trainer>
void fit_consolidate(Trainer& trainer) {
  if constexpr (requires { trainer.consolidate_state(); }) trainer.consolidate_state();
}

inline void check_fit_options(const FitOptions& o) {
  if (o.epochs < 0)
    throw ArgumentError("fit: epochs must be >= 0, got " + std::to_string(o.epochs));
  if (o.keep < 0) throw ArgumentError("fit: keep must be >= 0, got " + std::to_string(o.keep));
  if (o.checkpoint_every < 0) {
    throw ArgumentError("fit: checkpoint_every must be >= 0, got " +
                        std::to_string(o.checkpoint_every));
  }
  if (o.out.empty()) throw ArgumentError("fit: the output folder is empty");
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (ec || !std::filesystem::is_directory(o.out)) {
    throw FileError(o.out + ": cannot create the output folder (" +
                    (ec ? ec.message() : std::string("not a folder")) + ")");
  }
}

}  // namespace detail

/// Trains `trainer` on `loader` until the loader's epoch reaches options.epochs (a resumed run
/// first restores the trainer, the loader and the epoch's sums from options.resume). Each step's
/// named values (trainer.step's stats, `values()`: StepValue) are shown, logged and averaged
/// over the epoch by their weights; each epoch ends with its means and metrics, on_epoch_end and
/// a checkpoint. A non-finite value, or the trainer's NumericError, stops the run with a
/// NumericError that names the last good checkpoint. A trainer that trains data parallel
/// (set_process_group) reports the global batch's values; only its process 0 then shows
/// progress, prints, logs, writes pictures and checkpoints (every process resumes).
/// `Trainer` has train_epoch(loader, on_step(stats)), step_count(), save_state(StateDict&),
/// load_state(const StateDict&), and a step(x) or step(x, labels) whose stats have values().
template <class Trainer, class T>
FitResult fit(Trainer& trainer, BatchLoader<T>& loader, const FitOptions& options) {
  using Stats = decltype(detail::fit_step_stats<Trainer, T>());
  const bool primary = detail::fit_primary(trainer);
  FitOptions o = options;
  // Every process reaches the checkpoints (a data-parallel trainer gathers its state there, all
  // processes at once); process 0 writes them.
  const bool saving = options.checkpoints;
  if (!primary) o.progress = o.print = o.csv = o.tensorboard = o.plot = o.checkpoints = false;
  detail::check_fit_options(o);
  std::vector<std::string> names, epoch_names;
  for (const StepValue& v : Stats{}.values()) names.emplace_back(v.name);
  epoch_names = names;
  for (const EpochMetric& m : o.epoch_metrics) epoch_names.push_back(m.name);

  FitResult result;
  EpochSums sums(names.size());
  std::optional<TrainingCheckpoints<Trainer, T>> checkpoints;
  if (o.checkpoints || !o.resume.empty()) {
    checkpoints.emplace(
        CheckpointOptions{
            .folder = o.checkpoint_dir.empty() ? o.out + "/checkpoints" : o.checkpoint_dir,
            .prefix = o.name,
            .keep_last = o.keep},
        trainer, loader, &sums, [&] { return trainer.step_count(); }, result.last_checkpoint);
  }
  const std::optional<LogResume> resume =
      checkpoints ? checkpoints->resume(o.resume, o.print) : std::nullopt;
  TrainingLog log(o.out, names, epoch_names, o.name + " losses", resume,
                  {.csv = o.csv, .tensorboard = o.tensorboard, .plot = o.plot});

  // A checkpoint: every process gathers its state (a data-parallel trainer's, collectively);
  // process 0 writes it.
  const auto checkpoint = [&] {
    detail::fit_consolidate(trainer);
    if (o.checkpoints) checkpoints->save();
  };

  const Index per_epoch = loader.batches_per_epoch(), batch = loader.options().batch_size;
  const auto rows = static_cast<Index>(loader.order().size());
  std::vector<double> values(names.size());
  std::vector<ProgressValue> shown(names.size());
  try {
    while (loader.epoch() < o.epochs) {
      const int epoch = static_cast<int>(loader.epoch()) + 1;
      std::optional<Progress> progress;
      if (o.progress) {
        progress.emplace("epoch " + std::to_string(epoch), per_epoch - loader.batch_index(),
                         o.progress_options, o.progress_file);
      }
      const auto t0 = std::chrono::steady_clock::now();
      trainer.train_epoch(loader, [&](const Stats& s) {
        const std::int64_t step = trainer.step_count();
        std::size_t i = 0;
        for (const StepValue& v : s.values()) {
          if (v.weight > 0 && o.stop_on_non_finite && !std::isfinite(v.value)) {
            throw NumericError("fit: step " + std::to_string(step) + ": " + v.name + " is " +
                               std::to_string(v.value));
          }
          values[i] = v.weight > 0 ? v.value : std::nan("");
          if (v.weight > 0) sums.add(i, v.value * v.weight, v.weight);
          shown[i] = {names[i], v.weight > 0 ? v.value : 0.0};
          ++i;
        }
        const Index k = loader.batch_index();
        if (progress) progress->update(std::min(batch, rows - (k - 1) * batch), shown);
        log.step(epoch, step, epoch - 1 + static_cast<double>(k) / static_cast<double>(per_epoch),
                 values);
        if (saving && o.checkpoint_every > 0 && step % o.checkpoint_every == 0) checkpoint();
      });
      if (progress) progress->finish();
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const std::int64_t step = trainer.step_count();
      std::vector<double> means;
      for (std::size_t i = 0; i < names.size(); ++i) means.push_back(sums.mean(i));
      sums.reset();
      for (const EpochMetric& m : o.epoch_metrics) means.push_back(m.compute());
      log.epoch(epoch, step, means, seconds);
      result.last_epoch.clear();
      for (std::size_t i = 0; i < means.size(); ++i)
        result.last_epoch.emplace_back(epoch_names[i], means[i]);
      if (o.print) {
        std::printf("epoch %2d", epoch);
        for (const auto& [name, value] : result.last_epoch)
          std::printf("  %s %.6g", name.c_str(), value);
        std::printf("  (%.2f s)\n", seconds);
        std::fflush(stdout);
      }
      if (o.on_epoch_end) {
        FitEpoch end(epoch, step, log, primary);
        o.on_epoch_end(end);
      }
      if (saving) checkpoint();
    }
  } catch (const NumericError& e) {
    throw NumericError(
        std::string(e.what()) + "; the last good checkpoint is " +
        (result.last_checkpoint.empty() ? std::string("(none)") : result.last_checkpoint));
  }
  result.epochs = loader.epoch();
  result.steps = trainer.step_count();
  result.files = log.files();
  return result;
}

}  // namespace aigc
