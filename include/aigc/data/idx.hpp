/// @file
/// aigc: reader for IDX files (the MNIST format), raw or gzip'd.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "aigc/core/error.hpp"
#include "aigc/core/tensor.hpp"

namespace aigc {

/// The decoded contents of an IDX file of unsigned bytes: its dimensions and its values.
struct IdxArray {
  std::vector<Index> dims;           ///< the size of each dimension, outermost first
  std::vector<std::uint8_t> values;  ///< the values, row-major
};

namespace detail {

struct GzCloser {
  void operator()(gzFile_s* f) const {
    if (f) gzclose(f);
  }
};

/// Reads up to n bytes; returns how many arrived. Throws on a corrupt stream.
inline std::size_t gz_read_some(gzFile f, void* out, std::size_t n, const std::string& path) {
  std::size_t got = 0;
  auto* dst = static_cast<unsigned char*>(out);
  while (got < n) {
    const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - got, 1u << 20));
    const int r = gzread(f, dst + got, chunk);
    if (r < 0) {
      int errnum = 0;
      const char* msg = gzerror(f, &errnum);
      throw FileError(path + ": corrupt or unreadable data (" + std::string(msg ? msg : "?") + ")");
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

/// Reads and checks an IDX header (magic number, element type, dimensions) from f; returns the
/// dimensions.
inline std::vector<Index> read_idx_header(gzFile f, const std::string& path, int expected_dims) {
  unsigned char magic[4];
  if (gz_read_some(f, magic, 4, path) != 4) {
    throw FileError(path + ": truncated, shorter than the 4-byte IDX magic number");
  }
  if (magic[0] != 0 || magic[1] != 0) {
    throw FileError(path + ": not an IDX file (magic number must start with two zero bytes)");
  }
  if (magic[2] != 0x08) {
    char code[8];
    std::snprintf(code, sizeof code, "0x%02X", static_cast<unsigned>(magic[2]));
    throw FileError(path + ": unsupported IDX element type " + code +
                    " (only unsigned bytes, 0x08, are supported)");
  }
  const int ndims = magic[3];
  if (ndims < 1 || (expected_dims > 0 && ndims != expected_dims)) {
    throw FileError(
        path + ": wrong IDX magic number: " + std::to_string(ndims) + " dimensions, expected " +
        (expected_dims > 0 ? std::to_string(expected_dims) : std::string("at least 1")));
  }
  std::vector<Index> dims;
  std::uint64_t total = 1;
  for (int d = 0; d < ndims; ++d) {
    unsigned char b[4];
    if (gz_read_some(f, b, 4, path) != 4) {
      throw FileError(path + ": truncated inside the header (dimension " + std::to_string(d) + ")");
    }
    const std::uint64_t dim = (std::uint64_t{b[0]} << 24) | (std::uint64_t{b[1]} << 16) |
                              (std::uint64_t{b[2]} << 8) | std::uint64_t{b[3]};
    if (dim == 0) throw FileError(path + ": dimension " + std::to_string(d) + " is zero");
    // Checked before multiplying: 2^40 times a 32-bit dimension can wrap around 2^64 (to 0).
    if (dim > (std::uint64_t{1} << 40) / total) {
      throw FileError(path + ": header sizes overflow (product of dimensions exceeds 2^40)");
    }
    total *= dim;
    dims.push_back(static_cast<Index>(dim));
  }
  return dims;
}

}  // namespace detail

/// The dimensions in an IDX file's header (checked as read_idx checks them), without its data.
inline std::vector<Index> read_idx_dims(const std::string& path, int expected_dims = 0) {
  std::unique_ptr<gzFile_s, detail::GzCloser> f(gzopen(path.c_str(), "rb"));
  if (!f) throw FileError(path + ": cannot open (" + std::strerror(errno) + ")");
  return detail::read_idx_header(f.get(), path, expected_dims);
}

/// Reads an IDX file of unsigned bytes (type code 0x08), raw or gzip'd, checking the magic
/// number, the dimensions and the file's length. Memory grows only with bytes actually read, so a
/// header that lies about its sizes cannot cause a huge allocation.
inline IdxArray read_idx(const std::string& path, int expected_dims = 0) {
  std::unique_ptr<gzFile_s, detail::GzCloser> f(gzopen(path.c_str(), "rb"));
  if (!f) throw FileError(path + ": cannot open (" + std::strerror(errno) + ")");
  IdxArray out;
  out.dims = detail::read_idx_header(f.get(), path, expected_dims);
  std::uint64_t total = 1;
  for (Index d : out.dims) total *= static_cast<std::uint64_t>(d);
  // Read in chunks growing with what has arrived (64 KiB, then doubling up to 4 MiB), so that
  // storage follows the data, not the header.
  while (out.values.size() < total) {
    const std::size_t chunk =
        std::clamp<std::size_t>(out.values.size(), std::size_t{1} << 16, std::size_t{1} << 22);
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(chunk, total - out.values.size()));
    const std::size_t old = out.values.size();
    out.values.resize(old + want);
    const std::size_t got = detail::gz_read_some(f.get(), out.values.data() + old, want, path);
    if (got < want) {
      throw FileError(path + ": truncated: the header's dimensions need " + std::to_string(total) +
                      " bytes of data, the file holds " + std::to_string(old + got));
    }
  }
  unsigned char extra;
  if (detail::gz_read_some(f.get(), &extra, 1, path) != 0) {
    throw FileError(path + ": the file is longer than its header's dimensions say (" +
                    std::to_string(total) + " bytes of data)");
  }
  return out;
}

}  // namespace aigc
