// aigc: writes images and labels as IDX files (the MNIST format), raw or gzip'd, so generated
// samples can be scored by aigc's evaluator or read by any other framework.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aigc/core/error.hpp"
#include "aigc/core/tensor.hpp"
#include "aigc/data/dataset.hpp"

namespace aigc {

namespace detail {

inline bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// An IDX file of bytes being written: the header at once, the values as they come (gzip'd when the
// path ends in ".gz"), into <path>.tmp, renamed to the path by commit() (so that a crash or an
// error never leaves a short file under the real name); removed if never committed.
class IdxOut {
 public:
  IdxOut(std::string path, const std::vector<std::uint32_t>& dims)
      : path_(std::move(path)), tmp_(path_ + ".tmp") {
    if (ends_with(path_, ".gz")) {
      gz_ = gzopen(tmp_.c_str(), "wb6");
    } else {
      file_ = std::fopen(tmp_.c_str(), "wb");
    }
    if (!gz_ && !file_) fail();
    std::vector<std::uint8_t> b = {0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
    for (std::uint32_t d : dims) {
      for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(d >> s));
    }
    write(b.data(), b.size());
  }
  IdxOut(const IdxOut&) = delete;
  IdxOut& operator=(const IdxOut&) = delete;
  ~IdxOut() {
    if (close() || !committed_) std::remove(tmp_.c_str());
  }

  void write(const std::uint8_t* p, std::size_t n) {
    while (n > 0) {  // gzwrite takes an unsigned count and returns an int: 1 GiB at a time
      const std::size_t part = std::min<std::size_t>(n, std::size_t{1} << 30);
      const bool ok = gz_ ? gzwrite(gz_, p, static_cast<unsigned>(part)) == static_cast<int>(part)
                          : std::fwrite(p, 1, part, file_) == part;
      if (!ok) fail();
      p += part;
      n -= part;
    }
  }

  void commit() {
    if (close() || std::rename(tmp_.c_str(), path_.c_str()) != 0) fail();
    committed_ = true;
  }

  const std::string& path() const { return path_; }

 private:
  // Closes the file; true when that failed (a write the OS had buffered, a full disk).
  bool close() {
    bool failed = false;
    if (gz_) failed = gzclose(gz_) != Z_OK;
    if (file_) failed = std::fclose(file_) != 0;
    gz_ = nullptr;
    file_ = nullptr;
    return failed;
  }
  [[noreturn]] void fail() {
    close();
    std::remove(tmp_.c_str());
    throw FileError(path_ + ": cannot write the IDX file (is the folder writable, the disk full?)");
  }

  std::string path_, tmp_;
  gzFile gz_ = nullptr;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

// Writes the IDX header and bytes; gzip'd when the path ends in ".gz".
inline void write_idx_bytes(const std::string& path, const std::vector<std::uint32_t>& dims,
                            const std::vector<std::uint8_t>& values) {
  IdxOut out(path, dims);
  out.write(values.data(), values.size());
  out.commit();
}

}  // namespace detail

/// Writes `count` images as an IDX file of bytes a batch at a time, so that a large sample set
/// never sits in memory as a whole: n x height x width for one channel, n x channels x height x
/// width for more. Values in [0, 1] (PixelScale::unit) or [-1, 1] (symmetric) are clamped and
/// rounded to 0..255. The file appears under its name only once close() has seen all `count`
/// images; a writer destroyed before that leaves nothing behind.
///
///     IdxImageWriter out("samples.idx.gz", 10000, 3, 64, 64, PixelScale::symmetric);
///     for (...) out.write(generator.forward(z));  // 10000 rows in all, any batch size
///     out.close();
class IdxImageWriter {
 public:
  /// Opens `path` (written as `path` + ".tmp" until close()) for `count` images of channels x
  /// height x width and writes the header; gzip'd when the path ends in ".gz".
  IdxImageWriter(const std::string& path, Index count, Index channels, Index height, Index width,
                 PixelScale scale = PixelScale::unit)
      : count_(count), features_(channels * height * width), scale_(scale) {
    if (count < 1 || channels < 1 || height < 1 || width < 1 ||
        std::max({count, channels, height, width}) > Index{0xFFFFFFFF}) {
      throw ShapeError(path + ": cannot write " + std::to_string(count) + " images of " +
                       std::to_string(channels) + "x" + std::to_string(height) + "x" +
                       std::to_string(width) + " as an IDX file");
    }
    std::vector<std::uint32_t> dims{static_cast<std::uint32_t>(count)};
    if (channels != 1) dims.push_back(static_cast<std::uint32_t>(channels));
    dims.push_back(static_cast<std::uint32_t>(height));
    dims.push_back(static_cast<std::uint32_t>(width));
    out_.emplace(path, dims);
  }

  /// Appends the rows of `images` (each channels*height*width values, NCHW).
  template <class T>
  void write(const Tensor<T>& images) {
    if (!out_) throw ArgumentError("IdxImageWriter: write after close");
    if (images.cols() != features_ || written_ + images.rows() > count_) {
      throw ShapeError(out_->path() + ": cannot append images " + shape_string(images) + " to " +
                       std::to_string(written_) + " of " + std::to_string(count_) + " rows of " +
                       std::to_string(features_) + " values");
    }
    bytes_.resize(static_cast<std::size_t>(images.size()));
    const T* p = images.data();
    for (std::size_t i = 0; i < bytes_.size(); ++i) {
      double v = static_cast<double>(p[i]);
      if (scale_ == PixelScale::symmetric) v = (v + 1.0) * 0.5;
      v = std::clamp(std::isnan(v) ? 0.0 : v, 0.0, 1.0);
      bytes_[i] = static_cast<std::uint8_t>(std::lround(v * 255.0));
    }
    out_->write(bytes_.data(), bytes_.size());
    written_ += images.rows();
  }

  /// Checks that all `count` images came and gives the file its name.
  void close() {
    if (!out_) return;
    if (written_ != count_) {
      throw ShapeError(out_->path() + ": " + std::to_string(written_) + " images written of the " +
                       std::to_string(count_) + " announced");
    }
    out_->commit();
    out_.reset();
  }

  /// The images written so far.
  Index written() const { return written_; }

 private:
  Index count_, features_, written_ = 0;
  PixelScale scale_;
  std::optional<detail::IdxOut> out_;
  std::vector<std::uint8_t> bytes_;
};

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
  IdxImageWriter out(path, images.rows(), channels, height, width, scale);
  out.write(images);
  out.close();
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
