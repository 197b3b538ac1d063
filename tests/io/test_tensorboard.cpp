#include <aigc/io/tensorboard.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "support/idx_files.hpp"

using namespace aigc;

namespace {

// CRC-32C bit by bit, independent of the library's table.
std::uint32_t crc32c_bitwise(const std::uint8_t* p, std::size_t n) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::uint32_t mask(std::uint32_t c) { return ((c >> 15) | (c << 17)) + 0xA282EAD8u; }

std::uint64_t le(const std::uint8_t* p, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Splits a TFRecord file into payloads, checking both CRCs of every record.
std::vector<std::vector<std::uint8_t>> read_records(const std::vector<std::uint8_t>& file) {
  std::vector<std::vector<std::uint8_t>> out;
  std::size_t at = 0;
  while (at < file.size()) {
    REQUIRE(at + 12 <= file.size());
    const std::uint64_t n = le(&file[at], 8);
    CHECK(le(&file[at + 8], 4) == mask(crc32c_bitwise(&file[at], 8)));
    REQUIRE(at + 12 + n + 4 <= file.size());
    const std::uint8_t* data = &file[at + 12];
    CHECK(le(data + n, 4) == mask(crc32c_bitwise(data, n)));
    out.emplace_back(data, data + n);
    at += 12 + n + 4;
  }
  return out;
}

// A message as `protoc --decode_raw` prints it: scalar fields as text, nested messages as trees.
struct Decoded {
  std::multimap<int, std::string> scalars;
  std::multimap<int, Decoded> messages;
  const std::string& scalar(int field) const {
    INFO("field " << field);
    REQUIRE(scalars.count(field) == 1);
    return scalars.find(field)->second;
  }
  const Decoded& message(int field) const {
    INFO("field " << field);
    REQUIRE(messages.count(field) == 1);
    return messages.find(field)->second;
  }
};

Decoded parse_decode_raw(std::istream& in) {
  Decoded d;
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    line = line.substr(first);
    if (line == "}") return d;
    if (line.back() == '{') {
      const int field = std::stoi(line.substr(0, line.find(' ')));
      d.messages.emplace(field, parse_decode_raw(in));
    } else {
      const auto colon = line.find(": ");
      REQUIRE(colon != std::string::npos);
      d.scalars.emplace(std::stoi(line.substr(0, colon)), line.substr(colon + 2));
    }
  }
  return d;
}

// Runs `protoc --decode_raw` on a payload and parses what it prints.
Decoded protoc_decode(const std::vector<std::uint8_t>& payload, const test::TempDir& dir) {
  const std::string in = dir / "record.bin", out = dir / "record.txt";
  test::write_file(in, payload, false);
  const std::string cmd = "protoc --decode_raw < '" + in + "' > '" + out + "' 2>&1";
  INFO("command: " << cmd << " (protoc comes with Debian's protobuf-compiler)");
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream text(out);
  return parse_decode_raw(text);
}

// protoc prints fixed64/fixed32 fields as 0x-prefixed hex of their bits.
double hex_double(const std::string& s) {
  const std::uint64_t bits = std::stoull(s, nullptr, 16);
  double v;
  std::memcpy(&v, &bits, 8);
  return v;
}
float hex_float(const std::string& s) {
  const auto bits = static_cast<std::uint32_t>(std::stoul(s, nullptr, 16));
  float v;
  std::memcpy(&v, &bits, 4);
  return v;
}

}  // namespace

TEST_CASE("crc32c matches the standard check value", "[tensorboard]") {
  const char* digits = "123456789";
  CHECK(crc32c(digits, 9) == 0xE3069283u);
  CHECK(crc32c_bitwise(reinterpret_cast<const std::uint8_t*>(digits), 9) == 0xE3069283u);
}

TEST_CASE("TensorBoard event file: framing, CRCs and fields decode with protoc", "[tensorboard]") {
  test::TempDir dir("tensorboard");
  const double t0 = TensorBoardWriter::wall_time();
  std::string path;
  Image img;
  img.width = 5;
  img.height = 3;
  img.channels = 1;
  for (int i = 0; i < 15; ++i) img.pixels.push_back(static_cast<unsigned char>(i * 17));
  {
    TensorBoardWriter tb(dir / "logs");
    path = tb.path();
    tb.add_scalar("loss/train", 0.25, 1);
    tb.add_scalar("loss/test", -3.5, 7);
    tb.add_scalar("d_loss", 1234.5678, 1000000000000LL);
    tb.add_image("samples", img, 3);
  }
  const double t1 = TensorBoardWriter::wall_time();
  const std::string name = std::filesystem::path(path).filename().string();
  CHECK(name.rfind("events.out.tfevents.", 0) == 0);
  const long long stamp = std::stoll(name.substr(20, name.find('.', 20) - 20));
  CHECK(stamp >= static_cast<long long>(t0) - 1);
  CHECK(stamp <= static_cast<long long>(t1));

  const auto records = read_records(test::read_file(path));
  REQUIRE(records.size() == 5);
  test::TempDir work("tensorboard-protoc");
  std::vector<Decoded> events;
  for (const auto& r : records) events.push_back(protoc_decode(r, work));
  for (const Decoded& e : events) {
    const double wall = hex_double(e.scalar(1));
    CHECK(wall >= t0 - 1e-3);
    CHECK(wall <= t1 + 1e-3);
  }

  // The first record: file_version, no step, no summary.
  CHECK(events[0].scalar(3) == "\"brain.Event:2\"");
  CHECK(events[0].scalars.count(2) == 0);
  CHECK(events[0].messages.empty());

  const struct {
    const char* tag;
    float value;
    const char* step;
  } scalars[] = {{"loss/train", 0.25f, "1"},
                 {"loss/test", -3.5f, "7"},
                 {"d_loss", 1234.5678f, "1000000000000"}};
  for (int i = 0; i < 3; ++i) {
    const Decoded& e = events[static_cast<std::size_t>(i) + 1];
    CHECK(e.scalar(2) == scalars[i].step);
    const Decoded& value = e.message(5).message(1);
    CHECK(value.scalar(1) == "\"" + std::string(scalars[i].tag) + "\"");
    CHECK(hex_float(value.scalar(2)) == scalars[i].value);
  }

  // The image: Summary.Value.image with height, width, colorspace and the PNG bytes.
  const Decoded& e = events[4];
  CHECK(e.scalar(2) == "3");
  const Decoded& value = e.message(5).message(1);
  CHECK(value.scalar(1) == "\"samples\"");
  const Decoded& image = value.message(4);
  CHECK(image.scalar(1) == "3");
  CHECK(image.scalar(2) == "5");
  CHECK(image.scalar(3) == "1");
  CHECK(image.scalars.count(4) + image.messages.count(4) == 1);
  // The PNG inside the record decodes back to the pixels written.
  const auto& payload = records[4];
  const std::uint8_t signature[] = {0x89, 'P', 'N', 'G'};
  const auto at = std::search(payload.begin(), payload.end(), signature, signature + 4);
  REQUIRE(at != payload.end());
  const DecodedImage px =
      decode_png(&*at, static_cast<std::size_t>(payload.end() - at), "the event's image");
  CHECK(px.width == 5);
  CHECK(px.height == 3);
  CHECK(px.channels == 1);
  CHECK(px.pixels == img.pixels);
}

TEST_CASE("TensorBoard SessionLog START: Event.session_log.status 1 at the step", "[tensorboard]") {
  test::TempDir dir("tensorboard-session");
  std::string path;
  {
    TensorBoardWriter tb(dir / "logs");
    path = tb.path();
    tb.add_session_start(7);
  }
  const auto records = read_records(test::read_file(path));
  REQUIRE(records.size() == 2);
  test::TempDir work("tensorboard-session-protoc");
  const Decoded e = protoc_decode(records[1], work);
  CHECK(e.scalar(2) == "7");
  CHECK(e.message(6).scalar(1) == "1");
}

TEST_CASE("TensorBoardWriter names an unwritable folder", "[tensorboard]") {
  test::TempDir dir("tensorboard-bad");
  test::write_file(dir / "file", {1, 2, 3}, false);
  const std::string bad = dir / "file/logs";
  REQUIRE_THROWS_WITH(TensorBoardWriter(bad), Catch::Contains(bad));
}
