#include <sys/stat.h>
#include <unistd.h>

#include <aigc/data/image_folder.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "support/idx_files.hpp"
#include "support/image_files.hpp"

using namespace aigc;

namespace {

// An RGB image of one colour.
std::vector<std::uint8_t> folder_test_flat(int w, int h, std::uint8_t r, std::uint8_t g,
                                           std::uint8_t b) {
  std::vector<std::uint8_t> p;
  for (int i = 0; i < w * h; ++i) p.insert(p.end(), {r, g, b});
  return p;
}

// root/{cats/a.png, cats/deep/b.jpg, dogs/c.png, dogs/d.png, notes.txt, top.png}.
void folder_test_make_classes(const test::TempDir& root) {
  namespace fs = std::filesystem;
  fs::create_directories(root.path / "cats" / "deep");
  fs::create_directories(root.path / "dogs");
  test::write_png_bytes(root / "cats/a.png", 6, 6, 3, folder_test_flat(6, 6, 250, 0, 0));
  test::write_bytes(root / "cats/deep/b.jpg",
                    test::jpeg_bytes(8, 8, JCS_RGB, folder_test_flat(8, 8, 0, 200, 0)));
  test::write_png_bytes(root / "dogs/c.png", 4, 4, 1, std::vector<std::uint8_t>(16, 90));
  test::write_png_bytes(root / "dogs/d.png", 12, 6, 3, folder_test_flat(12, 6, 0, 0, 255));
  test::write_bytes(root / "notes.txt", {'h', 'i'});
  test::write_png_bytes(root / "top.png", 4, 4, 1, std::vector<std::uint8_t>(16, 1));
}

}  // namespace

TEST_CASE("read_image_folder: subfolders are classes, sorted, labels and files kept",
          "[image_folder]") {
  test::TempDir root("image-classes");
  folder_test_make_classes(root);
  ImageFolderOptions o;
  o.image_size = 4;
  ImageFolderReport rep;
  const ByteDataset d = read_image_folder(root.path.string(), o, &rep);
  REQUIRE(d.size() == 4);
  CHECK(d.channels == 3);
  CHECK(d.height == 4);
  CHECK(d.width == 4);
  CHECK(d.features() == 48);
  CHECK(d.num_classes == 2);
  CHECK(d.class_names == std::vector<std::string>{"cats", "dogs"});
  CHECK(d.labels == std::vector<int>{0, 0, 1, 1});
  CHECK(d.files ==
        std::vector<std::string>{"cats/a.png", "cats/deep/b.jpg", "dogs/c.png", "dogs/d.png"});
  CHECK(rep.images == 4);
  CHECK(rep.other_files == 1);
  CHECK(rep.outside_classes == 1);
  CHECK(rep.bad.empty());
  CHECK_FALSE(rep.from_cache);
  // Planar rows: a.png is red, c.png's grey 90 in all three planes, d.png blue.
  auto plane = [&](Index i, Index c) { return d.row(i)[c * 16 + 5]; };
  CHECK(plane(0, 0) == 250);
  CHECK(plane(0, 1) == 0);
  CHECK(std::abs(plane(1, 1) - 200) <= 3);
  CHECK(plane(2, 0) == 90);
  CHECK(plane(2, 2) == 90);
  CHECK(plane(3, 2) == 255);
  CHECK(plane(3, 0) == 0);
  // Without subfolders: one unlabelled set of the images in the folder.
  const ByteDataset flat = read_image_folder((root.path / "dogs").string(), o);
  CHECK(flat.size() == 2);
  CHECK(flat.num_classes == 0);
  CHECK(flat.labels.empty());
  // Grey: ITU-R 601 luma of red 250 is 75.
  o.channels = 1;
  const ByteDataset grey = read_image_folder(root.path.string(), o);
  CHECK(grey.features() == 16);
  CHECK(grey.row(0)[0] == 75);
  CHECK(grey.row(2)[0] == 90);
}

TEST_CASE("prepare_image: Resize + CenterCrop as torchvision, alpha onto the background",
          "[image_folder]") {
  ImageFolderOptions o;
  o.image_size = 4;
  // 8x4 (wide): the shorter side is already 4, so the centre 4 columns (2..5) are cut out.
  DecodedImage img;
  img.width = 8;
  img.height = 4;
  img.channels = 1;
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 8; ++x) img.pixels.push_back(static_cast<std::uint8_t>(10 * x + y));
  std::vector<std::uint8_t> out(48);
  prepare_image(img, o, out.data(), "wide");
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) CHECK(out[c * 16 + y * 4 + x] == 10 * (x + 2) + y);
  // 7 rows: (7 - 4) / 2 = 1.5 rounds to 2, as Python's round does.
  CHECK(detail::center_crop_offset(7, 4) == 2);
  CHECK(detail::center_crop_offset(5, 4) == 0);
  CHECK(detail::center_crop_offset(9, 4) == 2);
  // A flat 16x8 image halves to 8x4: still flat (the filter keeps constants).
  img.width = 16;
  img.height = 8;
  img.channels = 3;
  img.pixels = folder_test_flat(16, 8, 12, 34, 56);
  prepare_image(img, o, out.data(), "flat");
  for (int i = 0; i < 16; ++i) {
    CHECK(out[i] == 12);
    CHECK(out[16 + i] == 34);
    CHECK(out[32 + i] == 56);
  }
  // A vertical edge, downscaled 4x: the anti-aliasing filter blends the columns at the edge.
  img.width = 16;
  img.height = 16;
  img.channels = 1;
  img.pixels.assign(256, 0);
  for (int y = 0; y < 16; ++y)
    for (int x = 8; x < 16; ++x) img.pixels[static_cast<std::size_t>(y * 16 + x)] = 255;
  o.channels = 1;
  prepare_image(img, o, out.data(), "edge");
  CHECK(out[0] == 0);
  CHECK(out[3] == 255);
  CHECK(out[1] > 0);
  CHECK(out[1] < 128);
  CHECK(out[2] > 128);
  CHECK(out[2] < 255);
  // PIL's bilinear reduction 4 -> 2 of 0 100 200 255: taps 3/7 3/7 1/7 and 1/7 3/7 3/7.
  img.width = 4;
  img.height = 4;
  img.channels = 1;
  img.pixels.clear();
  for (int y = 0; y < 4; ++y) img.pixels.insert(img.pixels.end(), {0, 100, 200, 255});
  o.image_size = 2;
  prepare_image(img, o, out.data(), "pil");
  CHECK(std::vector<std::uint8_t>(out.begin(), out.begin() + 4) ==
        std::vector<std::uint8_t>{71, 209, 71, 209});
  // A 1 x 100000 strip: only the crop's window of the 64 x 6400000 resize is computed.
  img.width = 1;
  img.height = 100000;
  img.pixels.assign(100000, 33);
  o.image_size = 64;
  o.channels = 1;
  std::vector<std::uint8_t> strip(64 * 64);
  prepare_image(img, o, strip.data(), "strip");
  CHECK(std::all_of(strip.begin(), strip.end(), [](std::uint8_t v) { return v == 33; }));
  // Alpha: transparent becomes the background, half-transparent blends.
  DecodedImage left;
  left.width = 1;
  left.height = 1;
  left.channels = 4;
  o.image_size = 1;
  o.channels = 3;
  o.background = {255, 255, 255};
  std::vector<std::uint8_t> px(3);
  left.pixels = {0, 0, 0, 0};
  prepare_image(left, o, px.data(), "transparent");
  CHECK(px == std::vector<std::uint8_t>{255, 255, 255});
  left.pixels = {100, 50, 0, 128};
  prepare_image(left, o, px.data(), "half");
  CHECK(px == std::vector<std::uint8_t>{177, 152, 127});
  o.background = {0, 0, 0};
  prepare_image(left, o, px.data(), "half on black");
  CHECK(px == std::vector<std::uint8_t>{50, 25, 0});
}

TEST_CASE("read_image_folder: results do not depend on the number of threads", "[image_folder]") {
  test::TempDir root("image-threads");
  for (int i = 0; i < 23; ++i) {
    std::vector<std::uint8_t> px;
    for (int j = 0; j < 20 * 13; ++j) {
      px.insert(px.end(), {static_cast<std::uint8_t>(i * 11 + j), static_cast<std::uint8_t>(j * 3),
                           static_cast<std::uint8_t>(i * j)});
    }
    test::write_png_bytes(root / ("img" + std::to_string(100 + i) + ".png"), 20, 13, 3, px);
  }
  ImageFolderOptions o;
  o.image_size = 8;
  o.threads = 1;
  const ByteDataset one = read_image_folder(root.path.string(), o);
  o.threads = 2;
  const ByteDataset two = read_image_folder(root.path.string(), o);
  o.threads = 5;
  const ByteDataset five = read_image_folder(root.path.string(), o);
  REQUIRE(one.size() == 23);
  CHECK(one.pixels == two.pixels);
  CHECK(one.pixels == five.pixels);
}

TEST_CASE("read_image_folder: bad files stop the run or are skipped and reported",
          "[image_folder]") {
  namespace fs = std::filesystem;
  test::TempDir root("image-bad");
  fs::create_directories(root.path / "a");
  fs::create_directories(root.path / "b");
  test::write_png_bytes(root / "a/good.png", 4, 4, 3, folder_test_flat(4, 4, 1, 2, 3));
  test::write_bytes(root / "a/zero.png", {});
  test::write_png_bytes(root / "b/good.png", 4, 4, 3, folder_test_flat(4, 4, 4, 5, 6));
  test::write_bytes(root / "b/text.jpg", {'h', 'e', 'l', 'l', 'o'});
  ImageFolderOptions o;
  o.image_size = 4;
  REQUIRE_THROWS_WITH(read_image_folder(root.path.string(), o),
                      Catch::Contains("a/zero.png: the file is empty (0 bytes)"));
  o.on_bad_file = OnBadFile::skip_and_report;
  ImageFolderReport rep;
  const ByteDataset d = read_image_folder(root.path.string(), o, &rep);
  CHECK(d.size() == 2);
  CHECK(d.labels == std::vector<int>{0, 1});
  REQUIRE(rep.bad.size() == 2);
  CHECK_THAT(rep.bad[0].message, Catch::Contains("zero.png: the file is empty"));
  CHECK_THAT(rep.bad[1].message, Catch::Contains("text.jpg: neither a PNG nor a JPEG"));
  // A class whose every file is bad is dropped, and said so; the labels stay dense.
  fs::create_directories(root.path / "0-broken");
  test::write_bytes(root / "0-broken/x.png", {1, 2, 3});
  const ByteDataset d2 = read_image_folder(root.path.string(), o, &rep);
  CHECK(d2.class_names == std::vector<std::string>{"a", "b"});
  CHECK(d2.labels == std::vector<int>{0, 1});
  CHECK_THAT(rep.bad.back().message, Catch::Contains("0-broken: no image of the class"));
  fs::remove_all(root.path / "0-broken");
  // An empty class folder is an error (or skipped and reported).
  fs::create_directories(root.path / "c-empty");
  CHECK(read_image_folder(root.path.string(), o, &rep).class_names ==
        std::vector<std::string>{"a", "b"});
  CHECK_THAT(rep.bad.front().message,
             Catch::Contains("c-empty: the class folder 'c-empty' holds no .png"));
  o.on_bad_file = OnBadFile::error;
  REQUIRE_THROWS_WITH(read_image_folder(root.path.string(), o),
                      Catch::Contains("c-empty: the class folder 'c-empty' holds no .png"));
  // An empty folder, a missing one, a file.
  test::TempDir empty("image-empty");
  REQUIRE_THROWS_WITH(read_image_folder(empty.path.string(), o),
                      Catch::Contains(empty.path.string() + ": holds no .png, .jpg or .jpeg file"));
  test::write_bytes(empty / "readme.md", {'x'});
  REQUIRE_THROWS_WITH(read_image_folder(empty.path.string(), o),
                      Catch::Contains("(1 other files skipped)"));
  REQUIRE_THROWS_WITH(read_image_folder(empty / "nope", o), Catch::Contains("nope: not a folder"));
  REQUIRE_THROWS_WITH(read_image_folder(empty / "readme.md", o),
                      Catch::Contains("readme.md: not a folder"));
  o.channels = 2;
  REQUIRE_THROWS_WITH(read_image_folder(root.path.string(), o),
                      Catch::Contains("channels must be 1 or 3, got 2"));
  o.channels = 3;
  o.image_size = 0;
  REQUIRE_THROWS_WITH(read_image_folder(root.path.string(), o),
                      Catch::Contains("image size must be in [1, 4096], got 0"));
}

TEST_CASE("read_image_folder: a folder without read permission is named", "[image_folder]") {
  namespace fs = std::filesystem;
  test::TempDir root("image-perm");
  fs::create_directories(root.path / "a" / "locked");
  fs::create_directories(root.path / "b");
  test::write_png_bytes(root / "a/locked/x.png", 4, 4, 1, std::vector<std::uint8_t>(16, 7));
  test::write_png_bytes(root / "a/y.png", 4, 4, 1, std::vector<std::uint8_t>(16, 8));
  test::write_png_bytes(root / "b/z.png", 4, 4, 1, std::vector<std::uint8_t>(16, 9));
  fs::permissions(root.path / "a" / "locked", fs::perms::none);
  ImageFolderOptions o;
  o.image_size = 4;
  if (::geteuid() == 0) {
    // root reads every folder whatever its permissions: the unreadable case cannot arise.
    CHECK(read_image_folder(root.path.string(), o).size() == 3);
  } else {
    REQUIRE_THROWS_WITH(read_image_folder(root.path.string(), o),
                        Catch::Contains("locked: cannot read the folder (Permission denied)"));
    o.on_bad_file = OnBadFile::skip_and_report;
    ImageFolderReport rep;
    CHECK(read_image_folder(root.path.string(), o, &rep).size() == 2);
    REQUIRE(rep.bad.size() == 1);
    CHECK_THAT(rep.bad[0].message, Catch::Contains("Permission denied"));
  }
  fs::permissions(root.path / "a" / "locked", fs::perms::owner_all);
}

TEST_CASE("read_image_folder creates a cache folder that does not exist yet", "[image_folder]") {
  namespace fs = std::filesystem;
  test::TempDir root("image-cache-new");
  folder_test_make_classes(root);
  test::TempDir cache("image-cache-new-dir");
  ImageFolderOptions o;
  o.image_size = 4;
  o.cache_dir = (cache.path / "not" / "yet").string();
  ImageFolderReport rep;
  read_image_folder(root.path.string(), o, &rep);
  CHECK(fs::exists(rep.cache_file));
  read_image_folder(root.path.string(), o, &rep);
  CHECK(rep.from_cache);
}

TEST_CASE("read_image_folder: the cache is used while valid, rebuilt when not", "[image_folder]") {
  namespace fs = std::filesystem;
  test::TempDir root("image-cache");
  folder_test_make_classes(root);
  test::TempDir cache("image-cache-dir");
  ImageFolderOptions o;
  o.image_size = 4;
  o.cache_dir = cache.path.string();
  ImageFolderReport rep;
  const ByteDataset first = read_image_folder(root.path.string(), o, &rep);
  CHECK_FALSE(rep.from_cache);
  CHECK(rep.cache_note == "no cache yet");
  REQUIRE(fs::exists(rep.cache_file));
  const std::string file = rep.cache_file;
  CHECK(file.find(cache.path.string()) == 0);
  ByteDataset again = read_image_folder(root.path.string(), o, &rep);
  CHECK(rep.from_cache);
  CHECK(rep.other_files == 1);
  CHECK(rep.outside_classes == 1);
  CHECK(again.pixels == first.pixels);
  CHECK(again.labels == first.labels);
  CHECK(again.files == first.files);
  CHECK(again.class_names == first.class_names);
  // The scale is not part of the cache: it is applied per batch.
  o.scale = PixelScale::symmetric;
  again = read_image_folder(root.path.string(), o, &rep);
  CHECK(rep.from_cache);
  CHECK(again.scale == PixelScale::symmetric);
  // Another size has its own cache file.
  o.image_size = 2;
  read_image_folder(root.path.string(), o, &rep);
  CHECK(rep.cache_file != file);
  o.image_size = 4;
  // A changed file (size and time) rebuilds it.
  test::write_png_bytes(root / "dogs/c.png", 4, 4, 1, std::vector<std::uint8_t>(16, 91));
  fs::last_write_time(root / "dogs/c.png",
                      fs::last_write_time(root / "dogs/c.png") + std::chrono::seconds(5));
  again = read_image_folder(root.path.string(), o, &rep);
  CHECK_FALSE(rep.from_cache);
  CHECK(rep.cache_note == "the folder's files or the options changed");
  CHECK(again.row(2)[0] == 91);
  read_image_folder(root.path.string(), o, &rep);
  CHECK(rep.from_cache);
  // Damaged caches are never used: a flipped pixel byte, a cut file, garbage.
  std::vector<std::uint8_t> bytes = test::read_file(file);
  bytes[bytes.size() - 3] ^= 1;
  test::write_bytes(file, bytes);
  again = read_image_folder(root.path.string(), o, &rep);
  CHECK_FALSE(rep.from_cache);
  CHECK(rep.cache_note == "the cache's pixels fail their CRC");
  CHECK(again.row(2)[0] == 91);
  bytes = test::read_file(file);
  bytes[70] ^= 1;  // in the metadata
  test::write_bytes(file, bytes);
  read_image_folder(root.path.string(), o, &rep);
  CHECK(rep.cache_note == "the cache's metadata fails its CRC");
  bytes = test::read_file(file);
  test::write_bytes(file, std::vector<std::uint8_t>(bytes.begin(), bytes.end() - 10));
  read_image_folder(root.path.string(), o, &rep);
  CHECK(rep.cache_note == "the cache has the wrong size (truncated?)");
  test::write_bytes(file, {'j', 'u', 'n', 'k'});
  read_image_folder(root.path.string(), o, &rep);
  CHECK(rep.cache_note == "not an aigc image cache");
  read_image_folder(root.path.string(), o, &rep);
  CHECK(rep.from_cache);
  // A cache folder that cannot be created (under a regular file) is an error naming it.
  test::write_bytes(cache.path / "a-file", {'x'});
  o.cache_dir = (cache.path / "a-file" / "cache").string();
  REQUIRE_THROWS_WITH(read_image_folder(root.path.string(), o),
                      Catch::Contains("cannot create the image cache's folder"));
}

TEST_CASE("split_holdout holds out a seeded fraction per class", "[image_folder]") {
  ByteDataset d;
  d.count = 50;
  d.channels = 1;
  d.height = 1;
  d.width = 2;
  d.num_classes = 3;
  d.class_names = {"x", "y", "z"};
  for (Index i = 0; i < 50; ++i) {
    d.pixels.insert(d.pixels.end(), {static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i)});
    d.labels.push_back(i < 30 ? 0 : i < 45 ? 1 : 2);  // 30, 15, 5 images
    d.files.push_back("f" + std::to_string(i));
  }
  const HoldoutSplit s = split_holdout(d, 0.2, 7);
  CHECK(s.test.size() == 6 + 3 + 1);
  CHECK(s.train.size() == 40);
  std::vector<int> per(3, 0);
  for (int l : s.test.labels) ++per[static_cast<std::size_t>(l)];
  CHECK(per == std::vector<int>{6, 3, 1});
  // Disjoint, complete, in the original order, pixels with their labels and files.
  std::vector<int> seen(50, 0);
  for (const ByteDataset* part : {&s.train, &s.test}) {
    for (Index i = 0; i < part->size(); ++i) {
      const int orig = part->row(i)[0];
      ++seen[static_cast<std::size_t>(orig)];
      CHECK(part->files[static_cast<std::size_t>(i)] == "f" + std::to_string(orig));
      CHECK(part->labels[static_cast<std::size_t>(i)] == d.labels[static_cast<std::size_t>(orig)]);
      if (i > 0) CHECK(part->row(i - 1)[0] < orig);
    }
    CHECK(part->class_names == d.class_names);
  }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int v) { return v == 1; }));
  CHECK(split_holdout(d, 0.2, 7).test.pixels == s.test.pixels);
  CHECK(split_holdout(d, 0.2, 8).test.pixels != s.test.pixels);
  // Without labels: over the whole set.
  d.labels.clear();
  d.num_classes = 0;
  CHECK(split_holdout(d).test.size() == 5);
  REQUIRE_THROWS_WITH(split_holdout(d, 1.0), Catch::Contains("fraction must be in (0, 1), got 1"));
  // to_dataset: the values the loader makes.
  const Dataset<float> f = to_dataset<float>(s.test);
  CHECK(f.images(0, 0) == static_cast<float>(s.test.row(0)[0]) / 255.0f);
}
