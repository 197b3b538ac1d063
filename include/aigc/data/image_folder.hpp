/// @file
/// aigc: a folder of PNG and JPEG images as a data set of bytes, torchvision's ImageFolder
/// convention: every image under the folder, recursively; when the folder holds subfolders, each
/// is a class (sorted by name). Each image is brought to channels x size x size as torchvision's
/// Resize(size) + CenterCrop(size) would, decoded on every thread, and the result can be cached.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "aigc/data/byte_dataset.hpp"
#include "aigc/data/image_decode.hpp"
#include "aigc/kernels/thread_pool.hpp"
#include "aigc/kernels/threads.hpp"

namespace aigc {

/// What read_image_folder does with a file it cannot decode, a class folder without images, or
/// a folder it cannot read.
enum class OnBadFile {
  error,           ///< stop with a FileError naming the file and what is wrong
  skip_and_report  ///< leave it out and list it in the ImageFolderReport
};

/// How read_image_folder reads a folder.
struct ImageFolderOptions {
  int channels = 3;       ///< 1 (grey, ITU-R 601 luma) or 3 (RGB)
  Index image_size = 64;  ///< side of the square images: Resize(size) then CenterCrop(size)
  std::array<std::uint8_t, 3> background{255, 255, 255};  ///< RGB that alpha is composited on
  PixelScale scale = PixelScale::unit;                    ///< the values the loader makes
  OnBadFile on_bad_file = OnBadFile::error;               ///< what a bad file does
  DecodeLimits limits{};                                  ///< the largest image and file accepted
  int threads = 0;                                        ///< decoding threads; 0: num_threads()
  /// A folder for the decoded data set's cache ("": no cache). The cache file is written once and
  /// used while the folder's files (names, sizes, modification times) and these options are the
  /// same; a cache that does not match or fails its CRC is rebuilt, never used.
  std::string cache_dir;
};

/// A file left out by OnBadFile::skip_and_report, and why.
struct BadImageFile {
  std::string path;     ///< the file or folder
  std::string message;  ///< the error it would have raised
};

/// What read_image_folder found.
struct ImageFolderReport {
  Index images = 0;               ///< images in the data set
  Index other_files = 0;          ///< files skipped: not .png, .jpg or .jpeg
  Index outside_classes = 0;      ///< image files beside the class folders, not in one
  std::vector<BadImageFile> bad;  ///< files, classes or folders skipped (skip_and_report)
  std::string cache_file;         ///< the cache used or written ("" without a cache)
  bool from_cache = false;        ///< whether the images came from the cache
  std::string cache_note;         ///< why an existing cache was not used ("" if it was)
  double seconds = 0.0;           ///< wall-clock time of read_image_folder
};

namespace detail {

inline bool image_extension(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

/// torchvision's CenterCrop offset: round((from - to) / 2), halves to even as Python rounds.
inline Index center_crop_offset(Index from, Index to) {
  const Index d = from - to;
  if (d % 2 == 0) return d / 2;
  const Index k = d / 2;
  return k % 2 == 0 ? k : k + 1;
}

/// PIL's bilinear resampling taps (Resample.c, precompute_coeffs) for outputs [begin, begin + n)
/// of a resize from `in` to `out` samples: the triangle filter stretched by the reduction factor
/// (anti-aliased), taps clipped to the input and renormalised, weights in fixed point (22 bits).
struct ResampleTaps {
  std::vector<Index> first;           ///< first input sample of each output
  std::vector<Index> count;           ///< taps of each output
  std::vector<std::int32_t> weights;  ///< `width` weights per output
  Index width = 0;                    ///< the most taps of any output
};

inline constexpr int resample_bits = 22;

inline ResampleTaps resample_taps(Index in, Index out, Index begin, Index n) {
  const double scale = static_cast<double>(in) / static_cast<double>(out);
  const double filterscale = std::max(scale, 1.0);
  const double support = filterscale;  // the triangle's support, 1, stretched
  ResampleTaps t;
  t.width = static_cast<Index>(std::ceil(support)) * 2 + 1;
  t.first.resize(static_cast<std::size_t>(n));
  t.count.resize(static_cast<std::size_t>(n));
  t.weights.assign(static_cast<std::size_t>(n * t.width), 0);
  std::vector<double> k(static_cast<std::size_t>(t.width));
  for (Index i = 0; i < n; ++i) {
    const double center = (static_cast<double>(begin + i) + 0.5) * scale;
    const Index lo = std::max<Index>(static_cast<Index>(center - support + 0.5), 0);
    const Index hi = std::min<Index>(static_cast<Index>(center + support + 0.5), in);
    const Index taps = std::min(hi - lo, t.width);
    double total = 0.0;
    for (Index x = 0; x < taps; ++x) {
      const double d = std::abs((static_cast<double>(x + lo) - center + 0.5) / filterscale);
      k[static_cast<std::size_t>(x)] = d < 1.0 ? 1.0 - d : 0.0;
      total += k[static_cast<std::size_t>(x)];
    }
    t.first[static_cast<std::size_t>(i)] = lo;
    t.count[static_cast<std::size_t>(i)] = std::max<Index>(taps, 0);
    for (Index x = 0; x < taps; ++x) {
      const double v = total > 0.0 ? k[static_cast<std::size_t>(x)] / total : 0.0;
      const double fixed = v * static_cast<double>(1 << resample_bits);
      t.weights[static_cast<std::size_t>(i * t.width + x)] =
          static_cast<std::int32_t>(fixed < 0.0 ? fixed - 0.5 : fixed + 0.5);
    }
  }
  return t;
}

inline std::uint8_t resample_clip(std::int64_t acc) {
  const std::int64_t v = acc >> resample_bits;
  return static_cast<std::uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

/// The s x s window at (left, top) of `in` (w x h, c interleaved bytes) resized to rw x rh, as
/// PIL's Image.resize(BILINEAR) computes it: a horizontal pass over the rows the vertical pass
/// reads (bytes in between), then the vertical pass; an axis whose size is kept is copied.
inline void resize_window(const std::uint8_t* in, Index w, Index h, int c, Index rw, Index rh,
                          Index left, Index top, Index s, std::uint8_t* out) {
  const ResampleTaps tx = resample_taps(w, rw, left, s);
  const ResampleTaps ty = resample_taps(h, rh, top, s);
  const Index y0 = rh == h ? top : ty.first.front();
  const Index y1 = rh == h ? top + s : ty.first.back() + ty.count.back();
  // Horizontal: rows [y0, y1) of the input, s columns of the output.
  std::vector<std::uint8_t> mid;
  const std::uint8_t* rows = in + (y0 * w + left) * c;  // the window itself when rw == w
  Index stride = w * c;
  if (rw != w) {
    mid.resize(static_cast<std::size_t>((y1 - y0) * s * c));
    for (Index y = y0; y < y1; ++y) {
      const std::uint8_t* row = in + y * w * c;
      std::uint8_t* m = mid.data() + (y - y0) * s * c;
      for (Index j = 0; j < s; ++j) {
        const std::int32_t* k = tx.weights.data() + j * tx.width;
        const std::uint8_t* px = row + tx.first[static_cast<std::size_t>(j)] * c;
        const Index taps = tx.count[static_cast<std::size_t>(j)];
        for (int ch = 0; ch < c; ++ch) {
          std::int64_t acc = std::int64_t{1} << (resample_bits - 1);
          for (Index t = 0; t < taps; ++t) acc += std::int64_t{k[t]} * px[t * c + ch];
          m[j * c + ch] = resample_clip(acc);
        }
      }
    }
    rows = mid.data();
    stride = s * c;
  }
  // Vertical: s rows of the output from those rows.
  for (Index i = 0; i < s; ++i) {
    std::uint8_t* o = out + i * s * c;
    if (rh == h) {
      std::copy_n(rows + i * stride, s * c, o);
      continue;
    }
    const std::int32_t* k = ty.weights.data() + i * ty.width;
    const std::uint8_t* r0 = rows + (ty.first[static_cast<std::size_t>(i)] - y0) * stride;
    const Index taps = ty.count[static_cast<std::size_t>(i)];
    for (Index j = 0; j < s * c; ++j) {
      std::int64_t acc = std::int64_t{1} << (resample_bits - 1);
      for (Index t = 0; t < taps; ++t) acc += std::int64_t{k[t]} * r0[t * stride + j];
      o[j] = resample_clip(acc);
    }
  }
}

}  // namespace detail

/// Brings a decoded image to options.channels x size x size bytes, planar (NCHW), at `out`:
/// alpha composited onto the background, grey <-> RGB converted, the shorter side resized to
/// `size` (torchvision's int(size * long / short) for the longer side) with PIL's anti-aliased
/// bilinear filter, then the centre size x size cut out. `name` prefixes errors.
inline void prepare_image(const DecodedImage& img, const ImageFolderOptions& o, std::uint8_t* out,
                          const std::string& name) {
  const int c_out = o.channels;
  const Index s = o.image_size;
  const std::size_t n = static_cast<std::size_t>(img.width) * static_cast<std::size_t>(img.height);
  const int c_in = img.channels;
  if (c_in < 1 || c_in > 4 || img.pixels.size() != n * static_cast<std::size_t>(c_in)) {
    throw FileError(name + ": decoded image has an invalid layout");
  }
  // 1. composite alpha, convert channels: src holds n pixels of c_out interleaved bytes.
  const bool alpha = c_in == 2 || c_in == 4;
  const bool colour_in = c_in >= 3;
  const std::array<unsigned, 3> bg_rgb{o.background[0], o.background[1], o.background[2]};
  const unsigned bg_grey = luma(bg_rgb[0], bg_rgb[1], bg_rgb[2]);
  std::vector<std::uint8_t> converted;
  const std::uint8_t* src = img.pixels.data();  // the file's own pixels when they need nothing
  if (c_in != c_out) {
    converted.resize(n * static_cast<std::size_t>(c_out));
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint8_t* p = img.pixels.data() + i * static_cast<std::size_t>(c_in);
      const unsigned rgb[3] = {p[0], colour_in ? p[1] : p[0], colour_in ? p[2] : p[0]};
      const unsigned a = alpha ? p[c_in - 1] : 255u;
      std::uint8_t* q = converted.data() + i * static_cast<std::size_t>(c_out);
      if (c_out == 1) {
        const unsigned v = colour_in ? luma(rgb[0], rgb[1], rgb[2]) : rgb[0];
        q[0] = alpha_over(v, a, bg_grey);
      } else {
        for (int c = 0; c < 3; ++c)
          q[c] = alpha_over(rgb[c], a, bg_rgb[static_cast<std::size_t>(c)]);
      }
    }
    src = converted.data();
  }
  // 2. Resize(s) + CenterCrop(s): only the crop's window of the resized image is computed.
  const Index w = img.width, h = img.height;
  const bool wide = w > h;
  const Index rw = wide ? static_cast<Index>(static_cast<double>(s) * static_cast<double>(w) /
                                             static_cast<double>(h))
                        : s;
  const Index rh = wide ? s
                        : static_cast<Index>(static_cast<double>(s) * static_cast<double>(h) /
                                             static_cast<double>(w));
  const Index left = detail::center_crop_offset(rw, s), top = detail::center_crop_offset(rh, s);
  std::vector<std::uint8_t> crop(static_cast<std::size_t>(s * s * c_out));
  detail::resize_window(src, w, h, c_out, rw, rh, left, top, s, crop.data());
  // 3. interleaved to planar.
  for (int c = 0; c < c_out; ++c) {
    for (Index i = 0; i < s * s; ++i)
      out[static_cast<std::size_t>(c * s * s + i)] = crop[static_cast<std::size_t>(i * c_out + c)];
  }
}

namespace detail {

/// The image files under a folder, in the order of the data set.
struct ImageFolderListing {
  std::vector<std::string> files;        ///< relative paths, sorted
  std::vector<int> labels;               ///< class of each file (class mode), else empty
  std::vector<std::string> class_names;  ///< the class folders, sorted
  std::uint64_t key = 0;                 ///< hash of the names, sizes, mtimes (and options)
};

inline void hash_bytes(std::uint64_t& h, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001B3ULL;  // FNV-1a 64
}
inline void hash_u64(std::uint64_t& h, std::uint64_t v) { hash_bytes(h, &v, sizeof v); }
inline void hash_string(std::uint64_t& h, const std::string& s) {
  hash_u64(h, s.size());
  hash_bytes(h, s.data(), s.size());
}

inline void bad_or_throw(const ImageFolderOptions& o, ImageFolderReport& report,
                         const std::string& path, const std::string& message) {
  if (o.on_bad_file == OnBadFile::error) throw FileError(message);
  report.bad.push_back({path, message});
}

/// Appends the image files under root/rel (recursively, sorted) to `files`; counts the others.
inline void list_images(const std::filesystem::path& root, const std::string& rel,
                        std::vector<std::string>& files, std::uint64_t& key,
                        const ImageFolderOptions& o, ImageFolderReport& report) {
  namespace fs = std::filesystem;
  const fs::path dir = rel.empty() ? root : root / rel;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    bad_or_throw(o, report, dir.string(),
                 dir.string() + ": cannot read the folder (" + ec.message() + ")");
    return;
  }
  std::vector<std::pair<std::string, bool>> entries;  // name, is a folder
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    std::error_code e2;
    const bool folder = it->is_directory(e2) && !it->is_symlink(e2);
    entries.emplace_back(it->path().filename().string(), folder);
  }
  if (ec) {
    bad_or_throw(o, report, dir.string(),
                 dir.string() + ": cannot list the folder (" + ec.message() + ")");
  }
  std::sort(entries.begin(), entries.end());
  for (const auto& [name, folder] : entries) {
    const std::string r = rel.empty() ? name : rel + "/" + name;
    if (folder) {
      list_images(root, r, files, key, o, report);
      continue;
    }
    const fs::path p = root / r;
    std::error_code e3;
    if (!fs::is_regular_file(p, e3) || !image_extension(p)) {
      ++report.other_files;
      continue;
    }
    const std::uintmax_t size = fs::file_size(p, e3);
    const auto mtime = fs::last_write_time(p, e3).time_since_epoch().count();
    hash_string(key, r);
    hash_u64(key, static_cast<std::uint64_t>(size));
    hash_u64(key, static_cast<std::uint64_t>(mtime));
    files.push_back(r);
  }
}

/// The folder's image files and classes (the ImageFolder convention), and the cache key.
inline ImageFolderListing list_image_folder(const std::string& dir, const ImageFolderOptions& o,
                                            ImageFolderReport& report) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw FileError(dir + ": not a folder" + (ec ? " (" + ec.message() + ")" : std::string()));
  }
  ImageFolderListing l;
  std::uint64_t key = 0xCBF29CE484222325ULL;
  hash_u64(key, 1);  // the cache format
  hash_u64(key, static_cast<std::uint64_t>(o.channels));
  hash_u64(key, static_cast<std::uint64_t>(o.image_size));
  hash_bytes(key, o.background.data(), 3);
  hash_u64(key, static_cast<std::uint64_t>(o.on_bad_file));
  hash_u64(key, o.limits.max_pixels);
  hash_u64(key, o.limits.max_file_bytes);
  hash_u64(key, static_cast<std::uint64_t>(o.limits.max_jpeg_scans));
  // Top level: class folders, or images alone.
  std::vector<std::string> folders, top_files;
  fs::directory_iterator it(dir, ec);
  if (ec) throw FileError(dir + ": cannot read the folder (" + ec.message() + ")");
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    std::error_code e2;
    if (it->is_directory(e2) && !it->is_symlink(e2)) {
      folders.push_back(it->path().filename().string());
    } else {
      top_files.push_back(it->path().filename().string());
    }
  }
  if (ec) throw FileError(dir + ": cannot list the folder (" + ec.message() + ")");
  std::sort(folders.begin(), folders.end());
  if (folders.empty()) {
    list_images(dir, "", l.files, key, o, report);
  } else {
    for (const std::string& f : top_files) {
      if (image_extension(f)) {
        ++report.outside_classes;
      } else {
        ++report.other_files;
      }
    }
    for (const std::string& f : folders) {
      const std::size_t before = l.files.size();
      list_images(dir, f, l.files, key, o, report);
      if (l.files.size() == before) {
        const std::string p = (fs::path(dir) / f).string();
        bad_or_throw(o, report, p,
                     p + ": the class folder '" + f + "' holds no .png, .jpg or .jpeg file");
        continue;
      }
      hash_string(key, f);
      l.labels.resize(l.files.size(), static_cast<int>(l.class_names.size()));
      l.class_names.push_back(f);
    }
  }
  if (l.files.empty()) {
    throw FileError(dir + ": holds no .png, .jpg or .jpeg file" +
                    (report.other_files
                         ? " (" + std::to_string(report.other_files) + " other files skipped)"
                         : std::string()));
  }
  l.key = key;
  return l;
}

// The cache file: a header (magic, format, key, the sizes and CRC-32s of its two sections), the
// metadata (shape, classes, labels, files, the report's counts), then the pixels.
inline constexpr char image_cache_magic[8] = {'A', 'I', 'G', 'C', 'I', 'M', 'G', 'S'};

struct ImageCacheHeader {
  char magic[8];
  std::uint64_t format;
  std::uint64_t key;
  std::uint64_t meta_bytes;
  std::uint64_t pixel_bytes;
  std::uint64_t meta_crc;
  std::uint64_t pixel_crc;
};

inline std::uint32_t image_cache_crc(const std::uint8_t* p, std::size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    crc = crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

struct MetaWriter {
  std::vector<std::uint8_t> bytes;
  void u64(std::uint64_t v) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
    bytes.insert(bytes.end(), p, p + 8);
  }
  void str(const std::string& s) {
    u64(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
};

struct MetaReader {
  const std::uint8_t* p;
  std::size_t left;
  bool ok = true;
  std::uint64_t u64() {
    std::uint64_t v = 0;
    if (left < 8) {
      ok = false;
      return 0;
    }
    std::memcpy(&v, p, 8);
    p += 8;
    left -= 8;
    return v;
  }
  std::string str() {
    const std::uint64_t n = u64();
    if (!ok || n > left) {
      ok = false;
      return {};
    }
    std::string s(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
    p += n;
    left -= static_cast<std::size_t>(n);
    return s;
  }
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

/// Loads the cache at `path` into d and report; returns "" on success, else why it is unusable.
inline std::string load_image_cache(const std::string& path, const ImageFolderListing& l,
                                    ByteDataset& d, ImageFolderReport& report) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) return "no cache yet";
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  ImageCacheHeader h{};
  if (ec || size < sizeof h || std::fread(&h, sizeof h, 1, f.get()) != 1 ||
      std::memcmp(h.magic, image_cache_magic, 8) != 0 || h.format != 1) {
    return "not an aigc image cache";
  }
  if (h.key != l.key) return "the folder's files or the options changed";
  if (h.meta_bytes > size || h.pixel_bytes > size ||
      sizeof h + h.meta_bytes + h.pixel_bytes != size) {
    return "the cache has the wrong size (truncated?)";
  }
  std::vector<std::uint8_t> meta(static_cast<std::size_t>(h.meta_bytes));
  if (std::fread(meta.data(), 1, meta.size(), f.get()) != meta.size() ||
      image_cache_crc(meta.data(), meta.size()) != h.meta_crc) {
    return "the cache's metadata fails its CRC";
  }
  MetaReader m{meta.data(), meta.size()};
  ByteDataset c;
  c.count = static_cast<Index>(m.u64());
  c.channels = static_cast<Index>(m.u64());
  c.height = static_cast<Index>(m.u64());
  c.width = static_cast<Index>(m.u64());
  c.num_classes = static_cast<int>(m.u64());
  ImageFolderReport r;
  r.other_files = static_cast<Index>(m.u64());
  r.outside_classes = static_cast<Index>(m.u64());
  const std::uint64_t bad = m.u64();
  if (!m.ok || c.count < 0 || c.count > static_cast<Index>(l.files.size()) || c.num_classes < 0 ||
      static_cast<std::size_t>(c.num_classes) > l.class_names.size() ||
      bad > l.files.size() + l.class_names.size() + 1 ||
      h.pixel_bytes !=
          static_cast<std::uint64_t>(c.count) * static_cast<std::uint64_t>(c.features())) {
    return "the cache's metadata is inconsistent";
  }
  for (std::uint64_t i = 0; i < bad && m.ok; ++i) {
    BadImageFile b;
    b.path = m.str();
    b.message = m.str();
    r.bad.push_back(std::move(b));
  }
  for (int i = 0; i < c.num_classes && m.ok; ++i) c.class_names.push_back(m.str());
  for (Index i = 0; i < c.count && m.ok; ++i) {
    c.files.push_back(m.str());
    if (c.num_classes > 0) {
      const std::uint64_t label = m.u64();
      if (label >= static_cast<std::uint64_t>(c.num_classes)) m.ok = false;
      c.labels.push_back(static_cast<int>(label));
    }
  }
  if (!m.ok || m.left != 0) return "the cache's metadata is inconsistent";
  c.pixels.reserve(static_cast<std::size_t>(h.pixel_bytes));
  advise_huge_pages(c.pixels.data(), static_cast<std::size_t>(h.pixel_bytes));
  c.pixels.resize(static_cast<std::size_t>(h.pixel_bytes));
  if (std::fread(c.pixels.data(), 1, c.pixels.size(), f.get()) != c.pixels.size() ||
      image_cache_crc(c.pixels.data(), c.pixels.size()) != h.pixel_crc) {
    return "the cache's pixels fail their CRC";
  }
  c.scale = d.scale;
  d = std::move(c);
  r.cache_file = report.cache_file;
  report = std::move(r);
  return "";
}

/// Writes the cache atomically (a temporary file renamed into place).
inline void write_image_cache(const std::string& path, const ImageFolderListing& l,
                              const ByteDataset& d, const ImageFolderReport& report) {
  MetaWriter m;
  m.u64(static_cast<std::uint64_t>(d.count));
  m.u64(static_cast<std::uint64_t>(d.channels));
  m.u64(static_cast<std::uint64_t>(d.height));
  m.u64(static_cast<std::uint64_t>(d.width));
  m.u64(static_cast<std::uint64_t>(d.num_classes));
  m.u64(static_cast<std::uint64_t>(report.other_files));
  m.u64(static_cast<std::uint64_t>(report.outside_classes));
  m.u64(report.bad.size());
  for (const BadImageFile& b : report.bad) {
    m.str(b.path);
    m.str(b.message);
  }
  for (const std::string& c : d.class_names) m.str(c);
  for (Index i = 0; i < d.count; ++i) {
    m.str(d.files[static_cast<std::size_t>(i)]);
    if (d.num_classes > 0) m.u64(static_cast<std::uint64_t>(d.labels[static_cast<std::size_t>(i)]));
  }
  ImageCacheHeader h{};
  std::memcpy(h.magic, image_cache_magic, 8);
  h.format = 1;
  h.key = l.key;
  h.meta_bytes = m.bytes.size();
  h.pixel_bytes = d.pixels.size();
  h.meta_crc = image_cache_crc(m.bytes.data(), m.bytes.size());
  h.pixel_crc = image_cache_crc(d.pixels.data(), d.pixels.size());
  const std::string tmp = path + ".tmp";
  {
    std::error_code ec;
    const std::filesystem::path folder = std::filesystem::path(path).parent_path();
    if (!folder.empty() && !std::filesystem::create_directories(folder, ec) && ec) {
      throw FileError(folder.string() + ": cannot create the image cache's folder (" +
                      ec.message() + ")");
    }
    std::unique_ptr<std::FILE, FileCloser> f(std::fopen(tmp.c_str(), "wb"));
    if (!f) throw FileError(tmp + ": cannot write the image cache (" + std::strerror(errno) + ")");
    const bool ok = std::fwrite(&h, sizeof h, 1, f.get()) == 1 &&
                    std::fwrite(m.bytes.data(), 1, m.bytes.size(), f.get()) == m.bytes.size() &&
                    std::fwrite(d.pixels.data(), 1, d.pixels.size(), f.get()) == d.pixels.size() &&
                    std::fflush(f.get()) == 0;
    if (!ok) {
      f.reset();
      std::remove(tmp.c_str());
      throw FileError(tmp + ": cannot write the image cache (is the disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw FileError(path + ": cannot move the image cache into place (" + ec.message() + ")");
  }
}

/// The cache file of folder `dir` under options o: one per folder and image shape.
inline std::string image_cache_path(const std::string& dir, const ImageFolderOptions& o) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::weakly_canonical(dir, ec);
  if (ec) abs = std::filesystem::absolute(dir);
  std::uint64_t h = 0xCBF29CE484222325ULL;
  hash_string(h, abs.string());
  std::string name = abs.filename().string();
  if (name.empty()) name = "images";
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return (std::filesystem::path(o.cache_dir) /
          (name + "-" + std::string(hex, 8) + "-" + std::to_string(o.channels) + "x" +
           std::to_string(o.image_size) + "x" + std::to_string(o.image_size) + ".aigc-images"))
      .string();
}

}  // namespace detail

/// Reads every PNG and JPEG image under `dir` (see the file comment for the convention) as a
/// data set of options.channels x image_size x image_size bytes; `report`, if given, receives
/// what was skipped and whether the cache was used. Throws FileError naming the file at fault.
inline ByteDataset read_image_folder(const std::string& dir, const ImageFolderOptions& options = {},
                                     ImageFolderReport* report = nullptr) {
  const auto start = std::chrono::steady_clock::now();
  const ImageFolderOptions& o = options;
  if (o.channels != 1 && o.channels != 3) {
    throw ArgumentError(dir + ": image folder channels must be 1 or 3, got " +
                        std::to_string(o.channels));
  }
  if (o.image_size < 1 || o.image_size > 4096) {
    throw ArgumentError(dir + ": image size must be in [1, 4096], got " +
                        std::to_string(o.image_size));
  }
  ImageFolderReport rep;
  const detail::ImageFolderListing l = detail::list_image_folder(dir, o, rep);
  ByteDataset d;
  d.scale = o.scale;
  std::string cache;
  if (!o.cache_dir.empty()) {
    cache = detail::image_cache_path(dir, o);
    rep.cache_file = cache;
    const std::string why = detail::load_image_cache(cache, l, d, rep);
    if (why.empty()) {
      rep.from_cache = true;
      rep.images = d.count;
      rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (report) *report = std::move(rep);
      return d;
    }
    rep.cache_note = why;
  }
  const Index s = o.image_size;
  const auto features = static_cast<std::size_t>(o.channels * s * s);
  const std::size_t n = l.files.size();
  d.channels = o.channels;
  d.height = s;
  d.width = s;
  d.pixels.reserve(n * features);
  detail::advise_huge_pages(d.pixels.data(), n * features);
  d.pixels.resize(n * features);
  std::vector<std::string> errors(n);
  std::atomic<std::size_t> next{0}, first_bad{n};
  const bool stop_at_first = o.on_bad_file == OnBadFile::error;
  const int threads = o.threads > 0 ? o.threads : num_threads();
  const int parts = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(threads), n));
  const std::filesystem::path root(dir);
  kernels::parallel_parts(parts, [&](int) {
    for (;;) {
      const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= n || (stop_at_first && i > first_bad.load(std::memory_order_relaxed))) return;
      const std::string path = (root / l.files[i]).string();
      try {
        const DecodedImage img = read_image(path, o.limits);
        prepare_image(img, o, d.pixels.data() + i * features, path);
      } catch (const std::exception& e) {
        errors[i] = dynamic_cast<const Error*>(&e) ? e.what() : path + ": " + e.what();
        std::size_t b = first_bad.load(std::memory_order_relaxed);
        while (i < b && !first_bad.compare_exchange_weak(b, i, std::memory_order_relaxed)) {
        }
      }
    }
  });
  if (stop_at_first && first_bad.load() < n) throw FileError(errors[first_bad.load()]);
  // Keep the good images (in order), with their labels and files.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!errors[i].empty()) {
      rep.bad.push_back({(root / l.files[i]).string(), errors[i]});
      continue;
    }
    if (kept != i) {
      std::memmove(d.pixels.data() + kept * features, d.pixels.data() + i * features, features);
    }
    d.files.push_back(l.files[i]);
    if (!l.labels.empty()) d.labels.push_back(l.labels[i]);
    ++kept;
  }
  d.pixels.resize(kept * features);
  d.count = static_cast<Index>(kept);
  if (kept == 0) {
    throw FileError(dir + ": none of its " + std::to_string(n) + " image files could be read; " +
                    rep.bad.front().message);
  }
  if (!l.class_names.empty()) {
    // A class whose every file was bad is dropped, the labels renumbered to stay dense.
    std::vector<int> used(l.class_names.size(), 0), renumber(l.class_names.size(), -1);
    for (int label : d.labels) used[static_cast<std::size_t>(label)] = 1;
    for (std::size_t c = 0; c < used.size(); ++c) {
      if (!used[c]) {
        rep.bad.push_back(
            {(root / l.class_names[c]).string(),
             (root / l.class_names[c]).string() + ": no image of the class could be read"});
        continue;
      }
      renumber[c] = static_cast<int>(d.class_names.size());
      d.class_names.push_back(l.class_names[c]);
    }
    for (int& label : d.labels) label = renumber[static_cast<std::size_t>(label)];
    d.num_classes = static_cast<int>(d.class_names.size());
  }
  rep.images = d.count;
  if (!cache.empty()) detail::write_image_cache(cache, l, d, rep);
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (report) *report = std::move(rep);
  return d;
}

}  // namespace aigc
