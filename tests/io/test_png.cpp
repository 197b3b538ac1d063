#include <aigc/io/png.hpp>
#include <catch2/catch.hpp>

#include "support/idx_files.hpp"

using namespace aigc;

TEST_CASE("PNG grid has the right size and pixels", "[png]") {
  Tensor<float> imgs(5, 6);  // five 2x3 images
  for (Index i = 0; i < 5; ++i) imgs.row(i).setConstant(static_cast<float>(i) / 4.0f);
  const Image g = make_grid(imgs, 1, 2, 3, 4, PixelScale::unit, 1);
  CHECK(g.width == 4 * 4 + 1);
  CHECK(g.height == 2 * 3 + 1);
  CHECK(g.pixels[static_cast<std::size_t>(1 * g.width + 1)] == 0);    // image 0, black
  CHECK(g.pixels[static_cast<std::size_t>(4 * g.width + 1)] == 255);  // image 4, white
  const Image s =
      make_grid<float>(Tensor<float>::Constant(1, 6, -1.0f), 1, 2, 3, 1, PixelScale::symmetric);
  CHECK(s.pixels[static_cast<std::size_t>(2 * s.width + 2)] == 0);
  REQUIRE_THROWS_AS(make_grid(imgs, 1, 2, 2, 4), ShapeError);
}

TEST_CASE("write_png writes a PNG file and reports unwritable paths", "[png]") {
  test::TempDir dir("png");
  Tensor<float> imgs = Tensor<float>::Constant(4, 16, 0.5f);
  const std::string path = dir / "grid.png";
  write_png_grid(path, imgs, 1, 4, 4, 2);
  const auto bytes = test::read_file(path);
  REQUIRE(bytes.size() > 8);
  CHECK(bytes[1] == 'P');
  CHECK(bytes[2] == 'N');
  CHECK(bytes[3] == 'G');
  const std::string bad = dir / "no/such/folder/grid.png";
  REQUIRE_THROWS_WITH(write_png_grid(bad, imgs, 1, 4, 4, 2), Catch::Contains(bad));
}
