/// @file
/// aigc: a seeded, shuffling mini-batch loader over a data set of values or of bytes, with seeded
/// augmentation (random flips and shifts).
#pragma once

#include <cstdint>
#include <numeric>
#include <vector>

#include "aigc/core/rng.hpp"
#include "aigc/core/state.hpp"
#include "aigc/data/byte_dataset.hpp"
#include "aigc/data/dataset.hpp"
#include "aigc/kernels/elementwise.hpp"
#include "aigc/kernels/image_rows.hpp"

namespace aigc {

/// Random changes of each image as the loader gathers it, drawn from (seed, epoch, position in
/// the epoch) alone, so that a resumed run sees the same images.
struct Augmentation {
  bool flip = false;    ///< mirror left-right with probability 1/2
  Index translate = 0;  ///< move by up to this many pixels in x and in y (reflect padding)
  /// Whether any change is on.
  bool enabled() const { return flip || translate > 0; }
};

/// How a BatchLoader walks a data set.
struct LoaderOptions {
  Index batch_size = 128;  ///< rows per batch
  bool shuffle = true;     ///< a new random order every epoch (else the data set's order)
  bool drop_last = false;  ///< false: the last, partial batch is kept
  std::uint64_t seed = 0;  ///< seed of the shuffling and of the augmentation
  Augmentation augment{};  ///< random flips and shifts (off by default)
};

/// Walks a data set in mini-batches. Epoch e's order is a permutation drawn from (seed, e) alone,
/// so a position (epoch, batch) fully describes the loader's state. A data set of bytes is
/// converted to T batch by batch.
template <class T>
class BatchLoader {
 public:
  /// A loader over `data`, which must outlive it; starts at batch 0 of epoch 0.
  BatchLoader(const Dataset<T>& data, LoaderOptions options)
      : data_(&data),
        labels_(&data.labels),
        o_(options),
        size_(data.size()),
        features_(data.features()),
        channels_(data.channels),
        height_(data.height),
        width_(data.width) {
    init();
  }

  /// A loader over the bytes of `data`, which must outlive it; each batch is converted to values
  /// as data.scale says. Starts at batch 0 of epoch 0.
  BatchLoader(const ByteDataset& data, LoaderOptions options)
      : bytes_(&data),
        labels_(&data.labels),
        o_(options),
        size_(data.size()),
        features_(data.features()),
        channels_(data.channels),
        height_(data.height),
        width_(data.width) {
    pixel_scale_factors(data.scale, mul_, add_);
    init();
  }

  /// Number of batches in one epoch.
  Index batches_per_epoch() const {
    const Index n = size_, b = o_.batch_size;
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
    const Index rows = std::min(o_.batch_size, size_ - begin);
    x.resize(rows, features_);
    if (labels) labels->resize(static_cast<std::size_t>(rows));
    const Index* index = order_.data() + static_cast<std::size_t>(begin);
    const kernels::ImageShift* shifts = nullptr;
    if (o_.augment.enabled()) {
      draw_shifts(begin, rows);
      shifts = shifts_.data();
    }
    if (bytes_) {
      kernels::gather_image_rows(bytes_->pixels.data(), channels_, height_, width_, index, rows,
                                 x.data(), mul_, add_, shifts);
    } else if (shifts) {
      kernels::gather_image_rows(data_->images.data(), channels_, height_, width_, index, rows,
                                 x.data(), T(1), T(0), shifts);
    } else {
      kernels::gather_rows(data_->images.data(), features_, index, rows, x.data());
    }
    if (labels) {
      for (Index r = 0; r < rows; ++r) {
        const auto src = static_cast<std::size_t>(index[r]);
        (*labels)[static_cast<std::size_t>(r)] = labels_->empty() ? 0 : (*labels_)[src];
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
  void init() {
    const LoaderOptions& o = o_;
    if (o.batch_size <= 0) {
      throw ArgumentError("BatchLoader: batch size must be positive, got " +
                          std::to_string(o.batch_size));
    }
    if (size_ == 0) throw ArgumentError("BatchLoader: the data set is empty");
    if (o.drop_last && size_ < o.batch_size) {
      throw ArgumentError("BatchLoader: drop_last with batch size " + std::to_string(o.batch_size) +
                          " leaves no batch of a data set of " + std::to_string(size_));
    }
    if (o.augment.enabled()) {
      if (channels_ * height_ * width_ != features_ || height_ <= 0 || width_ <= 0) {
        throw ArgumentError(
            "BatchLoader: augmentation needs the images' shape, but the data set's " +
            std::to_string(channels_) + "x" + std::to_string(height_) + "x" +
            std::to_string(width_) + " does not give its " + std::to_string(features_) +
            " values per image");
      }
      if (o.augment.translate < 0 || o.augment.translate >= std::min(height_, width_)) {
        throw ArgumentError("BatchLoader: augmentation's translate must be in [0, " +
                            std::to_string(std::min(height_, width_)) + ") for " +
                            std::to_string(height_) + "x" + std::to_string(width_) +
                            " images, got " + std::to_string(o.augment.translate));
      }
      shifts_.resize(static_cast<std::size_t>(o.batch_size));
    }
    order_.resize(static_cast<std::size_t>(size_));
    seek(0, 0);
  }

  /// The augmentation of rows [begin, begin + rows) of this epoch's order: image at position p of
  /// epoch e draws from its own generator, seeded by (seed, e, p).
  void draw_shifts(Index begin, Index rows) {
    const auto t = static_cast<std::uint64_t>(o_.augment.translate);
    for (Index r = 0; r < rows; ++r) {
      Rng rng((o_.seed * 0x9E3779B97F4A7C15ULL + 0xA06E47ULL) ^
              (static_cast<std::uint64_t>(epoch_) * 0xBF58476D1CE4E5B9ULL) ^
              (static_cast<std::uint64_t>(begin + r) * 0x94D049BB133111EBULL));
      kernels::ImageShift& s = shifts_[static_cast<std::size_t>(r)];
      s.flip = o_.augment.flip && (rng.next_u64() >> 63) != 0;
      s.dx = t ? static_cast<int>(rng.below(2 * t + 1)) - static_cast<int>(t) : 0;
      s.dy = t ? static_cast<int>(rng.below(2 * t + 1)) - static_cast<int>(t) : 0;
    }
  }

  const Dataset<T>* data_ = nullptr;
  const ByteDataset* bytes_ = nullptr;
  const std::vector<int>* labels_;
  LoaderOptions o_;
  Index size_, features_, channels_, height_, width_;
  T mul_ = T(1), add_ = T(0);
  std::vector<kernels::ImageShift> shifts_;
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
  s.put_int(prefix + "augment_flip", loader.options().augment.flip ? 1 : 0);
  s.put_int(prefix + "augment_translate", loader.options().augment.translate);
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
  // Checkpoints written before augmentation existed hold no augmentation entries: none was on.
  auto saved = [&](const char* name) {
    return s.contains(prefix + name) ? s.get_int(prefix + name) : std::int64_t{0};
  };
  same("augment_flip", saved("augment_flip"), o.augment.flip ? 1 : 0);
  same("augment_translate", saved("augment_translate"), o.augment.translate);
  const std::int64_t epoch = s.get_int(prefix + "epoch");
  if (epoch < 0)
    throw FileError(src + ": the data loader's epoch is negative (" + std::to_string(epoch) + ")");
  loader.seek(epoch, s.get_int(prefix + "batch"));
}

}  // namespace aigc
