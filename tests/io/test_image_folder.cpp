#include <aigc/io/image_folder.hpp>
#include <aigc/io/png.hpp>
#include <catch2/catch.hpp>

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
