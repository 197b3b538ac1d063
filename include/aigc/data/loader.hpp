/// @file
/// aigc: a seeded, shuffling mini-batch loader.
#pragma once

#include <cstdint>
#include <numeric>
#include <vector>

#include "aigc/core/rng.hpp"
#include "aigc/core/state.hpp"
#include "aigc/data/dataset.hpp"
#include "aigc/kernels/elementwise.hpp"

namespace aigc {

/// How a BatchLoader walks a data set.
struct LoaderOptions {
  Index batch_size = 128;  ///< rows per batch
  bool shuffle = true;     ///< a new random order every epoch (else the data set's order)
  bool drop_last = false;  ///< false: the last, partial batch is kept
  std::uint64_t seed = 0;  ///< seed of the shuffling
};

/// Walks a data set in mini-batches. Epoch e's order is a permutation drawn from (seed, e) alone,
/// so a position (epoch, batch) fully describes the loader's state.
template <class T>
class BatchLoader {
 public:
  /// A loader over `data`, which must outlive it; starts at batch 0 of epoch 0.
  BatchLoader(const Dataset<T>& data, LoaderOptions options) : data_(&data), o_(options) {
    if (options.batch_size <= 0) {
      throw ArgumentError("BatchLoader: batch size must be positive, got " +
                          std::to_string(options.batch_size));
    }
    if (data.size() == 0) throw ArgumentError("BatchLoader: the data set is empty");
    if (options.drop_last && data.size() < options.batch_size) {
      throw ArgumentError("BatchLoader: drop_last with batch size " +
                          std::to_string(options.batch_size) + " leaves no batch of a data set of " +
                          std::to_string(data.size()));
    }
    order_.resize(static_cast<std::size_t>(data.size()));
    seek(0, 0);
  }

  /// Number of batches in one epoch.
  Index batches_per_epoch() const {
    const Index n = data_->size(), b = o_.batch_size;
    return o_.drop_last ? n / b : (n + b - 1) / b;
  }

  /// Fills x (and labels, if given) with the next batch of this epoch; false at the epoch's end,
  /// after which the loader moves to the next epoch.
  bool next(Tensor<T>& x, std::vector<int>* labels = nullptr) {
    if (batch_ == batches_per_epoch()) {
      seek(epoch_ + 1, 0);
      return false;
    }
    const Index begin = batch_ * o_.batch_size;
    const Index rows = std::min(o_.batch_size, data_->size() - begin);
    x.resize(rows, data_->features());
    if (labels) labels->resize(static_cast<std::size_t>(rows));
    kernels::gather_rows(data_->images.data(), data_->features(),
                         order_.data() + static_cast<std::size_t>(begin), rows, x.data());
    if (labels) {
      for (Index r = 0; r < rows; ++r) {
        const auto src = static_cast<std::size_t>(order_[static_cast<std::size_t>(begin + r)]);
        (*labels)[static_cast<std::size_t>(r)] = data_->labels.empty() ? 0 : data_->labels[src];
      }
    }
    ++batch_;
    return true;
  }

  /// Moves to batch `batch` of epoch `epoch` (exact resume).
  void seek(std::int64_t epoch, Index batch) {
    if (batch < 0 || batch > batches_per_epoch()) {
      throw ArgumentError("BatchLoader::seek: batch " + std::to_string(batch) + " out of [0, " +
                          std::to_string(batches_per_epoch()) + "]");
    }
    if (epoch != epoch_ || !ordered_) {
      std::iota(order_.begin(), order_.end(), Index{0});
      if (o_.shuffle) {
        Rng rng(o_.seed * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(epoch) + 1);
        for (std::size_t i = order_.size() - 1; i > 0; --i) {
          std::swap(order_[i], order_[rng.below(i + 1)]);
        }
      }
      ordered_ = true;
    }
    epoch_ = epoch;
    batch_ = batch;
  }

  /// The current epoch.
  std::int64_t epoch() const { return epoch_; }
  /// The next batch of the current epoch.
  Index batch_index() const { return batch_; }
  /// The order of the current epoch: row indices into the data set.
  const std::vector<Index>& order() const { return order_; }
  /// The options given at construction.
  const LoaderOptions& options() const { return o_; }

 private:
  const Dataset<T>* data_;
  LoaderOptions o_;
  std::vector<Index> order_;
  std::int64_t epoch_ = 0;
  Index batch_ = 0;
  bool ordered_ = false;
};

/// Saves the loader's position and the options that give it meaning under "<prefix>...".
template <class T>
void save_loader(StateDict& s, const BatchLoader<T>& loader,
                 const std::string& prefix = "loader/") {
  s.put_int(prefix + "epoch", loader.epoch());
  s.put_int(prefix + "batch", loader.batch_index());
  s.put_int(prefix + "batch_size", loader.options().batch_size);
  s.put_u64(prefix + "seed", loader.options().seed);
  s.put_int(prefix + "shuffle", loader.options().shuffle ? 1 : 0);
  s.put_int(prefix + "drop_last", loader.options().drop_last ? 1 : 0);
  s.put_int(prefix + "batches_per_epoch", loader.batches_per_epoch());
}

/// Moves the loader to the saved position; the loader must walk the same data in the same way
/// (batch size, seed, shuffling, number of batches), or the position would mean another batch.
template <class T>
void load_loader(const StateDict& s, BatchLoader<T>& loader,
                 const std::string& prefix = "loader/") {
  const std::string src = s.source.empty() ? "state" : s.source;
  auto same = [&](const char* what, std::int64_t saved, std::int64_t now) {
    if (saved != now) {
      throw ArgumentError(src + ": the data loader's " + what + " was " + std::to_string(saved) +
                          " when saved but is " + std::to_string(now) +
                          " now; an exact resume needs the same data and options");
    }
  };
  const LoaderOptions& o = loader.options();
  same("batch_size", s.get_int(prefix + "batch_size"), o.batch_size);
  same("seed", static_cast<std::int64_t>(s.get_u64(prefix + "seed")),
       static_cast<std::int64_t>(o.seed));
  same("shuffle", s.get_int(prefix + "shuffle"), o.shuffle ? 1 : 0);
  same("drop_last", s.get_int(prefix + "drop_last"), o.drop_last ? 1 : 0);
  same("batches_per_epoch", s.get_int(prefix + "batches_per_epoch"), loader.batches_per_epoch());
  const std::int64_t epoch = s.get_int(prefix + "epoch");
  if (epoch < 0)
    throw FileError(src + ": the data loader's epoch is negative (" + std::to_string(epoch) + ")");
  loader.seek(epoch, s.get_int(prefix + "batch"));
}

}  // namespace aigc
