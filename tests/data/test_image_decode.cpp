#include <zlib.h>

#include <aigc/data/image_decode.hpp>
#include <catch2/catch.hpp>

#include "support/idx_files.hpp"
#include "support/image_files.hpp"

using namespace aigc;

namespace {

// A PNG chunk: length, type, data, CRC.
void decode_test_put_chunk(std::vector<std::uint8_t>& out, const char* type,
                           const std::vector<std::uint8_t>& data) {
  auto be32 = [&](std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
  };
  be32(static_cast<std::uint32_t>(data.size()));
  std::vector<std::uint8_t> body(type, type + 4);
  body.insert(body.end(), data.begin(), data.end());
  out.insert(out.end(), body.begin(), body.end());
  be32(static_cast<std::uint32_t>(crc32(0, body.data(), static_cast<uInt>(body.size()))));
}

// A PNG whose header declares width x height RGBA pixels and whose data is one tiny IDAT.
std::vector<std::uint8_t> decode_test_lying_png(std::uint32_t width, std::uint32_t height) {
  std::vector<std::uint8_t> b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<std::uint8_t> ihdr;
  for (std::uint32_t v : {width, height})
    for (int s = 24; s >= 0; s -= 8) ihdr.push_back(static_cast<std::uint8_t>(v >> s));
  ihdr.insert(ihdr.end(), {8, 6, 0, 0, 0});
  decode_test_put_chunk(b, "IHDR", ihdr);
  decode_test_put_chunk(b, "IDAT", {0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01});
  decode_test_put_chunk(b, "IEND", {});
  return b;
}

DecodedImage decode_test_file(const std::string& path) { return read_image(path); }

}  // namespace

TEST_CASE("decode_png reads every PNG layout as 8-bit pixels", "[image_decode]") {
  test::TempDir dir("png-layouts");
  const int w = 5, h = 3;
  std::vector<unsigned> grey, rgb, rgba, ga;
  for (int i = 0; i < w * h; ++i) {
    grey.push_back(static_cast<unsigned>(i * 17));
    ga.insert(ga.end(), {static_cast<unsigned>(i * 17), static_cast<unsigned>(255 - i)});
    rgb.insert(rgb.end(), {static_cast<unsigned>(i), static_cast<unsigned>(2 * i),
                           static_cast<unsigned>(250 - i)});
    rgba.insert(rgba.end(), {static_cast<unsigned>(i), static_cast<unsigned>(3 * i),
                             static_cast<unsigned>(200 + i), static_cast<unsigned>(10 * i)});
  }
  auto to16 = [](std::vector<unsigned> v) {
    for (unsigned& x : v) x *= 257;
    return v;
  };
  auto bytes = [](const std::vector<unsigned>& v) {
    return std::vector<std::uint8_t>(v.begin(), v.end());
  };
  struct Case {
    const char* name;
    int type, depth;
    std::vector<unsigned> values;
    bool interlaced;
    int channels;
    std::vector<unsigned> expect;
  };
  const std::vector<Case> cases = {
      {"grey8", PNG_COLOR_TYPE_GRAY, 8, grey, false, 1, grey},
      {"grey16", PNG_COLOR_TYPE_GRAY, 16, to16(grey), false, 1, grey},
      {"grey_alpha", PNG_COLOR_TYPE_GRAY_ALPHA, 8, ga, false, 2, ga},
      {"grey_alpha16", PNG_COLOR_TYPE_GRAY_ALPHA, 16, to16(ga), false, 2, ga},
      {"rgb8", PNG_COLOR_TYPE_RGB, 8, rgb, false, 3, rgb},
      {"rgb16", PNG_COLOR_TYPE_RGB, 16, to16(rgb), false, 3, rgb},
      {"rgb_interlaced", PNG_COLOR_TYPE_RGB, 8, rgb, true, 3, rgb},
      {"rgba8", PNG_COLOR_TYPE_RGBA, 8, rgba, false, 4, rgba},
      {"rgba16", PNG_COLOR_TYPE_RGBA, 16, to16(rgba), false, 4, rgba},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const std::string path = dir / (std::string(c.name) + ".png");
    test::write_png_file(path, w, h, c.type, c.depth, c.values, c.interlaced);
    const DecodedImage img = decode_test_file(path);
    CHECK(img.width == w);
    CHECK(img.height == h);
    REQUIRE(img.channels == c.channels);
    CHECK(img.pixels == bytes(c.expect));
  }
  SECTION("1-bit grey expands to 0 and 255") {
    const std::string path = dir / "bits.png";
    test::write_png_file(path, 3, 2, PNG_COLOR_TYPE_GRAY, 1, {1, 0, 1, 0, 0, 1});
    const DecodedImage img = decode_test_file(path);
    CHECK(img.channels == 1);
    CHECK(img.pixels == std::vector<std::uint8_t>{255, 0, 255, 0, 0, 255});
  }
  SECTION("a palette becomes RGB, with tRNS RGBA") {
    const std::vector<png_color> pal = {{10, 20, 30}, {200, 100, 0}, {1, 2, 3}};
    test::write_png_file(dir / "pal.png", 2, 2, PNG_COLOR_TYPE_PALETTE, 8, {0, 1, 2, 1}, false,
                         pal);
    DecodedImage img = decode_test_file(dir / "pal.png");
    CHECK(img.channels == 3);
    CHECK(img.pixels == std::vector<std::uint8_t>{10, 20, 30, 200, 100, 0, 1, 2, 3, 200, 100, 0});
    test::write_png_file(dir / "pal4.png", 2, 1, PNG_COLOR_TYPE_PALETTE, 4, {2, 0}, false, pal,
                         {255, 7, 0});
    img = decode_test_file(dir / "pal4.png");
    CHECK(img.channels == 4);
    CHECK(img.pixels == std::vector<std::uint8_t>{1, 2, 3, 0, 10, 20, 30, 255});
  }
}

TEST_CASE("decode_jpeg reads baseline, progressive, grey and CMYK JPEGs", "[image_decode]") {
  const int w = 16, h = 8;
  std::vector<std::uint8_t> rgb, grey, cmyk;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      rgb.insert(rgb.end(), {200, 100, 50});
      grey.push_back(static_cast<std::uint8_t>(120));
      // Adobe's inverted inks: stored c = 255 - cyan; red = c * k / 255.
      cmyk.insert(cmyk.end(), {255, 128, 64, 200});
    }
  }
  auto near = [](const DecodedImage& img, std::vector<int> want) {
    for (std::size_t i = 0; i < img.pixels.size(); ++i) {
      if (std::abs(img.pixels[i] - want[i % want.size()]) > 3) return false;
    }
    return true;
  };
  for (bool progressive : {false, true}) {
    INFO("progressive " << progressive);
    auto b = test::jpeg_bytes(w, h, JCS_RGB, rgb, 95, progressive);
    DecodedImage img = decode_jpeg(b.data(), b.size(), "rgb.jpg");
    CHECK(img.width == w);
    CHECK(img.height == h);
    REQUIRE(img.channels == 3);
    CHECK(near(img, {200, 100, 50}));
    b = test::jpeg_bytes(w, h, JCS_GRAYSCALE, grey, 95, progressive);
    img = decode_image(b.data(), b.size(), "grey.jpg");
    REQUIRE(img.channels == 1);
    CHECK(near(img, {120}));
  }
  const auto b = test::jpeg_bytes(w, h, JCS_CMYK, cmyk);
  const DecodedImage img = decode_jpeg(b.data(), b.size(), "cmyk.jpg");
  REQUIRE(img.channels == 3);
  CHECK(near(img, {200, 100, 50}));
}

TEST_CASE("bad image files are refused with the file and the problem named", "[image_decode]") {
  test::TempDir dir("bad-images");
  std::vector<std::uint8_t> rgb(32 * 32 * 3);
  for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<std::uint8_t>(i * 7);
  test::write_png_bytes(dir / "good.png", 32, 32, 3, rgb);
  const std::vector<std::uint8_t> png = test::read_file(dir / "good.png");
  const std::vector<std::uint8_t> jpg = test::jpeg_bytes(32, 32, JCS_RGB, rgb);
  struct Bad {
    const char* name;
    std::vector<std::uint8_t> bytes;
    const char* message;
  };
  std::vector<std::uint8_t> corrupt_png = png;
  corrupt_png[png.size() / 2] ^= 0x55;  // inside IDAT: its CRC no longer matches
  std::vector<std::uint8_t> corrupt_jpg = jpg;
  for (std::size_t i = jpg.size() / 2; i < jpg.size() / 2 + 8; ++i) corrupt_jpg[i] = 0xFF;
  std::vector<std::uint8_t> huge_jpg = jpg;  // SOF0 at 60000 x 60000
  for (std::size_t i = 0; i + 8 < huge_jpg.size(); ++i) {
    if (huge_jpg[i] == 0xFF && huge_jpg[i + 1] == 0xC0) {
      huge_jpg[i + 5] = huge_jpg[i + 7] = 0xEA;
      huge_jpg[i + 6] = huge_jpg[i + 8] = 0x60;
      break;
    }
  }
  const std::string text = "this is not an image\n";
  const std::vector<Bad> bad = {
      {"empty.png", {}, "the file is empty (0 bytes)"},
      {"text.png", std::vector<std::uint8_t>(text.begin(), text.end()),
       "neither a PNG nor a JPEG file (it starts with bytes 74 68 69 73"},
      {"truncated.png", std::vector<std::uint8_t>(png.begin(), png.begin() + png.size() / 2),
       "truncated"},
      {"header-only.png", std::vector<std::uint8_t>(png.begin(), png.begin() + 20),
       "not a readable PNG header"},
      {"corrupt.png", corrupt_png, "corrupt PNG image data"},
      {"huge.png", decode_test_lying_png(100000, 100000),
       "declares 100000x100000 pixels, above the limit of 67108864 pixels"},
      {"lying.png", decode_test_lying_png(4000, 4000), "more than a file of"},
      {"empty-size.png", decode_test_lying_png(0, 5), "not a readable PNG header"},
      {"truncated.jpg", std::vector<std::uint8_t>(jpg.begin(), jpg.begin() + jpg.size() / 2),
       "corrupt JPEG data (Premature end of JPEG file)"},
      {"header-only.jpg", std::vector<std::uint8_t>(jpg.begin(), jpg.begin() + 3),
       "not a readable JPEG header"},
      {"corrupt.jpg", corrupt_jpg, "corrupt JPEG data"},
      {"huge.jpg", huge_jpg, "declares 60000x60000 pixels, above the limit"},
  };
  for (const Bad& b : bad) {
    INFO(b.name);
    const std::string path = dir / b.name;
    test::write_bytes(path, b.bytes);
    REQUIRE_THROWS_AS(read_image(path), FileError);
    REQUIRE_THROWS_WITH(read_image(path),
                        Catch::StartsWith(path + ": ") && Catch::Contains(b.message));
  }
  REQUIRE_THROWS_WITH(read_image(dir / "missing.png"),
                      Catch::Contains("missing.png: cannot open (No such file"));
  DecodeLimits small;
  small.max_file_bytes = 10;
  REQUIRE_THROWS_WITH(read_image(dir / "good.png", small),
                      Catch::Contains("above the limit of 10 (DecodeLimits::max_file_bytes)"));
  small = {};
  small.max_pixels = 1000;
  REQUIRE_THROWS_WITH(read_image(dir / "good.png", small),
                      Catch::Contains("32x32 pixels, above the limit of 1000 pixels"));
  CHECK(read_image(dir / "good.png").pixels == rgb);
}
