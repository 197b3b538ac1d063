// aigc: everything an example writes about its training in one place: per-step and per-epoch CSV,
// TensorBoard scalars and images, PNG grids, and the loss-curve plot.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "aigc/io/csv_log.hpp"
#include "aigc/io/plot.hpp"
#include "aigc/io/png.hpp"
#include "aigc/io/tensorboard.hpp"

namespace aigc {

/// Writes into `dir`: steps.csv (epoch, step, the step values), metrics.csv (epoch, step, the
/// epoch values), tensorboard/events.out.tfevents.* ("step/<name>", "epoch/<name>" and images),
/// loss.png (the step and epoch values against epochs), and the
/// images given to image().
class TrainingLog {
 public:
  /// Opens the logs in `dir`, with the names of the per-step and per-epoch values and the title
  /// of loss.png.
  TrainingLog(const std::string& dir, std::vector<std::string> step_names,
              std::vector<std::string> epoch_names, std::string plot_title)
      : dir_(dir),
        step_names_(std::move(step_names)),
        epoch_names_(std::move(epoch_names)),
        title_(std::move(plot_title)),
        steps_(dir + "/steps.csv", with_prefix({"epoch", "step"}, step_names_)),
        epochs_(dir + "/metrics.csv", with_prefix({"epoch", "step"}, epoch_names_)),
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
