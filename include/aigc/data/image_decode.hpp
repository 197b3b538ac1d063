/// @file
/// aigc: decoding PNG (libpng) and JPEG (libjpeg-turbo) files to 8-bit pixels, hardened: every
/// corrupt, truncated or oversized input is refused with a FileError naming the file, and no
/// buffer larger than the image the header declares (within DecodeLimits) is allocated.
#pragma once

// clang-format off
#include <cstdio>  // before jpeglib.h, which uses FILE
#include <jerror.h>
#include <jpeglib.h>
// clang-format on
#include <png.h>

#include <algorithm>
#include <cerrno>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "aigc/core/error.hpp"

namespace aigc {

/// An 8-bit image, height x width x channels interleaved; channels 1 (grey), 2 (grey + alpha),
/// 3 (RGB) or 4 (RGBA).
struct DecodedImage {
  int width = 0;                     ///< columns of pixels
  int height = 0;                    ///< rows of pixels
  int channels = 0;                  ///< values per pixel
  std::vector<std::uint8_t> pixels;  ///< height * width * channels bytes, row by row
};

/// What a decoder accepts before it allocates anything.
struct DecodeLimits {
  std::uint64_t max_pixels = std::uint64_t{1} << 26;      ///< width * height (8192 x 8192)
  std::uint64_t max_file_bytes = std::uint64_t{1} << 28;  ///< size of an image file (256 MiB)
  int max_jpeg_scans = 1000;  ///< scans of a progressive JPEG (an endless one would never finish)
};

/// The format a file's first bytes announce.
enum class ImageFormat { unknown, png, jpeg };

/// The grey of an 8-bit RGB pixel: ITU-R BT.601 luma, (299 R + 587 G + 114 B) / 1000 rounded, the
/// weights of PIL's convert("L"), which torchvision's ImageFolder and Grayscale use. Every reader
/// of aigc that turns colour grey uses this one.
inline std::uint8_t luma(unsigned r, unsigned g, unsigned b) {
  return static_cast<std::uint8_t>((r * 299u + g * 587u + b * 114u + 500u) / 1000u);
}

/// An 8-bit value v of opacity a (0..255) composited over the background value bg, rounded: v
/// when opaque, bg when fully transparent.
inline std::uint8_t alpha_over(unsigned v, unsigned a, unsigned bg) {
  return static_cast<std::uint8_t>((v * a + bg * (255u - a) + 127u) / 255u);
}

/// PNG by its 8-byte signature, JPEG by its SOI marker (FF D8 FF), else unknown.
inline ImageFormat sniff_image_format(const std::uint8_t* data, std::size_t size) {
  static constexpr std::uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (size >= 8 && std::memcmp(data, png_signature, 8) == 0) return ImageFormat::png;
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return ImageFormat::jpeg;
  return ImageFormat::unknown;
}

namespace detail {

/// "W x H" refused when above limits.max_pixels, before any pixel buffer exists.
inline void check_image_size(const std::string& name, const char* format, std::uint64_t width,
                             std::uint64_t height, const DecodeLimits& limits) {
  if (width == 0 || height == 0) {
    throw FileError(name + ": the " + format + " header declares an empty image (" +
                    std::to_string(width) + "x" + std::to_string(height) + ")");
  }
  if (width * height > limits.max_pixels) {
    throw FileError(name + ": the " + format + " header declares " + std::to_string(width) + "x" +
                    std::to_string(height) + " pixels, above the limit of " +
                    std::to_string(limits.max_pixels) + " pixels (DecodeLimits::max_pixels)");
  }
}

// libpng and libjpeg report errors by longjmp. Each setjmp below sits in a function whose frame
// holds only trivially destructible values, and the longjmp never crosses a C++ frame with a
// destructor: the C++ callers turn the returned failure into an exception.

struct PngSource {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t pos;
  char message[200];
};

extern "C" inline void aigc_png_error(png_structp png, png_const_charp message) {
  auto* src = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(src->message, sizeof src->message, "%s", message ? message : "unknown error");
  png_longjmp(png, 1);
}
extern "C" inline void aigc_png_warning(png_structp, png_const_charp) {}
extern "C" inline void aigc_png_read(png_structp png, png_bytep out, png_size_t n) {
  auto* src = static_cast<PngSource*>(png_get_io_ptr(png));
  if (n > src->size - src->pos) png_error(png, "the file ends inside the image data (truncated)");
  std::memcpy(out, src->data + src->pos, n);
  src->pos += n;
}

struct PngHeader {
  png_uint_32 width, height;
  int channels;
  png_size_t row_bytes;       ///< after the transformations: width * channels
  png_size_t file_row_bytes;  ///< as stored (before bit depth and palette expansion)
};

/// Reads the header (size and layout as stored); false on error.
inline bool read_png_header(png_structp png, png_infop info, PngHeader* h) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_read_fn(png, png_get_error_ptr(png), aigc_png_read);
  png_set_user_limits(png, 0x7FFFFFFF, 0x7FFFFFFF);  // the pixel limit is checked by the caller
  png_read_info(png, info);
  h->width = png_get_image_width(png, info);
  h->height = png_get_image_height(png, info);
  h->file_row_bytes = png_get_rowbytes(png, info);
  return true;
}

/// Sets the transformations to 8-bit grey, grey + alpha, RGB or RGBA; false on error.
inline bool set_png_transforms(png_structp png, png_infop info, PngHeader* h) {
  if (setjmp(png_jmpbuf(png))) return false;
  const int depth = png_get_bit_depth(png, info);
  const int type = png_get_color_type(png, info);
  if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if (depth == 16) png_set_scale_16(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  h->channels = png_get_channels(png, info);
  h->row_bytes = png_get_rowbytes(png, info);
  return true;
}

/// Reads every row into rows[0 .. height); false on error.
inline bool read_png_rows(png_structp png, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  png_read_end(png, nullptr);
  return true;
}

struct PngReader {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngReader() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

struct JpegError {
  jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

extern "C" inline void aigc_jpeg_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}
/// Warnings that the image data is damaged (truncated, a bad Huffman code, a lost restart marker)
/// are errors; the others (extra bytes between markers, say) are dropped.
extern "C" inline void aigc_jpeg_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;
  const int code = cinfo->err->msg_code;
  if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_HUFF_BAD_CODE ||
      code == JWRN_MUST_RESYNC) {
    aigc_jpeg_error_exit(cinfo);
  }
}

struct JpegProgress {
  jpeg_progress_mgr mgr;
  int max_scans;
};
extern "C" inline void aigc_jpeg_progress(j_common_ptr cinfo) {
  auto* p = reinterpret_cast<JpegProgress*>(cinfo->progress);
  if (!cinfo->is_decompressor) return;
  const auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->input_scan_number > p->max_scans) {
    auto* err = reinterpret_cast<JpegError*>(cinfo->err);
    std::snprintf(err->message, sizeof err->message,
                  "more than %d progressive scans (DecodeLimits::max_jpeg_scans)", p->max_scans);
    std::longjmp(err->jump, 1);
  }
}

struct JpegHeader {
  JDIMENSION width, height;
  int components;
  J_COLOR_SPACE space;
  bool adobe;
};

/// Reads the header and starts decompression to grey, RGB or CMYK; false on error.
inline bool start_jpeg(jpeg_decompress_struct* cinfo, JpegError* err, const std::uint8_t* data,
                       std::size_t size, JpegHeader* h) {
  if (setjmp(err->jump)) return false;
  jpeg_create_decompress(cinfo);
  jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(cinfo, TRUE);
  h->width = cinfo->image_width;
  h->height = cinfo->image_height;
  h->space = cinfo->jpeg_color_space;
  h->adobe = cinfo->saw_Adobe_marker;
  return true;
}

/// Decompresses into rows (whose sizes the caller took from the header); false on error.
inline bool decode_jpeg_rows(jpeg_decompress_struct* cinfo, JpegError* err, std::uint8_t* out,
                             std::size_t row_bytes, int* components) {
  if (setjmp(err->jump)) return false;
  const J_COLOR_SPACE in = cinfo->jpeg_color_space;
  if (in == JCS_GRAYSCALE) {
    cinfo->out_color_space = JCS_GRAYSCALE;
  } else if (in == JCS_CMYK || in == JCS_YCCK) {
    cinfo->out_color_space = JCS_CMYK;
  } else {
    cinfo->out_color_space = JCS_RGB;
  }
  jpeg_start_decompress(cinfo);
  *components = cinfo->output_components;
  if (static_cast<std::size_t>(cinfo->output_width) * cinfo->output_components != row_bytes) {
    std::snprintf(err->message, sizeof err->message, "unexpected output row size");
    return false;
  }
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = out + static_cast<std::size_t>(cinfo->output_scanline) * row_bytes;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

struct JpegReader {
  jpeg_decompress_struct cinfo{};
  bool created = false;
  ~JpegReader() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

}  // namespace detail

/// Decodes a PNG held in memory (any bit depth, grey, grey + alpha, palette, RGB, RGBA,
/// interlaced) to 8-bit pixels with 1-4 channels; `name` (a file) prefixes every error.
inline DecodedImage decode_png(const std::uint8_t* data, std::size_t size, const std::string& name,
                               const DecodeLimits& limits = {}) {
  detail::PngSource src{data, size, 0, {}};
  detail::PngReader r;
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, detail::aigc_png_error,
                                 detail::aigc_png_warning);
  if (r.png) r.info = png_create_info_struct(r.png);
  if (!r.png || !r.info) throw FileError(name + ": cannot start the PNG decoder (out of memory)");
  detail::PngHeader h{};
  if (!detail::read_png_header(r.png, r.info, &h)) {
    throw FileError(name + ": not a readable PNG header (" + std::string(src.message) + ")");
  }
  detail::check_image_size(name, "PNG", h.width, h.height, limits);
  // Deflate expands at most 1032:1, so a header that claims more than that of the file is a lie
  // to be refused before the pixel buffer exists.
  const std::uint64_t raw = (std::uint64_t{h.file_row_bytes} + 1) * h.height;
  if (raw / 1032 > size) {
    throw FileError(name + ": the PNG header declares " + std::to_string(h.width) + "x" +
                    std::to_string(h.height) + " pixels, more than a file of " +
                    std::to_string(size) + " bytes can hold (truncated or corrupt)");
  }
  if (!detail::set_png_transforms(r.png, r.info, &h)) {
    throw FileError(name + ": unsupported PNG (" + std::string(src.message) + ")");
  }
  if (h.channels < 1 || h.channels > 4 ||
      h.row_bytes != static_cast<png_size_t>(h.width) * static_cast<png_size_t>(h.channels)) {
    throw FileError(name + ": unsupported PNG pixel layout (" + std::to_string(h.channels) +
                    " channels, " + std::to_string(h.row_bytes) + " bytes per row)");
  }
  DecodedImage img;
  img.width = static_cast<int>(h.width);
  img.height = static_cast<int>(h.height);
  img.channels = h.channels;
  img.pixels.resize(static_cast<std::size_t>(h.row_bytes) * h.height);
  std::vector<png_bytep> rows(h.height);
  for (png_uint_32 y = 0; y < h.height; ++y) rows[y] = img.pixels.data() + y * h.row_bytes;
  if (!detail::read_png_rows(r.png, rows.data())) {
    throw FileError(name + ": corrupt PNG image data (" + std::string(src.message) + ")");
  }
  return img;
}

/// Decodes a JPEG held in memory (baseline, progressive, grey, colour, CMYK/YCCK) to 8-bit grey
/// or RGB pixels; `name` (a file) prefixes every error.
inline DecodedImage decode_jpeg(const std::uint8_t* data, std::size_t size, const std::string& name,
                                const DecodeLimits& limits = {}) {
  detail::JpegError err{};
  detail::JpegReader r;
  r.cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = detail::aigc_jpeg_error_exit;
  err.mgr.emit_message = detail::aigc_jpeg_message;
  r.created = true;  // jpeg_create_decompress runs first in jpeg_start; destroy is safe after it
  detail::JpegHeader h{};
  if (!detail::start_jpeg(&r.cinfo, &err, data, size, &h)) {
    throw FileError(name + ": not a readable JPEG header (" + std::string(err.message) + ")");
  }
  detail::check_image_size(name, "JPEG", h.width, h.height, limits);
  detail::JpegProgress progress{};
  progress.mgr.progress_monitor = detail::aigc_jpeg_progress;
  progress.max_scans = limits.max_jpeg_scans;
  r.cinfo.progress = &progress.mgr;
  const bool cmyk = h.space == JCS_CMYK || h.space == JCS_YCCK;
  const int components = h.space == JCS_GRAYSCALE ? 1 : cmyk ? 4 : 3;
  const std::size_t row_bytes = std::size_t{h.width} * components;
  std::vector<std::uint8_t> raw(row_bytes * h.height);
  int got = 0;
  if (!detail::decode_jpeg_rows(&r.cinfo, &err, raw.data(), row_bytes, &got) || got != components) {
    throw FileError(name + ": corrupt JPEG data (" + std::string(err.message) + ")");
  }
  DecodedImage img;
  img.width = static_cast<int>(h.width);
  img.height = static_cast<int>(h.height);
  if (!cmyk) {
    img.channels = components;
    img.pixels = std::move(raw);
    return img;
  }
  // CMYK to RGB. Adobe's files (the ones with an Adobe marker) store the inks inverted.
  img.channels = 3;
  img.pixels.resize(std::size_t{h.width} * h.height * 3);
  const std::size_t n = std::size_t{h.width} * h.height;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* p = raw.data() + 4 * i;
    const unsigned k = h.adobe ? p[3] : 255u - p[3];
    for (int c = 0; c < 3; ++c) {
      const unsigned ink = h.adobe ? p[c] : 255u - p[c];
      img.pixels[3 * i + c] = static_cast<std::uint8_t>((ink * k + 127) / 255);
    }
  }
  return img;
}

/// Decodes a PNG or a JPEG held in memory, by its first bytes (not its name).
inline DecodedImage decode_image(const std::uint8_t* data, std::size_t size,
                                 const std::string& name, const DecodeLimits& limits = {}) {
  switch (sniff_image_format(data, size)) {
    case ImageFormat::png:
      return decode_png(data, size, name, limits);
    case ImageFormat::jpeg:
      return decode_jpeg(data, size, name, limits);
    case ImageFormat::unknown:
      break;
  }
  if (size == 0) throw FileError(name + ": the file is empty (0 bytes)");
  std::string start;
  for (std::size_t i = 0; i < std::min<std::size_t>(size, 8); ++i) {
    static const char* hex = "0123456789abcdef";
    start += (i ? " " : "");
    start += hex[data[i] >> 4];
    start += hex[data[i] & 15];
  }
  throw FileError(name + ": neither a PNG nor a JPEG file (it starts with bytes " + start + ")");
}

/// The bytes of the file at `path`, refused above limits.max_file_bytes.
inline std::vector<std::uint8_t> read_file_bytes(const std::string& path,
                                                 const DecodeLimits& limits = {}) {
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> f(std::fopen(path.c_str(), "rb"));
  if (!f) throw FileError(path + ": cannot open (" + std::strerror(errno) + ")");
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) throw FileError(path + ": cannot read its size (" + ec.message() + ")");
  if (size > limits.max_file_bytes) {
    throw FileError(path + ": " + std::to_string(size) + " bytes, above the limit of " +
                    std::to_string(limits.max_file_bytes) + " (DecodeLimits::max_file_bytes)");
  }
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  if (size && std::fread(bytes.data(), 1, bytes.size(), f.get()) != bytes.size()) {
    throw FileError(path + ": read error (" + std::strerror(errno) + ")");
  }
  return bytes;
}

/// Reads and decodes the PNG or JPEG file at `path`.
inline DecodedImage read_image(const std::string& path, const DecodeLimits& limits = {}) {
  const std::vector<std::uint8_t> bytes = read_file_bytes(path, limits);
  return decode_image(bytes.data(), bytes.size(), path, limits);
}

}  // namespace aigc
