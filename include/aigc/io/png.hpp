/// @file
/// aigc: PNG output of image grids, PNG input; both by libpng, which decodes the image folders too.
#pragma once

#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "aigc/core/tensor.hpp"
#include "aigc/data/dataset.hpp"
#include "aigc/data/image_decode.hpp"

namespace aigc {

/// An 8-bit image: height x width x channels, interleaved.
struct Image {
  int width = 0;                      ///< columns of pixels
  int height = 0;                     ///< rows of pixels
  int channels = 1;                   ///< 1 (grey), 3 (RGB) or 4 (RGBA)
  std::vector<unsigned char> pixels;  ///< height * width * channels bytes, row by row
};

namespace detail {

// libpng's output into a vector. A failed allocation becomes png_error (a longjmp through this
// frame, which then holds nothing to destroy), not an exception through libpng's C frames.
struct PngSink {
  std::vector<std::uint8_t>* out;
};

extern "C" inline void aigc_png_write(png_structp png, png_bytep data, png_size_t n) {
  auto* sink = static_cast<PngSink*>(png_get_io_ptr(png));
  bool stored = true;
  try {
    sink->out->insert(sink->out->end(), data, data + n);
  } catch (...) {
    stored = false;
  }
  if (!stored) png_error(png, "out of memory");
}
extern "C" inline void aigc_png_flush(png_structp) {}

struct PngWriter {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngWriter() { png_destroy_write_struct(&png, info ? &info : nullptr); }
};

/// Writes the header and every row (8 bits per value); false on error.
inline bool write_png_image(png_structp png, png_infop info, png_uint_32 width, png_uint_32 height,
                            int color_type, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_IHDR(png, info, width, height, 8, color_type, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

}  // namespace detail

/// Encodes an 8-bit image (1 to 4 channels: grey, grey + alpha, RGB, RGBA) as PNG bytes in memory.
inline std::vector<std::uint8_t> encode_png(const Image& img) {
  if (img.width <= 0 || img.height <= 0 || img.channels < 1 || img.channels > 4 ||
      img.pixels.size() != static_cast<std::size_t>(img.width) * img.height * img.channels) {
    throw ArgumentError("encode_png: cannot encode a " + std::to_string(img.width) + "x" +
                        std::to_string(img.height) + "x" + std::to_string(img.channels) +
                        " image of " + std::to_string(img.pixels.size()) + " bytes");
  }
  std::vector<std::uint8_t> out;
  detail::PngSink sink{&out};
  detail::PngSource err{nullptr, 0, 0, {}};  // receives libpng's error message
  detail::PngWriter w;
  w.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &err, detail::aigc_png_error,
                                  detail::aigc_png_warning);
  if (w.png) w.info = png_create_info_struct(w.png);
  if (!w.png || !w.info)
    throw FileError("encode_png: cannot start the PNG encoder (out of memory)");
  png_set_write_fn(w.png, &sink, detail::aigc_png_write, detail::aigc_png_flush);
  const std::size_t row_bytes = static_cast<std::size_t>(img.width) * img.channels;
  std::vector<png_bytep> rows(static_cast<std::size_t>(img.height));
  for (std::size_t y = 0; y < rows.size(); ++y) {
    rows[y] = const_cast<png_bytep>(img.pixels.data() + y * row_bytes);  // libpng only reads them
  }
  static constexpr int types[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                  PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
  const int type = types[img.channels - 1];
  if (!detail::write_png_image(w.png, w.info, static_cast<png_uint_32>(img.width),
                               static_cast<png_uint_32>(img.height), type, rows.data())) {
    throw FileError("encode_png: " + std::string(err.message));
  }
  return out;
}

/// Writes an 8-bit image as PNG, through a temporary file renamed into place so that a reader
/// never sees half a file.
inline void write_png(const std::string& path, const Image& img) {
  if (img.width <= 0 || img.height <= 0 ||
      (img.channels != 1 && img.channels != 3 && img.channels != 4)) {
    throw ArgumentError(path + ": cannot write a " + std::to_string(img.width) + "x" +
                        std::to_string(img.height) + "x" + std::to_string(img.channels) + " image");
  }
  const std::vector<std::uint8_t> bytes = encode_png(img);
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  const bool written = f && std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  if (!f || std::fclose(f) != 0 || !written) {
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

/// Reads a PNG file as 8-bit pixels with `channels` channels (1 grey, 2 grey + alpha, 3 RGB,
/// 4 RGBA; 0 keeps the file's own; alpha 255 where the file has none). Colour becomes grey by
/// luma(), as in the image-folder reader.
inline Image read_png(const std::string& path, int channels = 0) {
  if (channels < 0 || channels > 4) {
    throw ArgumentError(path + ": cannot read a PNG as " + std::to_string(channels) + " channels");
  }
  const std::vector<std::uint8_t> bytes = read_file_bytes(path);
  if (sniff_image_format(bytes.data(), bytes.size()) != ImageFormat::png)
    throw FileError(path + ": cannot read as PNG (no PNG signature)");
  const DecodedImage d = decode_png(bytes.data(), bytes.size(), path);
  Image img;
  img.width = d.width;
  img.height = d.height;
  img.channels = channels == 0 ? d.channels : channels;
  const std::size_t n = static_cast<std::size_t>(d.width) * d.height;
  img.pixels.resize(n * img.channels);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* in = d.pixels.data() + i * d.channels;
    unsigned char* out = img.pixels.data() + i * img.channels;
    const bool colour = d.channels >= 3;
    const bool alpha = d.channels == 2 || d.channels == 4;
    const std::uint8_t grey = colour ? luma(in[0], in[1], in[2]) : in[0];
    if (img.channels == 1 || img.channels == 2) {
      out[0] = grey;
      if (img.channels == 2) out[1] = alpha ? in[d.channels - 1] : 255;
    } else {
      for (int c = 0; c < 3; ++c) out[c] = colour ? in[c] : in[0];
      if (img.channels == 4) out[3] = alpha ? in[d.channels - 1] : 255;
    }
  }
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
