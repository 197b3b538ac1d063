/// @file
/// aigc: a progress line on stderr during an epoch (batch n/N, rate, ETA, running losses).
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aigc/core/error.hpp"
#include "aigc/core/tensor.hpp"

namespace aigc {

/// How a Progress line is shown.
struct ProgressOptions {
  /// How the line is shown: redrawn in place with a carriage return on a terminal, or as plain
  /// lines (one every `interval` seconds) when the stream is a file or a pipe.
  enum class Mode {
    automatic,  ///< terminal if isatty(), else plain
    terminal,   ///< redrawn in place
    plain       ///< one line every interval seconds
  };
  Mode mode = Mode::automatic;  ///< see Mode
  double interval = -1.0;       ///< seconds between redraws; < 0: 0.1 on a terminal, 10 otherwise
};

/// One named value of a batch, e.g. {"loss", 103.2}.
using ProgressValue = std::pair<std::string_view, double>;

/// Shows the progress of one epoch of `total` batches; the values passed to update() are shown as
/// running means over the batches seen so far.
class Progress {
 public:
  /// The progress of `total` batches, shown on `out` after `label` (e.g. "epoch 3"); `total` may
  /// be 0 (an epoch resumed from a checkpoint of its last batch has none left).
  Progress(std::string label, Index total, ProgressOptions options = {}, std::FILE* out = stderr)
      : label_(std::move(label)), total_(total), out_(out) {
    if (total < 0)
      throw ArgumentError("Progress '" + label_ + "': the number of batches is negative");
    terminal_ = options.mode == ProgressOptions::Mode::terminal ||
                (options.mode == ProgressOptions::Mode::automatic && isatty(fileno(out)) == 1);
    interval_ = options.interval >= 0.0 ? options.interval : (terminal_ ? 0.1 : 10.0);
    start_ = last_ = std::chrono::steady_clock::now();
  }

  /// One batch of `samples` samples done, with its values.
  void update(Index samples, std::initializer_list<ProgressValue> values) {
    update<std::initializer_list<ProgressValue>>(samples, values);
  }
  /// One batch of `samples` samples done, with its values (any range of ProgressValue).
  template <class Values>
  void update(Index samples, const Values& values) {
    ++done_;
    samples_ += samples;
    if (sums_.empty()) {
      for (const auto& v : values) sums_.emplace_back(std::string(v.first), 0.0);
    }
    if (sums_.size() != values.size()) {
      throw ArgumentError("Progress '" + label_ + "': update() got " +
                          std::to_string(values.size()) + " values, the first call had " +
                          std::to_string(sums_.size()));
    }
    std::size_t i = 0;
    for (const auto& v : values) sums_[i++].second += v.second;
    const auto now = std::chrono::steady_clock::now();
    if (done_ < total_ && std::chrono::duration<double>(now - last_).count() < interval_) return;
    last_ = now;
    draw(done_ == total_ && terminal_);
  }

  /// Ends the epoch's display: the final line, then a newline on a terminal.
  void finish() {
    if (finished_) return;
    finished_ = true;
    if (done_ != total_) draw(true);  // the last batch drew the final line already
  }

  ~Progress() {
    try {
      finish();
    } catch (...) {
    }
  }

  /// Batches done so far.
  Index done() const { return done_; }
  /// Seconds since construction.
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  /// The running mean of value `i` (in the order of update()'s values).
  double mean(std::size_t i) const {
    return done_ == 0 ? 0.0 : sums_.at(i).second / static_cast<double>(done_);
  }

  /// The text of the line, e.g. "epoch 3  120/469  25.1 batch/s 3212 img/s  ETA 0:14  loss 103.2".
  std::string line() const {
    const double s = seconds();
    const double rate = s > 0 ? static_cast<double>(done_) / s : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : 0.0;
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s  %lld/%lld  %.1f batch/s %.0f img/s  %s %s", label_.c_str(),
                  static_cast<long long>(done_), static_cast<long long>(total_), rate,
                  s > 0 ? static_cast<double>(samples_) / s : 0.0, done_ == total_ ? "took" : "ETA",
                  clock(done_ == total_ ? s : eta).c_str());
    std::string out = buf;
    for (std::size_t i = 0; i < sums_.size(); ++i) {
      std::snprintf(buf, sizeof buf, "  %s %.4g", sums_[i].first.c_str(), mean(i));
      out += buf;
    }
    return out;
  }

 private:
  static std::string clock(double seconds) {
    const long long t = static_cast<long long>(seconds + 0.5);
    char buf[32];
    if (t >= 3600) {
      std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", t / 3600, (t / 60) % 60, t % 60);
    } else {
      std::snprintf(buf, sizeof buf, "%lld:%02lld", t / 60, t % 60);
    }
    return buf;
  }

  /// The line, redrawn in place on a terminal (`last` ends it with a newline); a line otherwise.
  void draw(bool last) {
    if (terminal_) {
      std::fprintf(out_, "\r%s\x1b[K%s", line().c_str(), last ? "\n" : "");
    } else {
      std::fprintf(out_, "%s\n", line().c_str());
    }
    std::fflush(out_);
  }

  std::string label_;
  Index total_;
  std::FILE* out_;
  bool terminal_ = false, finished_ = false;
  double interval_ = 0.0;
  Index done_ = 0, samples_ = 0;
  std::vector<std::pair<std::string, double>> sums_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace aigc
