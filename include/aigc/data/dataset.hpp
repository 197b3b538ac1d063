/// @file
/// aigc: an image data set in memory, and the Fashion-MNIST / MNIST loaders.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "aigc/data/idx.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace aigc {

namespace detail {
/// Asks Linux to back the 2 MiB-aligned part of [p, p + bytes) with transparent huge pages (taken
/// where /sys/kernel/mm/transparent_hugepage/enabled allows them on request); call it before the
/// memory is first written. A mini-batch gathers rows scattered over a data set of hundreds of MB:
/// with 4 KiB pages nearly every row misses the TLB. On the development VM the first epoch's reads
/// of freshly loaded 4 KiB pages were also slow: a batch of 128 Fashion-MNIST images took 615 us
/// to gather in the first epoch and 28 us later; with huge pages, 32 us in the first epoch. Returns
/// whether the advice was taken; elsewhere, or for less than 2 MiB, it does nothing.
inline bool advise_huge_pages(void* p, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t huge = std::uintptr_t{1} << 21;
  const std::uintptr_t first = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t begin = (first + huge - 1) & ~(huge - 1);
  const std::uintptr_t end = (first + bytes) & ~(huge - 1);
  if (p == nullptr || end <= begin) return false;
  return madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE) == 0;
#else
  (void)p;
  (void)bytes;
  return false;
#endif
}
}  // namespace detail

/// How pixel bytes 0..255 map to values: [0, 1] (VAEs) or [-1, 1] (GANs with tanh outputs).
enum class PixelScale {
  unit,      ///< x / 255, in [0, 1]
  symmetric  ///< 2 x / 255 - 1, in [-1, 1]
};

/// Images as rows (n x channels*height*width, NCHW), labels in [0, num_classes).
template <class T>
struct Dataset {
  Tensor<T> images;         ///< one image per row, values scaled by a PixelScale
  std::vector<int> labels;  ///< empty when the set has no labels
  Index channels = 1;       ///< channels of one image
  Index height = 0;         ///< rows of pixels of one image
  Index width = 0;          ///< columns of pixels of one image
  int num_classes = 0;      ///< 1 + the largest label; 0 without labels

  /// Number of images.
  Index size() const { return images.rows(); }
  /// Values per image: channels * height * width.
  Index features() const { return images.cols(); }
};

/// The number of images of each class, num_classes values (empty without labels): e.g. the
/// frequencies a conditional GAN draws its fake labels with (GanOptions::class_frequencies).
template <class T>
std::vector<double> class_counts(const Dataset<T>& d) {
  std::vector<double> counts(static_cast<std::size_t>(std::max(d.num_classes, 0)), 0.0);
  for (int l : d.labels) {
    if (l < 0 || l >= d.num_classes) {
      throw ArgumentError("class_counts: label " + std::to_string(l) + " is outside [0, " +
                          std::to_string(d.num_classes) + ")");
    }
    counts[static_cast<std::size_t>(l)] += 1.0;
  }
  return counts;
}

/// Reads an IDX image file, n x rows x cols (grey) or n x channels x rows x cols (NCHW, e.g.
/// colour), and scales it.
template <class T>
Dataset<T> read_idx_images(const std::string& path, PixelScale scale = PixelScale::unit) {
  const bool channels = read_idx_dims(path).size() == 4;
  IdxArray a = read_idx(path, channels ? 4 : 3);
  Dataset<T> d;
  d.channels = channels ? a.dims[1] : 1;
  d.height = a.dims[channels ? 2 : 1];
  d.width = a.dims[channels ? 3 : 2];
  d.images.resize(a.dims[0], d.channels * d.height * d.width);
  detail::advise_huge_pages(d.images.data(), sizeof(T) * static_cast<std::size_t>(d.images.size()));
  const T mul = scale == PixelScale::unit ? T(1) / T(255) : T(2) / T(255);
  const T add = scale == PixelScale::unit ? T(0) : T(-1);
  T* out = d.images.data();
  for (std::size_t i = 0; i < a.values.size(); ++i)
    out[i] = static_cast<T>(a.values[i]) * mul + add;
  return d;
}

/// Reads an IDX label file (n labels); every label must be below max_classes.
inline std::vector<int> read_idx_labels(const std::string& path, int max_classes = 256) {
  IdxArray a = read_idx(path, 1);
  std::vector<int> labels(a.values.begin(), a.values.end());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= max_classes) {
      throw FileError(path + ": label " + std::to_string(labels[i]) + " at index " +
                      std::to_string(i) + " is out of range [0, " + std::to_string(max_classes) +
                      ")");
    }
  }
  return labels;
}

/// Reads an image file and its label file; their counts must agree.
template <class T>
Dataset<T> read_idx_dataset(const std::string& images_path, const std::string& labels_path,
                            PixelScale scale = PixelScale::unit, int max_classes = 256) {
  Dataset<T> d = read_idx_images<T>(images_path, scale);
  d.labels = read_idx_labels(labels_path, max_classes);
  if (static_cast<Index>(d.labels.size()) != d.size()) {
    throw FileError(labels_path + ": holds " + std::to_string(d.labels.size()) + " labels but " +
                    images_path + " holds " + std::to_string(d.size()) + " images");
  }
  int top = -1;
  for (int l : d.labels) top = l > top ? l : top;
  d.num_classes = top + 1;
  return d;
}

/// Where Debian's dataset-fashion-mnist package puts the data.
inline const char* default_fashion_mnist_dir() { return "/usr/share/datasets/fashion-mnist"; }

/// Fashion-MNIST's class names, labels 0 to 9, as the data set names them (IDX files carry no
/// names: a conditional model trained on it is exported with these, so that a user asks
/// aigc-generate for --class "Ankle boot").
inline std::vector<std::string> fashion_mnist_class_names() {
  return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
}

/// Which part of an MNIST-format folder to load.
enum class Split {
  train,  ///< train-*-ubyte
  test    ///< t10k-*-ubyte
};

/// Loads the train or test split of an MNIST-format folder ({train,t10k}-{images-idx3,
/// labels-idx1}-ubyte, each raw or .gz).
template <class T>
Dataset<T> load_mnist_format(const std::string& dir, Split split,
                             PixelScale scale = PixelScale::unit) {
  namespace fs = std::filesystem;
  const std::string prefix = split == Split::train ? "train" : "t10k";
  auto find = [&](const std::string& stem) {
    const fs::path base = fs::path(dir) / stem;
    for (const char* ext : {".gz", ""}) {
      fs::path p = base;
      p += ext;
      std::error_code ec;
      if (fs::is_regular_file(p, ec)) return p.string();
    }
    throw FileError("data directory '" + dir + "': neither " + base.string() + ".gz nor " +
                    base.string() +
                    " exists (install Debian's dataset-fashion-mnist or pass --data)");
  };
  const std::string images = find(prefix + "-images-idx3-ubyte");
  const std::string labels = find(prefix + "-labels-idx1-ubyte");
  Dataset<T> d = read_idx_dataset<T>(images, labels, scale, 10);
  d.num_classes = 10;
  // A program that trains on one split and tests on the other needs one image size in both.
  if (split == Split::test) {
    std::string train;
    try {
      train = find("train-images-idx3-ubyte");
    } catch (const FileError&) {
      return d;  // a folder of the test split alone
    }
    const std::vector<Index> dims = read_idx_dims(train, 3);
    if (dims[1] != d.height || dims[2] != d.width) {
      throw FileError(images + ": images are " + std::to_string(d.height) + "x" +
                      std::to_string(d.width) + " but " + train + " holds " +
                      std::to_string(dims[1]) + "x" + std::to_string(dims[2]) +
                      " images; the two splits must have one image size");
    }
  }
  return d;
}

}  // namespace aigc
