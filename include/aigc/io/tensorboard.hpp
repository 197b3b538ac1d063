/// @file
/// aigc: TensorBoard event files written directly (TFRecord framing, Event protobuf by hand).
///
/// A file is a sequence of records: uint64 length, uint32 masked CRC-32C of the length bytes, the
/// payload, uint32 masked CRC-32C of the payload (all little-endian). Each payload is a serialised
/// tensorflow.Event (event.proto): wall_time = 1 (double), step = 2 (int64), file_version = 3
/// (string), summary = 5 (Summary). Summary (summary.proto): repeated Value value = 1; Value:
/// tag = 1, simple_value = 2 (float), image = 4 (Image: height = 1, width = 2, colorspace = 3,
/// encoded_image_string = 4).
#pragma once

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "aigc/core/error.hpp"
#include "aigc/io/png.hpp"

namespace aigc {

namespace detail {

/// The CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) lookup table.
inline const std::array<std::uint32_t, 256>& crc32c_table() {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

/// A protobuf message under construction: fields appended in wire format.
class ProtoWriter {
 public:
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      bytes_.push_back(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    bytes_.push_back(static_cast<std::uint8_t>(v));
  }
  void key(int field, int wire_type) {
    varint((static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint64_t>(wire_type));
  }
  void int_field(int field, std::int64_t v) {
    key(field, 0);
    varint(static_cast<std::uint64_t>(v));
  }
  void double_field(int field, double v) {
    key(field, 1);
    std::uint64_t bits;
    std::memcpy(&bits, &v, 8);
    fixed(bits, 8);
  }
  void float_field(int field, float v) {
    key(field, 5);
    std::uint32_t bits;
    std::memcpy(&bits, &v, 4);
    fixed(bits, 4);
  }
  void bytes_field(int field, const void* data, std::size_t n) {
    key(field, 2);
    varint(n);
    const auto* p = static_cast<const std::uint8_t*>(data);
    bytes_.insert(bytes_.end(), p, p + n);
  }
  void string_field(int field, const std::string& s) { bytes_field(field, s.data(), s.size()); }
  void message_field(int field, const ProtoWriter& m) {
    bytes_field(field, m.bytes_.data(), m.bytes_.size());
  }
  const std::vector<std::uint8_t>& bytes() const { return bytes_; }

 private:
  void fixed(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  std::vector<std::uint8_t> bytes_;
};

}  // namespace detail

/// CRC-32C of n bytes (table-driven).
inline std::uint32_t crc32c(const void* data, std::size_t n, std::uint32_t crc = 0) {
  const auto& table = detail::crc32c_table();
  const auto* p = static_cast<const std::uint8_t*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

/// The masked CRC that TFRecord stores: rotate right by 15, add a constant.
inline std::uint32_t masked_crc32c(const void* data, std::size_t n) {
  const std::uint32_t c = crc32c(data, n);
  return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

/// Writes scalars and images to `DIR/events.out.tfevents.SECONDS.HOST`, which TensorBoard
/// reads (`tensorboard --logdir DIR`). Every add_* call writes one record and flushes it.
class TensorBoardWriter {
 public:
  /// Creates `dir` if missing and a new event file in it.
  explicit TensorBoardWriter(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
      throw FileError(dir + ": cannot create the TensorBoard log folder (" + ec.message() + ")");
    char host[256] = "localhost";
    if (gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "localhost");
    host[sizeof host - 1] = '\0';
    const auto seconds = static_cast<long long>(wall_time());
    path_ = (std::filesystem::path(dir) /
             ("events.out.tfevents." + std::to_string(seconds) + "." + host))
                .string();
    file_ = std::fopen(path_.c_str(), "ab");
    if (!file_) {
      throw FileError(path_ + ": cannot open the TensorBoard event file for writing (" +
                      std::strerror(errno) + ")");
    }
    detail::ProtoWriter event;
    event.double_field(1, wall_time());
    event.string_field(3, "brain.Event:2");
    write_record(event.bytes());
  }
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;
  ~TensorBoardWriter() {
    if (file_) std::fclose(file_);
  }

  /// One scalar (Summary.Value.simple_value) under `tag` at `step`.
  void add_scalar(const std::string& tag, double value, std::int64_t step) {
    detail::ProtoWriter v;
    v.string_field(1, tag);
    v.float_field(2, static_cast<float>(value));
    write_summary(v, step);
  }

  /// One image (Summary.Value.image, PNG-encoded) under `tag` at `step`.
  void add_image(const std::string& tag, const Image& img, std::int64_t step) {
    const std::vector<std::uint8_t> png = encode_png(img);
    detail::ProtoWriter image;
    image.int_field(1, img.height);
    image.int_field(2, img.width);
    image.int_field(3, img.channels);
    image.bytes_field(4, png.data(), png.size());
    detail::ProtoWriter v;
    v.string_field(1, tag);
    v.message_field(4, image);
    write_summary(v, step);
  }

  /// A SessionLog START event at `step` (Event.session_log = 6, SessionLog.status = 1): TensorBoard
  /// drops the run's earlier events of steps >= `step`, so a resumed run's curves continue from
  /// its checkpoint instead of doubling back.
  void add_session_start(std::int64_t step) {
    detail::ProtoWriter session;
    session.int_field(1, 1);
    detail::ProtoWriter event;
    event.double_field(1, wall_time());
    event.int_field(2, step);
    event.message_field(6, session);
    write_record(event.bytes());
  }

  /// The event file's path.
  const std::string& path() const { return path_; }

  /// Seconds since the Unix epoch, with sub-second resolution.
  static double wall_time() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

 private:
  void write_summary(const detail::ProtoWriter& value, std::int64_t step) {
    detail::ProtoWriter summary;
    summary.message_field(1, value);
    detail::ProtoWriter event;
    event.double_field(1, wall_time());
    event.int_field(2, step);
    event.message_field(5, summary);
    write_record(event.bytes());
  }

  /// length, masked CRC of length, payload, masked CRC of payload; then flush.
  void write_record(const std::vector<std::uint8_t>& payload) {
    std::uint8_t header[12];
    const std::uint64_t n = payload.size();
    for (int i = 0; i < 8; ++i) header[i] = static_cast<std::uint8_t>(n >> (8 * i));
    const std::uint32_t length_crc = masked_crc32c(header, 8);
    for (int i = 0; i < 4; ++i) header[8 + i] = static_cast<std::uint8_t>(length_crc >> (8 * i));
    const std::uint32_t data_crc = masked_crc32c(payload.data(), payload.size());
    std::uint8_t footer[4];
    for (int i = 0; i < 4; ++i) footer[i] = static_cast<std::uint8_t>(data_crc >> (8 * i));
    if (std::fwrite(header, 1, 12, file_) != 12 ||
        std::fwrite(payload.data(), 1, payload.size(), file_) != payload.size() ||
        std::fwrite(footer, 1, 4, file_) != 4 || std::fflush(file_) != 0) {
      throw FileError(path_ + ": cannot write a TensorBoard record (" + std::strerror(errno) + ")");
    }
  }

  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace aigc
