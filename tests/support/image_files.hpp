// Writes small PNG (libpng) and JPEG (libjpeg) files for the image reader tests and the fuzz
// corpus.
#pragma once

// clang-format off
#include <cstdio>  // before jpeglib.h, which uses FILE
#include <jpeglib.h>
// clang-format on
#include <png.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace aigc::test {

// A PNG of the given colour type (PNG_COLOR_TYPE_*) and bit depth; `values` holds width * height
// * samples values (samples of the colour type; 16-bit values as 0..65535, palette indices for
// a palette image), row by row. `palette` (RGB triples) for palette images, `trns` (alpha per
// palette entry) optional.
inline void write_png_file(const std::string& path, int width, int height, int color_type,
                           int bit_depth, const std::vector<unsigned>& values,
                           bool interlaced = false, const std::vector<png_color>& palette = {},
                           const std::vector<png_byte>& trns = {}) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error(path + ": cannot write");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_init_io(png, f);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height),
               bit_depth, color_type, interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (!palette.empty()) png_set_PLTE(png, info, palette.data(), static_cast<int>(palette.size()));
  if (!trns.empty()) png_set_tRNS(png, info, trns.data(), static_cast<int>(trns.size()), nullptr);
  png_write_info(png, info);
  const int samples = color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_PALETTE ? 1
                      : color_type == PNG_COLOR_TYPE_GRAY_ALPHA                                 ? 2
                      : color_type == PNG_COLOR_TYPE_RGB                                        ? 3
                                                                                                : 4;
  const std::size_t row_bytes = (static_cast<std::size_t>(width) * samples * bit_depth + 7) / 8;
  std::vector<png_byte> image(row_bytes * static_cast<std::size_t>(height), 0);
  for (int y = 0; y < height; ++y) {
    png_byte* row = image.data() + row_bytes * static_cast<std::size_t>(y);
    for (int i = 0; i < width * samples; ++i) {
      const unsigned v = values[static_cast<std::size_t>(y * width * samples + i)];
      if (bit_depth == 16) {
        row[2 * i] = static_cast<png_byte>(v >> 8);
        row[2 * i + 1] = static_cast<png_byte>(v & 255);
      } else if (bit_depth == 8) {
        row[i] = static_cast<png_byte>(v);
      } else {  // 1, 2, 4 bits, most significant first
        const int per = 8 / bit_depth;
        row[i / per] = static_cast<png_byte>(row[i / per] | (v << (8 - bit_depth * (i % per + 1))));
      }
    }
  }
  std::vector<png_bytep> rows(static_cast<std::size_t>(height));
  for (int y = 0; y < height; ++y) rows[static_cast<std::size_t>(y)] = image.data() + row_bytes * y;
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  std::fclose(f);
}

// An 8-bit RGBA / RGB / grey PNG from interleaved bytes.
inline void write_png_bytes(const std::string& path, int width, int height, int channels,
                            const std::vector<std::uint8_t>& pixels) {
  const int type = channels == 1   ? PNG_COLOR_TYPE_GRAY
                   : channels == 2 ? PNG_COLOR_TYPE_GRAY_ALPHA
                   : channels == 3 ? PNG_COLOR_TYPE_RGB
                                   : PNG_COLOR_TYPE_RGBA;
  write_png_file(path, width, height, type, 8, std::vector<unsigned>(pixels.begin(), pixels.end()));
}

// A JPEG from interleaved bytes: `space` JCS_GRAYSCALE (1 component), JCS_RGB (3) or JCS_CMYK (4).
inline std::vector<std::uint8_t> jpeg_bytes(int width, int height, J_COLOR_SPACE space,
                                            const std::vector<std::uint8_t>& pixels,
                                            int quality = 95, bool progressive = false) {
  jpeg_compress_struct c{};
  jpeg_error_mgr err{};
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* out = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &out, &size);
  c.image_width = static_cast<JDIMENSION>(width);
  c.image_height = static_cast<JDIMENSION>(height);
  c.input_components = space == JCS_GRAYSCALE ? 1 : space == JCS_CMYK ? 4 : 3;
  c.in_color_space = space;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  if (progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  const std::size_t stride = static_cast<std::size_t>(width) * c.input_components;
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<std::uint8_t*>(pixels.data()) + stride * c.next_scanline;
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  std::vector<std::uint8_t> bytes(out, out + size);
  jpeg_destroy_compress(&c);
  std::free(out);
  return bytes;
}

inline void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error(path + ": cannot write");
  if (!bytes.empty()) std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

}  // namespace aigc::test
