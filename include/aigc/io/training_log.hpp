// aigc: everything an example writes about its training in one place: per-step and per-epoch CSV,
// TensorBoard scalars and images, PNG grids, and the loss-curve plot.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "aigc/core/state.hpp"
#include "aigc/io/csv_log.hpp"
#include "aigc/io/plot.hpp"
#include "aigc/io/png.hpp"
#include "aigc/io/tensorboard.hpp"

namespace aigc {

/// Where a resumed run picks its logs up: the steps it has taken and the epochs it has finished.
struct LogResume {
  std::int64_t step = 0;         ///< steps.csv keeps its rows of steps <= step
  std::int64_t epochs_done = 0;  ///< metrics.csv keeps its rows of epochs <= epochs_done

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

/// Writes into `dir`: steps.csv (epoch, step, the step values), metrics.csv (epoch, step, the
/// epoch values), tensorboard/events.out.tfevents.* ("step/<name>", "epoch/<name>" and images),
/// loss.png (the step and epoch values against epochs), and the
/// images given to image().
class TrainingLog {
 public:
  /// Opens the logs in `dir`, with the names of the per-step and per-epoch values and the title
  /// of loss.png. A resumed run passes its resume point: the CSV logs are then continued, their
  /// rows past it dropped (CsvKeep), instead of started anew.
  TrainingLog(const std::string& dir, std::vector<std::string> step_names,
              std::vector<std::string> epoch_names, std::string plot_title,
              const std::optional<LogResume>& resume = std::nullopt)
      : dir_(dir),
        step_names_(std::move(step_names)),
        epoch_names_(std::move(epoch_names)),
        title_(std::move(plot_title)),
        steps_(dir + "/steps.csv", with_prefix({"epoch", "step"}, step_names_),
               resume ? std::optional(resume->steps()) : std::nullopt),
        epochs_(dir + "/metrics.csv", with_prefix({"epoch", "step"}, epoch_names_),
                resume ? std::optional(resume->epochs()) : std::nullopt),
        tb_(dir + "/tensorboard") {
    for (const auto& n : step_names_) step_series_.push_back({n + " (batch)", {}, {}});
    for (const auto& n : epoch_names_) epoch_series_.push_back({n, {}, {}});
  }

  /// One training step; `epoch_position` is the fractional epoch (2.5: halfway through epoch 3).
  void step(int epoch, std::int64_t step, double epoch_position,
            const std::vector<double>& values) {
    std::vector<double> row = {static_cast<double>(epoch), static_cast<double>(step)};
    row.insert(row.end(), values.begin(), values.end());
    steps_.row(row);
    for (std::size_t i = 0; i < values.size() && i < step_names_.size(); ++i) {
      tb_.add_scalar("step/" + step_names_[i], values[i], step);
      step_series_[i].x.push_back(epoch_position);
      step_series_[i].y.push_back(values[i]);
    }
  }

  /// The end of an epoch: its values, then loss.png redrawn.
  void epoch(int epoch, std::int64_t step, const std::vector<double>& values) {
    std::vector<double> row = {static_cast<double>(epoch), static_cast<double>(step)};
    row.insert(row.end(), values.begin(), values.end());
    epochs_.row(row);
    for (std::size_t i = 0; i < values.size() && i < epoch_names_.size(); ++i) {
      tb_.add_scalar("epoch/" + epoch_names_[i], values[i], step);
      epoch_series_[i].x.push_back(epoch);
      epoch_series_[i].y.push_back(values[i]);
    }
    std::vector<PlotSeries> all = step_series_;
    all.insert(all.end(), epoch_series_.begin(), epoch_series_.end());
    write_plot_png(dir_ + "/loss.png", all, {.title = title_});
  }

  /// A picture: written as `<dir>/<name>.png` and to TensorBoard under `name`.
  void image(const std::string& name, const Image& img, std::int64_t step) {
    write_png(dir_ + "/" + name + ".png", img);
    tb_.add_image(name, img, step);
    if (std::find(images_.begin(), images_.end(), name) == images_.end()) images_.push_back(name);
  }

  /// "wrote <dir>/: ..." naming every file written.
  std::string summary() const {
    std::string s = "wrote " + dir_ + "/: ";
    for (const auto& n : images_) s += n + ".png, ";
    s += "loss.png (curves), metrics.csv (per epoch), steps.csv (per step), " +
         tb_.path().substr(dir_.size() + 1) + " (TensorBoard)";
    return s;
  }

  /// The TensorBoard writer, for anything else to log.
  TensorBoardWriter& tensorboard() { return tb_; }

 private:
  static std::vector<std::string> with_prefix(std::vector<std::string> head,
                                              const std::vector<std::string>& tail) {
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
  }

  std::string dir_;
  std::vector<std::string> step_names_, epoch_names_;
  std::string title_;
  CsvLog steps_, epochs_;
  TensorBoardWriter tb_;
  std::vector<PlotSeries> step_series_, epoch_series_;
  std::vector<std::string> images_;
};

}  // namespace aigc
