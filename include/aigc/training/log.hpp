/// @file
/// aigc: everything a training run writes about itself in one place: per-step and per-epoch CSV,
/// TensorBoard scalars and images, PNG grids, and the loss-curve plot.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "aigc/core/state.hpp"
#include "aigc/core/tensor.hpp"
#include "aigc/io/csv_log.hpp"
#include "aigc/io/plot.hpp"
#include "aigc/io/png.hpp"
#include "aigc/io/tensorboard.hpp"

namespace aigc {

/// Where a resumed run picks its logs up: the steps it has taken and the epochs it has finished.
struct LogResume {
  std::int64_t step = 0;         ///< steps.csv keeps its rows of steps <= step
  std::int64_t epochs_done = 0;  ///< metrics.csv keeps its rows of epochs <= epochs_done
  Index batches_per_epoch = 1;   ///< places the kept steps on loss.png's epoch axis

  /// The rows of a per-step log to keep: column "step" up to `step`.
  CsvKeep steps() const { return {"step", static_cast<double>(step)}; }
  /// The rows of a per-epoch log to keep: column "epoch" up to `epochs_done`.
  CsvKeep epochs() const { return {"epoch", static_cast<double>(epochs_done)}; }
};

/// The sums behind an epoch's mean values. Checkpoints hold them ("run/epoch_sums"), so an epoch
/// resumed in the middle reports the means an uninterrupted one would.
class EpochSums {
 public:
  /// Sums of n values, all zero.
  explicit EpochSums(std::size_t n) : sums_(2 * n, 0.0), n_(n) {}

  /// Adds `value` with `weight` to value i's sum.
  void add(std::size_t i, double value, double weight = 1.0) {
    sums_[i] += value;
    sums_[n_ + i] += weight;
  }
  /// Value i's weighted mean over the epoch so far; nan when nothing was added.
  double mean(std::size_t i) const {
    return sums_[n_ + i] > 0 ? sums_[i] / sums_[n_ + i] : std::nan("");
  }
  /// Zeroes every sum: a new epoch.
  void reset() { std::fill(sums_.begin(), sums_.end(), 0.0); }

  /// Saves the sums and weights under "run/epoch_sums".
  void save(StateDict& s) const { s.put_array("run/epoch_sums", sums_.data(), 2, n_); }
  /// Restores what save() saved (a checkpoint without them leaves the sums at zero).
  void load(const StateDict& s) {
    if (s.contains("run/epoch_sums")) s.get_array("run/epoch_sums", sums_.data(), sums_.size());
  }

 private:
  std::vector<double> sums_;  // n sums, then n weights
  std::size_t n_;
};

/// Which of a TrainingLog's outputs are written.
struct TrainingLogOptions {
  bool csv = true;          ///< steps.csv and metrics.csv
  bool tensorboard = true;  ///< tensorboard/events.out.tfevents.*
  bool plot = true;         ///< loss.png
};

/// Writes into `dir`: steps.csv (epoch, step, the step values), metrics.csv (epoch, step, the
/// epoch values, seconds), tensorboard/events.out.tfevents.* ("step/<name>", "epoch/<name>" and
/// images), loss.png (the step and epoch values against epochs), and the images given to image().
/// A step value that is nan is left out of TensorBoard and the plot (a gap).
class TrainingLog {
 public:
  /// Opens the logs in `dir`, with the names of the per-step and per-epoch values and the title
  /// of loss.png. A resumed run passes its resume point: the CSV logs are then continued, their
  /// rows past it dropped (CsvKeep), loss.png redrawn from the rows kept, and TensorBoard told
  /// that the run restarts after `resume->step` (a new event file in the same folder).
  TrainingLog(const std::string& dir, std::vector<std::string> step_names,
              std::vector<std::string> epoch_names, std::string plot_title,
              const std::optional<LogResume>& resume = std::nullopt,
              TrainingLogOptions options = {})
      : dir_(dir),
        step_names_(std::move(step_names)),
        epoch_names_(std::move(epoch_names)),
        title_(std::move(plot_title)),
        o_(options) {
    if (o_.csv) {
      steps_.emplace(dir + "/steps.csv", with_prefix({"epoch", "step"}, step_names_),
                     resume ? std::optional(resume->steps()) : std::nullopt);
      epochs_.emplace(dir + "/metrics.csv",
                      with_prefix({"epoch", "step"}, with_prefix(epoch_names_, {"seconds"})),
                      resume ? std::optional(resume->epochs()) : std::nullopt);
    }
    if (o_.tensorboard) {
      tb_.emplace(dir + "/tensorboard");
      if (resume) tb_->add_session_start(resume->step + 1);
    }
    for (const auto& n : step_names_) step_series_.push_back({n + " (batch)", {}, {}});
    for (const auto& n : epoch_names_) epoch_series_.push_back({n, {}, {}});
    if (resume && o_.csv) replot(*resume);
  }

  /// One training step; `epoch_position` is the fractional epoch (2.5: halfway through epoch 3).
  void step(int epoch, std::int64_t step, double epoch_position,
            const std::vector<double>& values) {
    if (steps_) steps_->row(with_prefix({double(epoch), double(step)}, values));
    for (std::size_t i = 0; i < values.size() && i < step_names_.size(); ++i) {
      if (tb_ && !std::isnan(values[i])) tb_->add_scalar("step/" + step_names_[i], values[i], step);
      step_series_[i].x.push_back(epoch_position);
      step_series_[i].y.push_back(values[i]);
    }
  }

  /// The end of an epoch of `seconds`: its values, then loss.png redrawn.
  void epoch(int epoch, std::int64_t step, const std::vector<double>& values, double seconds) {
    if (epochs_)
      epochs_->row(with_prefix({double(epoch), double(step)}, with_prefix(values, {seconds})));
    for (std::size_t i = 0; i < values.size() && i < epoch_names_.size(); ++i) {
      if (tb_) tb_->add_scalar("epoch/" + epoch_names_[i], values[i], step);
      epoch_series_[i].x.push_back(epoch);
      epoch_series_[i].y.push_back(values[i]);
    }
    if (!o_.plot) return;
    std::vector<PlotSeries> all = step_series_;
    all.insert(all.end(), epoch_series_.begin(), epoch_series_.end());
    write_plot_png(dir_ + "/loss.png", all, {.title = title_});
    written("loss.png");
  }

  /// A picture: written as `<dir>/<name>.png` and to TensorBoard under `name`.
  void image(const std::string& name, const Image& img, std::int64_t step) {
    write_png(dir_ + "/" + name + ".png", img);
    if (tb_) tb_->add_image(name, img, step);
    written(name + ".png");
  }

  /// The files written so far (relative to the folder), e.g. "loss.png", "steps.csv".
  std::vector<std::string> files() const {
    std::vector<std::string> all = images_;
    if (steps_) all.insert(all.end(), {"steps.csv", "metrics.csv"});
    if (tb_) all.push_back(tb_->path().substr(dir_.size() + 1));
    return all;
  }

  /// The TensorBoard writer, for anything else to log (null when TensorBoard is off).
  TensorBoardWriter* tensorboard() { return tb_ ? &*tb_ : nullptr; }

 private:
  template <class V>
  static std::vector<V> with_prefix(std::vector<V> head, const std::vector<V>& tail) {
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
  }

  void written(const std::string& name) {
    if (std::find(images_.begin(), images_.end(), name) == images_.end()) images_.push_back(name);
  }

  // The series of loss.png from the rows the CSV logs kept: the k-th step row of epoch e sits at
  // e - 1 + k / batches_per_epoch, as step() placed it.
  void replot(const LogResume& resume) {
    std::int64_t epoch = 0, k = 0;
    for (const std::vector<double>& row : steps_->kept_rows()) {
      const auto e = static_cast<std::int64_t>(row[0]);
      k = e == epoch ? k + 1 : 1;
      epoch = e;
      for (std::size_t i = 0; i < step_series_.size() && i + 2 < row.size(); ++i) {
        step_series_[i].x.push_back(static_cast<double>(e - 1) +
                                    static_cast<double>(k) / static_cast<double>(std::max<Index>(
                                                                 resume.batches_per_epoch, 1)));
        step_series_[i].y.push_back(row[i + 2]);
      }
    }
    for (const std::vector<double>& row : epochs_->kept_rows()) {
      for (std::size_t i = 0; i < epoch_series_.size() && i + 2 < row.size(); ++i) {
        epoch_series_[i].x.push_back(row[0]);
        epoch_series_[i].y.push_back(row[i + 2]);
      }
    }
  }

  std::string dir_;
  std::vector<std::string> step_names_, epoch_names_;
  std::string title_;
  TrainingLogOptions o_;
  std::optional<CsvLog> steps_, epochs_;
  std::optional<TensorBoardWriter> tb_;
  std::vector<PlotSeries> step_series_, epoch_series_;
  std::vector<std::string> images_;
};

}  // namespace aigc
