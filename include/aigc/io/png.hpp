/// @file
/// aigc: PNG output of image grids (stb_image_write), PNG input (stb_image).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wconversion"
#endif
#ifndef AIGC_NO_STB_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#endif
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include "aigc/core/tensor.hpp"
#include "aigc/data/dataset.hpp"

namespace aigc {

/// An 8-bit image: height x width x channels, interleaved.
struct Image {
  int width = 0;                      ///< columns of pixels
  int height = 0;                     ///< rows of pixels
  int channels = 1;                   ///< 1 (grey), 3 (RGB) or 4 (RGBA)
  std::vector<unsigned char> pixels;  ///< height * width * channels bytes, row by row
};

/// Writes an 8-bit image as PNG, through a temporary file renamed into place so that a reader
/// never sees half a file.
inline void write_png(const std::string& path, const Image& img) {
  if (img.width <= 0 || img.height <= 0 ||
      (img.channels != 1 && img.channels != 3 && img.channels != 4)) {
    throw ArgumentError(path + ": cannot write a " + std::to_string(img.width) + "x" +
                        std::to_string(img.height) + "x" + std::to_string(img.channels) + " image");
  }
  const std::string tmp = path + ".tmp";
  if (!stbi_write_png(tmp.c_str(), img.width, img.height, img.channels, img.pixels.data(),
                      img.width * img.channels)) {
    std::remove(tmp.c_str());
    throw FileError(path + ": cannot write PNG (is the folder writable, is the disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw FileError(path + ": cannot rename the written PNG into place (" + ec.message() + ")");
  }
}

/// Reads a PNG file as 8-bit pixels with `channels` channels (1 grey, 3 RGB, 4 RGBA; 0 keeps the
/// file's own).
inline Image read_png(const std::string& path, int channels = 0) {
  if (channels < 0 || channels > 4 || channels == 2) {
    throw ArgumentError(path + ": cannot read a PNG as " + std::to_string(channels) + " channels");
  }
  int w = 0, h = 0, in_file = 0;
  unsigned char* data = stbi_load(path.c_str(), &w, &h, &in_file, channels);
  if (!data) {
    throw FileError(path + ": cannot read as PNG (" + std::string(stbi_failure_reason()) + ")");
  }
  Image img;
  img.width = w;
  img.height = h;
  img.channels = channels == 0 ? in_file : channels;
  img.pixels.assign(data, data + static_cast<std::size_t>(w) * h * img.channels);
  stbi_image_free(data);
  return img;
}

/// Lays out images (one per row of `images`, NCHW with the given channels/height/width) in a grid
/// of `columns` columns with `padding` pixels between cells; values in [0,1] (unit) or [-1,1]
/// (symmetric) are clamped and mapped to 0..255.
template <class T>
Image make_grid(const Tensor<T>& images, Index channels, Index height, Index width, Index columns,
                PixelScale scale = PixelScale::unit, int padding = 2) {
  if (channels * height * width != images.cols()) {
    throw ShapeError("make_grid: " + std::to_string(channels) + "x" + std::to_string(height) + "x" +
                     std::to_string(width) + " images do not fit rows of " + shape_string(images));
  }
  if (images.rows() == 0 || columns <= 0) throw ArgumentError("make_grid: no images or no columns");
  if (channels != 1 && channels != 3) throw ArgumentError("make_grid: channels must be 1 or 3");
  const Index n = images.rows();
  const Index cols = std::min(columns, n);
  const Index rows = (n + cols - 1) / cols;
  Image img;
  img.channels = static_cast<int>(channels);
  img.width = static_cast<int>(cols * (width + padding) + padding);
  img.height = static_cast<int>(rows * (height + padding) + padding);
  img.pixels.assign(static_cast<std::size_t>(img.width) * img.height * img.channels, 40);
  for (Index i = 0; i < n; ++i) {
    const Index gy = (i / cols) * (height + padding) + padding;
    const Index gx = (i % cols) * (width + padding) + padding;
    for (Index c = 0; c < channels; ++c) {
      for (Index y = 0; y < height; ++y) {
        for (Index x = 0; x < width; ++x) {
          double v = static_cast<double>(images(i, (c * height + y) * width + x));
          if (scale == PixelScale::symmetric) v = (v + 1.0) * 0.5;
          if (!(v >= 0.0)) v = 0.0;  // NaN too
          v = std::min(v, 1.0);
          const std::size_t at =
              (static_cast<std::size_t>(gy + y) * img.width + (gx + x)) * channels + c;
          img.pixels[at] = static_cast<unsigned char>(std::lround(v * 255.0));
        }
      }
    }
  }
  return img;
}

/// make_grid + write_png.
template <class T>
void write_png_grid(const std::string& path, const Tensor<T>& images, Index channels, Index height,
                    Index width, Index columns, PixelScale scale = PixelScale::unit) {
  write_png(path, make_grid(images, channels, height, width, columns, scale));
}

}  // namespace aigc
