/// @file
/// aigc: an image data set stored as bytes (a quarter of its float size), converted to values
/// batch by batch by the loader; subsets, a seeded held-out split, and conversion to Dataset<T>.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "aigc/core/error.hpp"
#include "aigc/core/rng.hpp"
#include "aigc/data/dataset.hpp"

namespace aigc {

/// Images as rows of bytes 0..255 (count x channels*height*width, NCHW), with their labels, the
/// class names and the files they came from; `scale` says how the loader maps bytes to values.
struct ByteDataset {
  std::vector<std::uint8_t> pixels;      ///< count * features() bytes, one image per row
  std::vector<int> labels;               ///< one per image in [0, num_classes); empty: no labels
  std::vector<std::string> class_names;  ///< name of class c (its folder), for c < num_classes
  std::vector<std::string> files;        ///< the file of each image, relative to its folder
  Index count = 0;                       ///< number of images
  Index channels = 1;                    ///< channels of one image (1 grey, 3 RGB)
  Index height = 0;                      ///< rows of pixels of one image
  Index width = 0;                       ///< columns of pixels of one image
  int num_classes = 0;                   ///< number of classes; 0 without labels
  PixelScale scale = PixelScale::unit;   ///< the values the bytes stand for

  /// Number of images.
  Index size() const { return count; }
  /// Bytes (values) per image: channels * height * width.
  Index features() const { return channels * height * width; }
  /// The bytes of image i.
  const std::uint8_t* row(Index i) const {
    return pixels.data() + static_cast<std::size_t>(i) * static_cast<std::size_t>(features());
  }
};

/// Multiplier and offset of a PixelScale: value = byte * mul + add.
template <class T>
void pixel_scale_factors(PixelScale scale, T& mul, T& add) {
  mul = scale == PixelScale::unit ? T(1) / T(255) : T(2) / T(255);
  add = scale == PixelScale::unit ? T(0) : T(-1);
}

/// The images of `data` as values of type T (for evaluation sets, grids and metrics; training
/// reads bytes through the loader).
template <class T>
Dataset<T> to_dataset(const ByteDataset& data) {
  Dataset<T> d;
  d.channels = data.channels;
  d.height = data.height;
  d.width = data.width;
  d.labels = data.labels;
  d.num_classes = data.num_classes;
  d.images.resize(data.count, data.features());
  T mul, add;
  pixel_scale_factors(data.scale, mul, add);
  T* out = d.images.data();
  for (std::size_t i = 0; i < data.pixels.size(); ++i)
    out[i] = static_cast<T>(data.pixels[i]) * mul + add;
  return d;
}

/// The images rows[0], rows[1], ... of `data` (with their labels and files), in that order.
inline ByteDataset subset(const ByteDataset& data, const std::vector<Index>& rows) {
  ByteDataset s;
  s.class_names = data.class_names;
  s.channels = data.channels;
  s.height = data.height;
  s.width = data.width;
  s.num_classes = data.num_classes;
  s.scale = data.scale;
  s.count = static_cast<Index>(rows.size());
  const auto f = static_cast<std::size_t>(data.features());
  s.pixels.resize(rows.size() * f);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= data.count) {
      throw ArgumentError("subset: row " + std::to_string(rows[i]) + " is out of range [0, " +
                          std::to_string(data.count) + ")");
    }
    std::copy_n(data.row(rows[i]), f, s.pixels.data() + i * f);
    if (!data.labels.empty()) s.labels.push_back(data.labels[static_cast<std::size_t>(rows[i])]);
    if (!data.files.empty()) s.files.push_back(data.files[static_cast<std::size_t>(rows[i])]);
  }
  return s;
}

/// A data set split in two: the images trained on and the held-out ones.
struct HoldoutSplit {
  ByteDataset train;  ///< the images not held out, in their original order
  ByteDataset test;   ///< the held-out images, in their original order
};

/// Holds out round(fraction * n) images drawn by `seed`: per class when the set has labels (so
/// every class keeps its share; a class of at least 2 images gives at least one), else over the
/// whole set. The same data, fraction and seed always give the same split.
inline HoldoutSplit split_holdout(const ByteDataset& data, double fraction = 0.1,
                                  std::uint64_t seed = 0) {
  if (!(fraction > 0.0 && fraction < 1.0)) {
    throw ArgumentError("split_holdout: the held-out fraction must be in (0, 1), got " +
                        std::to_string(fraction));
  }
  const int groups = data.labels.empty() ? 1 : std::max(1, data.num_classes);
  std::vector<std::vector<Index>> members(static_cast<std::size_t>(groups));
  for (Index i = 0; i < data.count; ++i) {
    const int g = data.labels.empty() ? 0 : data.labels[static_cast<std::size_t>(i)];
    if (g < 0 || g >= groups) {
      throw ArgumentError("split_holdout: image " + std::to_string(i) + " has label " +
                          std::to_string(g) + ", outside [0, " + std::to_string(groups) + ")");
    }
    members[static_cast<std::size_t>(g)].push_back(i);
  }
  std::vector<char> held(static_cast<std::size_t>(data.count), 0);
  for (int g = 0; g < groups; ++g) {
    std::vector<Index>& m = members[static_cast<std::size_t>(g)];
    auto take = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(m.size())));
    if (take == 0 && m.size() >= 2) take = 1;
    if (take == m.size() && take > 0) --take;
    Rng rng(seed * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(g) + 0x5B117ULL);
    for (std::size_t i = 0; i < take; ++i) {  // the first `take` of a seeded shuffle
      std::swap(m[i], m[i + rng.below(m.size() - i)]);
      held[static_cast<std::size_t>(m[i])] = 1;
    }
  }
  std::vector<Index> train, test;
  for (Index i = 0; i < data.count; ++i)
    (held[static_cast<std::size_t>(i)] ? test : train).push_back(i);
  return {subset(data, train), subset(data, test)};
}

}  // namespace aigc
