// aigc: writes images and labels as IDX files (the MNIST format), raw or gzip'd, so generated
// samples can be scored by aigc's evaluator or read by any other framework.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "aigc/core/error.hpp"
#include "aigc/core/tensor.hpp"
#include "aigc/data/dataset.hpp"

namespace aigc {

namespace detail {

inline bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Writes the IDX header and bytes; gzip'd when the path ends in ".gz".
inline void write_idx_bytes(const std::string& path, const std::vector<std::uint32_t>& dims,
                            const std::vector<std::uint8_t>& values) {
  std::vector<std::uint8_t> b = {0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(d >> s));
  }
  b.insert(b.end(), values.begin(), values.end());
  const std::string tmp = path + ".tmp";
  bool ok = false;
  if (ends_with(path, ".gz")) {
    gzFile f = gzopen(tmp.c_str(), "wb6");
    if (f) {
      ok = gzwrite(f, b.data(), static_cast<unsigned>(b.size())) == static_cast<int>(b.size());
      ok = gzclose(f) == Z_OK && ok;
    }
  } else if (std::FILE* f = std::fopen(tmp.c_str(), "wb")) {
    ok = std::fwrite(b.data(), 1, b.size(), f) == b.size();
    ok = std::fclose(f) == 0 && ok;
  }
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw FileError(path + ": cannot write the IDX file (is the folder writable, the disk full?)");
  }
}

}  // namespace detail

// Writes n images (rows of channels*height*width values, NCHW) as an IDX file of bytes: n x height
// x width for one channel, n x channels x height x width for more; values in [0, 1] (unit) or
// [-1, 1] (symmetric) are clamped and rounded to 0..255.
template <class T>
void write_idx_images(const std::string& path, const Tensor<T>& images, Index channels,
                      Index height, Index width, PixelScale scale = PixelScale::unit) {
  if (channels < 1 || channels * height * width != images.cols() || images.rows() == 0) {
    throw ShapeError(path + ": cannot write images " + shape_string(images) + " as " +
                     (channels == 1 ? "" : std::to_string(channels) + "x") +
                     std::to_string(height) + "x" + std::to_string(width) + " IDX images");
  }
  std::vector<std::uint8_t> values(static_cast<std::size_t>(images.size()));
  const T* p = images.data();
  for (std::size_t i = 0; i < values.size(); ++i) {
    double v = static_cast<double>(p[i]);
    if (scale == PixelScale::symmetric) v = (v + 1.0) * 0.5;
    v = std::clamp(std::isnan(v) ? 0.0 : v, 0.0, 1.0);
    values[i] = static_cast<std::uint8_t>(std::lround(v * 255.0));
  }
  std::vector<std::uint32_t> dims{static_cast<std::uint32_t>(images.rows())};
  if (channels != 1) dims.push_back(static_cast<std::uint32_t>(channels));
  dims.push_back(static_cast<std::uint32_t>(height));
  dims.push_back(static_cast<std::uint32_t>(width));
  detail::write_idx_bytes(path, dims, values);
}

// Writes n grey images (rows of height*width values) as an n x height x width IDX file.
template <class T>
void write_idx_images(const std::string& path, const Tensor<T>& images, Index height, Index width,
                      PixelScale scale = PixelScale::unit) {
  write_idx_images(path, images, 1, height, width, scale);
}

// Writes labels (each in 0..255) as a one-dimensional IDX file.
inline void write_idx_labels(const std::string& path, const std::vector<int>& labels) {
  std::vector<std::uint8_t> values;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] > 255) {
      throw ArgumentError(path + ": label " + std::to_string(labels[i]) + " at index " +
                          std::to_string(i) + " does not fit a byte");
    }
    values.push_back(static_cast<std::uint8_t>(labels[i]));
  }
  detail::write_idx_bytes(path, {static_cast<std::uint32_t>(labels.size())}, values);
}

}  // namespace aigc
