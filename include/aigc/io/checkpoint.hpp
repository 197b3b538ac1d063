/// @file
/// aigc: checkpoints. A StateDict in a versioned, CRC-checked, little-endian file, written
/// atomically (docs/checkpoint-format.md).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "aigc/core/error.hpp"
#include "aigc/core/param.hpp"
#include "aigc/core/state.hpp"

namespace aigc {

static_assert(std::endian::native == std::endian::little,
              "aigc checkpoints are little-endian and written from host memory");

/// The first 8 bytes of every checkpoint file.
inline constexpr char checkpoint_magic[8] = {'A', 'I', 'G', 'C', 'C', 'K', 'P', 'T'};
/// The format version this code writes and reads.
inline constexpr std::uint32_t checkpoint_version = 1;
/// Bytes of the file header: magic, version, payload length, CRC-32.
inline constexpr std::size_t checkpoint_header_size = 32;
/// Longest entry name accepted, in bytes.
inline constexpr std::uint32_t checkpoint_max_name = 4096;

namespace detail {

inline std::uint32_t crc32_of(const std::uint8_t* p, std::size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    const uInt chunk = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    crc = crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

template <class U>
void append(std::vector<std::uint8_t>& out, U v) {
  std::uint8_t b[sizeof(U)];
  std::memcpy(b, &v, sizeof(U));
  out.insert(out.end(), b, b + sizeof(U));
}

/// Reads fixed-size values from [p, end), throwing a FileError naming the source and what was
/// being read when the bytes run out.
class ByteReader {
 public:
  ByteReader(const std::uint8_t* p, std::size_t n, const std::string& source)
      : p_(p), end_(p + n), source_(source) {}

  template <class U>
  U get(const char* what) {
    need(sizeof(U), what);
    U v;
    std::memcpy(&v, p_, sizeof(U));
    p_ += sizeof(U);
    return v;
  }
  const std::uint8_t* take(std::uint64_t n, const std::string& what) {
    need(n, what);
    const std::uint8_t* at = p_;
    p_ += n;
    return at;
  }
  std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }

 private:
  void need(std::uint64_t n, const std::string& what) {
    if (n > left()) {
      throw FileError(source_ + ": truncated or corrupt checkpoint: " + what + " needs " +
                      std::to_string(n) + " bytes, " + std::to_string(left()) + " left");
    }
  }
  const std::uint8_t* p_;
  const std::uint8_t* end_;
  const std::string& source_;
};

inline std::string errno_text(int e) { return std::strerror(e); }

/// write(2) all of [p, p + n) to fd, retrying on EINTR and short writes.
inline void write_all(int fd, const std::uint8_t* p, std::size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, std::min<std::size_t>(n, 1u << 30));
    if (w < 0) {
      if (errno == EINTR) continue;
      throw FileError(path + ": cannot write (" + errno_text(errno) +
                      "); is the disk full or the folder read-only?");
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

}  // namespace detail

/// The file's bytes: header (magic, version, payload length, CRC-32) then the payload.
inline std::vector<std::uint8_t> serialize_checkpoint(const StateDict& s) {
  std::vector<std::uint8_t> payload;
  detail::append<std::uint32_t>(payload, static_cast<std::uint32_t>(s.size()));
  for (const StateEntry& e : s.entries()) {
    if (e.name.empty() || e.name.size() > checkpoint_max_name) {
      throw ArgumentError("checkpoint: entry name '" + e.name.substr(0, 64) +
                          "' is empty or longer than " + std::to_string(checkpoint_max_name));
    }
    detail::append<std::uint32_t>(payload, static_cast<std::uint32_t>(e.name.size()));
    payload.insert(payload.end(), e.name.begin(), e.name.end());
    detail::append<std::uint8_t>(payload, static_cast<std::uint8_t>(e.dtype));
    detail::append<std::uint64_t>(payload, e.rows);
    detail::append<std::uint64_t>(payload, e.cols);
    payload.insert(payload.end(), e.bytes.begin(), e.bytes.end());
  }
  std::vector<std::uint8_t> out(checkpoint_magic, checkpoint_magic + 8);
  detail::append<std::uint32_t>(out, checkpoint_version);
  detail::append<std::uint32_t>(out, 0);  // flags, none defined
  detail::append<std::uint64_t>(out, payload.size());
  detail::append<std::uint32_t>(out, detail::crc32_of(payload.data(), payload.size()));
  detail::append<std::uint32_t>(out, 0);  // reserved
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

/// Decodes and verifies a checkpoint held in memory (magic, version, length, CRC, every entry's
/// bounds). `source` names it in errors. Sizes are checked against the bytes present before
/// anything is allocated, so a lying header cannot cause a large allocation.
inline StateDict parse_checkpoint(const std::uint8_t* data, std::size_t n,
                                  const std::string& source) {
  detail::ByteReader header(data, n, source);
  const std::uint8_t* magic = header.take(8, "the magic number");
  if (std::memcmp(magic, checkpoint_magic, 8) != 0) {
    throw FileError(source + ": not an aigc checkpoint (bad magic number)");
  }
  const auto version = header.get<std::uint32_t>("the version");
  if (version != checkpoint_version) {
    throw FileError(source + ": checkpoint format version " + std::to_string(version) +
                    " is not supported (this build reads version " +
                    std::to_string(checkpoint_version) + ")");
  }
  const auto flags = header.get<std::uint32_t>("the flags");
  if (flags != 0) throw FileError(source + ": unknown checkpoint flags " + std::to_string(flags));
  const auto length = header.get<std::uint64_t>("the payload length");
  const auto crc = header.get<std::uint32_t>("the CRC-32");
  if (header.get<std::uint32_t>("the reserved word") != 0) {
    throw FileError(source + ": corrupt checkpoint: the reserved header word is not zero");
  }
  if (length != header.left()) {
    throw FileError(source + ": truncated or corrupt checkpoint: the header announces " +
                    std::to_string(length) + " bytes of payload, the file holds " +
                    std::to_string(header.left()));
  }
  const std::uint8_t* payload = data + checkpoint_header_size;
  const std::uint32_t actual = detail::crc32_of(payload, header.left());
  if (actual != crc) {
    throw FileError(source + ": corrupt checkpoint: CRC-32 mismatch (stored " +
                    std::to_string(crc) + ", computed " + std::to_string(actual) + ")");
  }
  detail::ByteReader r(payload, header.left(), source);
  StateDict s;
  s.source = source;
  const auto count = r.get<std::uint32_t>("the entry count");
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::string at = "entry " + std::to_string(i);
    const auto name_len = r.get<std::uint32_t>("an entry's name length");
    if (name_len == 0 || name_len > checkpoint_max_name) {
      throw FileError(source + ": corrupt checkpoint: " + at + " has a name of " +
                      std::to_string(name_len) + " bytes");
    }
    const std::uint8_t* name = r.take(name_len, at + "'s name");
    StateEntry e;
    e.name.assign(reinterpret_cast<const char*>(name), name_len);
    const auto dtype = r.get<std::uint8_t>("an entry's type");
    if (dtype < 1 || dtype > 5) {
      throw FileError(source + ": corrupt checkpoint: '" + e.name + "' has unknown type code " +
                      std::to_string(dtype));
    }
    e.dtype = static_cast<DType>(dtype);
    e.rows = r.get<std::uint64_t>("an entry's rows");
    e.cols = r.get<std::uint64_t>("an entry's columns");
    const std::uint64_t elem = dtype_size(e.dtype);
    // rows * cols * elem must fit in the bytes left; checked without overflowing.
    const std::uint64_t left = r.left();
    if (e.cols != 0 && e.rows > left / elem / e.cols) {
      throw FileError(source + ": truncated or corrupt checkpoint: '" + e.name + "' " + e.shape() +
                      " of " + dtype_name(e.dtype) + " needs more than the " +
                      std::to_string(left) + " bytes left");
    }
    const std::uint64_t bytes = e.rows * e.cols * elem;
    const std::uint8_t* p = r.take(bytes, "'" + e.name + "'");
    e.bytes.assign(p, p + bytes);
    if (s.contains(e.name))
      throw FileError(source + ": corrupt checkpoint: '" + e.name + "' appears twice");
    s.put(std::move(e));
  }
  if (r.left() != 0) {
    throw FileError(source + ": corrupt checkpoint: " + std::to_string(r.left()) +
                    " bytes after the last entry");
  }
  return s;
}

/// Reads and verifies a checkpoint file; the file's size bounds every allocation.
inline StateDict read_checkpoint(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw FileError(path + ": cannot open checkpoint (" + detail::errno_text(errno) + ")");
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw FileError(path + ": not a regular file");
  }
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t r = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      const int e = errno;
      ::close(fd);
      throw FileError(path + ": cannot read checkpoint (" +
                      (r == 0 ? std::string("file shrank while reading") : detail::errno_text(e)) +
                      ")");
    }
    got += static_cast<std::size_t>(r);
  }
  ::close(fd);
  return parse_checkpoint(bytes.data(), bytes.size(), path);
}

/// Writes a checkpoint atomically: "<path>.tmp" in the same folder, write, fsync, rename over
/// path, fsync the folder. A crash at any moment leaves the old file or the new one, never a torn
/// one; on an error the temporary file is removed and the old file is untouched.
inline void write_checkpoint(const std::string& path, const StateDict& s) {
  const std::vector<std::uint8_t> bytes = serialize_checkpoint(s);
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw FileError(tmp + ": cannot create checkpoint file (" + detail::errno_text(errno) +
                    "); is the folder writable?");
  }
  try {
    detail::write_all(fd, bytes.data(), bytes.size(), tmp);
    if (::fsync(fd) != 0)
      throw FileError(tmp + ": fsync failed (" + detail::errno_text(errno) + ")");
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw FileError(tmp + ": close failed (" + detail::errno_text(e) + ")");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    throw FileError(path + ": cannot rename the checkpoint into place (" + detail::errno_text(e) +
                    ")");
  }
  const int dfd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    throw FileError(folder.string() + ": cannot open the folder to fsync it (" +
                    detail::errno_text(errno) + ")");
  }
  const int rc = ::fsync(dfd);
  const int e = errno;
  ::close(dfd);
  if (rc != 0)
    throw FileError(folder.string() + ": fsync of the folder failed (" + detail::errno_text(e) +
                    ")");
}

/// Loads only the parameters of a checkpoint (sampling, evaluation): names and shapes must match.
/// A file that holds buffers too (BatchNorm's running statistics) is refused, as a list of
/// parameters cannot take them: load it into the module with load_parameters(path, module).
template <class T>
void load_parameters(const std::string& path, const std::vector<Param<T>*>& params) {
  const StateDict s = read_checkpoint(path);
  for (const StateEntry& e : s.entries()) {
    if (e.name.rfind("buffer/", 0) == 0) {
      throw FileError(path + ": the file holds buffers (the first: '" + e.name.substr(7) +
                      "') that a list of parameters cannot take: load it into the module, "
                      "load_parameters(path, module[, prefix])");
    }
  }
  load_params(s, params);
}

/// Loads a module's parameters and buffers from a checkpoint (sampling, evaluation), as
/// load_module_state: every parameter and buffer of the module must be in the file. With a
/// `prefix` ("generator."), only the file's entries under it are the module's: the generator of
/// a GAN checkpoint loads alone.
template <class T>
void load_parameters(const std::string& path, Module<T>& module, const std::string& prefix = "") {
  load_module_state(read_checkpoint(path), module, prefix);
}

/// Where a CheckpointManager writes and how many files it keeps.
struct CheckpointOptions {
  std::string folder = "checkpoints";  ///< created if missing
  std::string prefix = "ckpt";         ///< files are `<prefix>-<step, 12 digits>.aigc`
  int keep_last = 3;                   ///< older checkpoints are removed after a save; 0 keeps all
};

/// Numbered checkpoints in a folder: save() writes atomically then removes all but the last K.
class CheckpointManager {
 public:
  /// A manager of the checkpoints in options.folder (created if missing).
  explicit CheckpointManager(CheckpointOptions options) : o_(std::move(options)) {
    if (o_.keep_last < 0) {
      throw ArgumentError("checkpoints: keep_last must be >= 0, got " +
                          std::to_string(o_.keep_last));
    }
    if (o_.prefix.empty() || o_.prefix.find('/') != std::string::npos) {
      throw ArgumentError("checkpoints: prefix '" + o_.prefix +
                          "' must be a plain, non-empty name");
    }
    std::error_code ec;
    std::filesystem::create_directories(o_.folder, ec);
    if (ec || !std::filesystem::is_directory(o_.folder)) {
      throw FileError(o_.folder + ": cannot create the checkpoint folder (" +
                      (ec ? ec.message() : std::string("exists and is not a folder")) + ")");
    }
  }

  /// The file name of the checkpoint of `step`.
  std::string path_for(std::int64_t step) const {
    char num[32];
    std::snprintf(num, sizeof num, "%012lld", static_cast<long long>(step));
    return (std::filesystem::path(o_.folder) / (o_.prefix + "-" + num + ".aigc")).string();
  }

  /// Writes the checkpoint of `step`, then prunes old ones and the temporaries a killed writer
  /// left behind (one writer per folder and prefix); returns its path.
  std::string save(const StateDict& s, std::int64_t step) {
    const std::string path = path_for(step);
    write_checkpoint(path, s);
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(o_.folder, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(o_.prefix + "-", 0) == 0 && name.size() > 9 &&
          name.compare(name.size() - 9, 9, ".aigc.tmp") == 0) {
        std::filesystem::remove(entry.path(), ec);
      }
    }
    if (o_.keep_last > 0) {
      const std::vector<std::string> all = list();
      for (std::size_t i = 0; i + static_cast<std::size_t>(o_.keep_last) < all.size(); ++i) {
        std::error_code ec;
        std::filesystem::remove(all[i], ec);
      }
    }
    return path;
  }

  /// The folder's checkpoints (complete files only, no temporaries), oldest first.
  std::vector<std::string> list() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(o_.folder, ec)) {
      const std::string name = entry.path().filename().string();
      const std::string head = o_.prefix + "-";
      if (name.size() == head.size() + 12 + 5 && name.rfind(head, 0) == 0 &&
          name.compare(name.size() - 5, 5, ".aigc") == 0 &&
          std::all_of(name.begin() + static_cast<std::ptrdiff_t>(head.size()), name.end() - 5,
                      [](char c) { return c >= '0' && c <= '9'; })) {
        out.push_back(entry.path().string());
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  /// The newest checkpoint, if any.
  std::optional<std::string> latest() const {
    const auto all = list();
    if (all.empty()) return std::nullopt;
    return all.back();
  }

  /// The options given at construction.
  const CheckpointOptions& options() const { return o_; }

 private:
  CheckpointOptions o_;
};

/// Resumes a run from `resume`: a checkpoint file, or a folder whose newest `<prefix>-*.aigc`
/// checkpoint that reads, verifies and that `load` accepts is taken; a damaged one is reported
/// on stderr ("<prefix>: skipping ...") and the next older tried. `load(const StateDict&)` puts
/// the state into the trainer, loader, ...; its FileError means "damaged, try an older one",
/// any other exception (another model, other options) stops the search. Returns the path
/// loaded; throws when no checkpoint loads (the oldest one's error) or the folder holds none.
template <class Load>
std::string resume_newest_checkpoint(const std::string& resume, const std::string& prefix,
                                     Load&& load) {
  std::vector<std::string> candidates = {resume};
  if (std::filesystem::is_directory(resume)) {
    candidates = CheckpointManager({.folder = resume, .prefix = prefix}).list();
    std::reverse(candidates.begin(), candidates.end());
    if (candidates.empty())
      throw FileError(resume + ": no " + prefix + "-*.aigc checkpoint to resume");
  }
  for (std::size_t i = 0;; ++i) {
    try {
      load(read_checkpoint(candidates[i]));
      return candidates[i];
    } catch (const FileError& e) {
      if (i + 1 == candidates.size()) throw;
      std::fprintf(stderr, "%s: skipping %s: %s\n", prefix.c_str(), candidates[i].c_str(),
                   e.what());
    }
  }
}

}  // namespace aigc
