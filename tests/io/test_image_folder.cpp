#include <aigc/data/image_folder.hpp>
#include <aigc/io/image_folder.hpp>
#include <aigc/io/png.hpp>
#include <catch2/catch.hpp>
#include <cmath>

#include "support/idx_files.hpp"

using namespace aigc;

TEST_CASE("read_png_folder reads PNGs in name order and rejects mixed sizes", "[image_folder]") {
  test::TempDir dir("png-folder");
  Tensor<float> a = Tensor<float>::Constant(1, 4, 0.0f), b = Tensor<float>::Constant(1, 4, 1.0f);
  write_png(dir / "b.png", make_grid(a, 1, 2, 2, 1, PixelScale::unit, 0));
  write_png(dir / "a.png", make_grid(b, 1, 2, 2, 1, PixelScale::unit, 0));
  test::write_file(dir / "notes.txt", {'x'}, false);
  const Dataset<float> d = read_png_folder<float>(dir.path.string());
  REQUIRE(d.size() == 2);
  CHECK(d.height == 2);
  CHECK(d.images.row(0).isApprox(b));  // a.png first
  CHECK(d.images.row(1).isApprox(a));
  const Dataset<float> s = read_png_folder<float>(dir.path.string(), PixelScale::symmetric);
  CHECK(s.images(1, 0) == -1.0f);
  write_png(dir / "c.png",
            make_grid<float>(Tensor<float>::Zero(1, 9), 1, 3, 3, 1, PixelScale::unit, 0));
  REQUIRE_THROWS_WITH(read_png_folder<float>(dir.path.string()), Catch::Contains("c.png"));
  test::TempDir empty("png-folder-empty");
  REQUIRE_THROWS_WITH(read_png_folder<float>(empty.path.string()), Catch::Contains("no .png"));
}

TEST_CASE("read_png_folder reads RGB PNGs as NCHW rows, or as the files' own channels",
          "[image_folder]") {
  test::TempDir dir("png-folder-rgb");
  // Two 2x3 RGB images, channel planes of distinct values: value (c, y, x) = 10 c + 3 y + x + i.
  Tensor<float> rgb(2, 3 * 2 * 3);
  for (Index i = 0; i < 2; ++i)
    for (Index j = 0; j < rgb.cols(); ++j)
      rgb(i, j) = static_cast<float>(10 * (j / 6) + j % 6 + i) / 255.0f;
  write_png(dir / "0.png", make_grid<float>(rgb.topRows(1), 3, 2, 3, 1, PixelScale::unit, 0));
  write_png(dir / "1.png", make_grid<float>(rgb.bottomRows(1), 3, 2, 3, 1, PixelScale::unit, 0));
  for (int channels : {3, 0}) {
    const Dataset<float> d = read_png_folder<float>(dir.path.string(), PixelScale::unit, channels);
    CHECK(d.channels == 3);
    CHECK(d.height == 2);
    CHECK(d.width == 3);
    REQUIRE(d.features() == 18);
    CHECK(d.images.isApprox(rgb, 1e-6f));
  }
  const Dataset<float> grey = read_png_folder<float>(dir.path.string());
  CHECK(grey.channels == 1);
  CHECK(grey.features() == 6);
  REQUIRE_THROWS_WITH(read_png_folder<float>(dir.path.string(), PixelScale::unit, 2),
                      Catch::Contains("2 channels"));
  test::TempDir grey_dir("png-folder-grey");
  write_png(grey_dir / "0.png", make_grid<float>(grey.images.topRows(1), 1, 2, 3, 1));
  CHECK(read_png_folder<float>(grey_dir.path.string(), PixelScale::unit, 0).channels == 1);
}

TEST_CASE("read_png_folder composites alpha onto white, as the image-folder reader does",
          "[image_folder]") {
  test::TempDir dir("png-folder-alpha");
  Image rgba;  // 2x1: an opaque (10, 20, 30) and a half-transparent (200, 100, 0, 128)
  rgba.width = 2;
  rgba.height = 1;
  rgba.channels = 4;
  rgba.pixels = {10, 20, 30, 255, 200, 100, 0, 128};
  write_png(dir / "0.png", rgba);
  const Dataset<float> d = read_png_folder<float>(dir.path.string(), PixelScale::unit, 3);
  REQUIRE(d.features() == 6);
  auto byte = [&](Index j) { return static_cast<int>(std::lround(d.images(0, j) * 255.0f)); };
  // NCHW: R of both pixels, then G, then B; a * v + (1 - a) * 255, rounded
  CHECK(byte(0) == 10);
  CHECK(byte(1) == (200 * 128 + 255 * 127 + 127) / 255);
  CHECK(byte(2) == 20);
  CHECK(byte(3) == (100 * 128 + 255 * 127 + 127) / 255);
  CHECK(byte(4) == 30);
  CHECK(byte(5) == (0 * 128 + 255 * 127 + 127) / 255);
  rgba.pixels[7] = 0;  // fully transparent: white, whatever its colour
  write_png(dir / "0.png", rgba);
  const Dataset<float> w = read_png_folder<float>(dir.path.string(), PixelScale::symmetric, 3);
  for (Index j : {1, 3, 5}) CHECK(w.images(0, j) == Approx(1.0f));
  CHECK(read_png_folder<float>(dir.path.string(), PixelScale::unit, 1).images(0, 1) ==
        Approx(1.0f));
}

TEST_CASE("read_png, read_png_folder and the image-folder reader make the same grey",
          "[image_folder]") {
  test::TempDir dir("png-folder-luma");
  Image rgba;  // 4x1: pure red, green, blue (opaque), and a half-transparent orange
  rgba.width = 4;
  rgba.height = 1;
  rgba.channels = 4;
  rgba.pixels = {255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 250, 120, 10, 128};
  write_png(dir / "0.png", rgba);
  // BT.601 luma, (299 R + 587 G + 114 B) / 1000 rounded (PIL's convert("L")).
  CHECK(luma(255, 0, 0) == 76);
  CHECK(luma(0, 255, 0) == 150);
  CHECK(luma(0, 0, 255) == 29);
  CHECK(luma(255, 255, 255) == 255);
  const Image grey = read_png(dir / "0.png", 2);
  REQUIRE(grey.pixels.size() == 8);
  CHECK(grey.pixels[0] == 76);
  CHECK(grey.pixels[2] == 150);
  CHECK(grey.pixels[4] == 29);
  CHECK(grey.pixels[6] == luma(250, 120, 10));
  CHECK(grey.pixels[7] == 128);
  // The folder readers composite onto white after the conversion, both the same way.
  const Dataset<float> d = read_png_folder<float>(dir.path.string(), PixelScale::unit, 1);
  ImageFolderOptions o;
  o.channels = 1;
  o.image_size = 1;
  for (int i = 0; i < 4; ++i) {
    DecodedImage one;
    one.width = one.height = 1;
    one.channels = 4;
    one.pixels.assign(rgba.pixels.begin() + 4 * i, rgba.pixels.begin() + 4 * i + 4);
    std::uint8_t v = 0;
    prepare_image(one, o, &v, "pixel");
    CHECK(static_cast<int>(std::lround(d.images(0, i) * 255.0f)) == v);
    CHECK(v == alpha_over(grey.pixels[static_cast<std::size_t>(2 * i)],
                          grey.pixels[static_cast<std::size_t>(2 * i + 1)], 255));
  }
  CHECK(static_cast<int>(std::lround(d.images(0, 3) * 255.0f)) != luma(250, 120, 10));
}
