#include <aigc/data/dataset.hpp>
#include <aigc/data/idx.hpp>
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "support/idx_files.hpp"

using namespace aigc;
using test::idx_bytes;
using test::write_file;

namespace {
std::vector<std::uint8_t> pixels(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(i * 37 % 256);
  return v;
}
}  // namespace

TEST_CASE("IDX images and labels read the same raw and gzip'd", "[idx]") {
  test::TempDir dir("idx-good");
  const auto px = pixels(5 * 3 * 4);
  for (bool gz : {false, true}) {
    const std::string img = dir / (gz ? "img.gz" : "img");
    const std::string lab = dir / (gz ? "lab.gz" : "lab");
    write_file(img, idx_bytes(3, {5, 3, 4}, px), gz);
    write_file(lab, idx_bytes(1, {5}, {0, 1, 2, 9, 4}), gz);
    const auto d = read_idx_dataset<float>(img, lab);
    REQUIRE(d.size() == 5);
    REQUIRE(d.height == 3);
    REQUIRE(d.width == 4);
    CHECK(d.labels == std::vector<int>{0, 1, 2, 9, 4});
    CHECK(d.num_classes == 10);
    CHECK(d.images(1, 2) == Approx(px[12 + 2] / 255.0f));
    const auto s = read_idx_images<double>(img, PixelScale::symmetric);
    CHECK(s.images(4, 11) == Approx(px[4 * 12 + 11] * 2.0 / 255.0 - 1.0));
    CHECK(s.images.minCoeff() >= -1.0);
    CHECK(s.images.maxCoeff() <= 1.0);
  }
}

TEST_CASE("A data set of many MB loads the same onto huge pages", "[idx]") {
  // 3000 images of 28 x 28: 9.4 MB of floats, so read_idx_images advises huge pages for most of it.
  test::TempDir dir("idx-large");
  const auto px = pixels(3000 * 28 * 28);
  const std::string img = dir / "img.gz";
  write_file(img, idx_bytes(3, {3000, 28, 28}, px), true);
  const auto d = read_idx_images<float>(img);
  REQUIRE(d.size() == 3000);
  REQUIRE(d.features() == 784);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < px.size(); ++i) {
    wrong += d.images.data()[i] != static_cast<float>(px[i]) * (1.0f / 255.0f);
  }
  CHECK(wrong == 0);
}

TEST_CASE("advise_huge_pages takes the 2 MiB-aligned part of a buffer and leaves it intact",
          "[idx]") {
  std::vector<float> small(1000, 1.0f);
  CHECK_FALSE(detail::advise_huge_pages(small.data(), sizeof(float) * small.size()));
  CHECK_FALSE(detail::advise_huge_pages(nullptr, std::size_t{1} << 24));
  std::vector<float> large(std::size_t{3} << 20, 2.0f);  // 12 MiB: at least five aligned 2 MiB
  const bool taken = detail::advise_huge_pages(large.data(), sizeof(float) * large.size());
#if defined(__linux__)
  // Kernels built with transparent huge pages (Debian's) show this file and take the advice.
  if (std::filesystem::exists("/sys/kernel/mm/transparent_hugepage/enabled")) CHECK(taken);
#else
  CHECK_FALSE(taken);
#endif
  CHECK(std::count(large.begin(), large.end(), 2.0f) == static_cast<std::ptrdiff_t>(large.size()));
}

TEST_CASE("IDX reader rejects bad files with a message naming the file", "[idx]") {
  test::TempDir dir("idx-bad");
  const auto px = pixels(2 * 2 * 2);
  const auto good = idx_bytes(3, {2, 2, 2}, px);
  auto expect_error = [&](const std::string& name, const std::vector<std::uint8_t>& bytes, bool gz,
                          const std::string& why) {
    const std::string path = dir / name;
    write_file(path, bytes, gz);
    INFO(name);
    REQUIRE_THROWS_AS(read_idx_images<float>(path), FileError);
    REQUIRE_THROWS_WITH(read_idx_images<float>(path),
                        Catch::Contains(path) && Catch::Contains(why));
  };
  for (bool gz : {false, true}) {
    const std::string s = gz ? ".gz" : "";
    expect_error("truncated" + s, std::vector<std::uint8_t>(good.begin(), good.end() - 3), gz,
                 "truncated");
    expect_error("header-only" + s, std::vector<std::uint8_t>(good.begin(), good.begin() + 6), gz,
                 "truncated");
    auto bad_magic = good;
    bad_magic[0] = 0x1f;
    expect_error("magic" + s, bad_magic, gz, "not an IDX file");
    auto bad_type = good;
    bad_type[2] = 0x0D;
    expect_error("type" + s, bad_type, gz, "element type 0x0D (");
    expect_error("labels-as-images" + s, idx_bytes(1, {8}, px), gz, "dimensions");
    auto longer = good;
    longer.push_back(7);
    expect_error("longer" + s, longer, gz, "longer than its header");
    // A header that claims 60000 x 60000 x 60000 bytes in a 20-byte file: no huge allocation.
    expect_error("lying" + s, idx_bytes(3, {60000, 60000, 60000}, px), gz, "overflow");
    // 65536 x 2^24 x 7 * 2^26: the product wraps around 2^64 to 0 (found by fuzz_idx).
    expect_error("wrapping" + s, idx_bytes(3, {65536, 16777216, 469762048}, {}), gz, "overflow");
    expect_error("lying-small" + s, idx_bytes(3, {60000, 28, 28}, px), gz, "truncated");
    expect_error("zero-dim" + s, idx_bytes(3, {0, 28, 28}, {}), gz, "zero");
    expect_error("empty" + s, {}, gz, "truncated");
  }
}

TEST_CASE("IDX reader rejects corrupt gzip and missing files", "[idx]") {
  test::TempDir dir("idx-gz");
  const std::string path = dir / "corrupt.gz";
  write_file(path, idx_bytes(3, {4, 8, 8}, pixels(256)), true);
  auto bytes = test::read_file(path);
  for (std::size_t i = 12; i + 8 < bytes.size(); ++i) bytes[i] ^= 0x5A;  // damage the deflate body
  write_file(path, bytes, false);
  REQUIRE_THROWS_AS(read_idx_images<float>(path), FileError);
  REQUIRE_THROWS_WITH(read_idx_images<float>(path), Catch::Contains(path));
  const std::string missing = dir / "nope";
  REQUIRE_THROWS_WITH(read_idx_images<float>(missing),
                      Catch::Contains(missing) && Catch::Contains("cannot open"));
}

TEST_CASE("Labels that disagree with their images, or are out of range, are rejected", "[idx]") {
  test::TempDir dir("idx-labels");
  const std::string img = dir / "img", lab = dir / "lab", lab11 = dir / "lab11";
  write_file(img, idx_bytes(3, {3, 2, 2}, pixels(12)), false);
  write_file(lab, idx_bytes(1, {4}, {1, 2, 3, 4}), false);
  REQUIRE_THROWS_WITH(read_idx_dataset<float>(img, lab), Catch::Contains(lab) &&
                                                             Catch::Contains("4 labels") &&
                                                             Catch::Contains("3 images"));
  write_file(lab11, idx_bytes(1, {3}, {1, 11, 3}), false);
  REQUIRE_THROWS_WITH(read_idx_dataset<float>(img, lab11, PixelScale::unit, 10),
                      Catch::Contains(lab11) && Catch::Contains("label 11"));
}

TEST_CASE("load_mnist_format finds raw or gzip'd files and names a missing folder", "[idx]") {
  test::TempDir dir("idx-folder");
  write_file(dir / "t10k-images-idx3-ubyte", idx_bytes(3, {2, 2, 2}, pixels(8)), false);
  write_file(dir / "t10k-labels-idx1-ubyte.gz", idx_bytes(1, {2}, {3, 4}), true);
  const auto d = load_mnist_format<float>(dir.path.string(), Split::test);
  CHECK(d.size() == 2);
  CHECK(d.num_classes == 10);
  REQUIRE_THROWS_WITH(load_mnist_format<float>(dir.path.string(), Split::train),
                      Catch::Contains("train-images-idx3-ubyte"));
}

TEST_CASE("load_mnist_format refuses a test split of another image size than the train split",
          "[idx]") {
  test::TempDir dir("idx-mixed");
  write_file(dir / "train-images-idx3-ubyte.gz", idx_bytes(3, {2, 3, 3}, pixels(18)), true);
  write_file(dir / "train-labels-idx1-ubyte.gz", idx_bytes(1, {2}, {1, 2}), true);
  write_file(dir / "t10k-images-idx3-ubyte", idx_bytes(3, {2, 2, 2}, pixels(8)), false);
  write_file(dir / "t10k-labels-idx1-ubyte", idx_bytes(1, {2}, {3, 4}), false);
  CHECK(load_mnist_format<float>(dir.path.string(), Split::train).size() == 2);
  REQUIRE_THROWS_WITH(load_mnist_format<float>(dir.path.string(), Split::test),
                      Catch::Contains(dir / "t10k-images-idx3-ubyte") && Catch::Contains("2x2") &&
                          Catch::Contains("3x3"));
  CHECK(read_idx_dims(dir / "train-images-idx3-ubyte.gz") == std::vector<Index>{2, 3, 3});
  REQUIRE_THROWS_WITH(read_idx_dims(dir / "t10k-labels-idx1-ubyte", 3),
                      Catch::Contains("1 dimensions, expected 3"));
}
