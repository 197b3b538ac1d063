#include <aigc/data/dataset.hpp>
#include <aigc/io/idx_writer.hpp>
#include <aigc/io/image_folder.hpp>
#include <catch2/catch.hpp>

#include "support/idx_files.hpp"

using namespace aigc;

TEST_CASE("write_idx_images / write_idx_labels read back through the IDX reader", "[idx_writer]") {
  test::TempDir dir("idx-writer");
  Tensor<float> imgs(3, 6);
  for (Index i = 0; i < imgs.size(); ++i) imgs.data()[i] = static_cast<float>(i) / 17.0f;
  for (const char* name : {"x.idx", "x.idx.gz"}) {
    const std::string path = dir / name;
    write_idx_images(path, imgs, 2, 3);
    const Dataset<float> back = read_idx_images<float>(path);
    REQUIRE(back.size() == 3);
    CHECK(back.height == 2);
    CHECK(back.width == 3);
    CHECK(back.images.isApprox(imgs, 1.0f / 255.0f));
    CHECK((back.images - imgs).cwiseAbs().maxCoeff() <= 0.5f / 255.0f + 1e-6f);
  }
  // [-1, 1] images are mapped to bytes 0..255; values outside are clamped.
  Tensor<float> sym(1, 4);
  sym << -1.0f, 0.0f, 1.0f, 3.0f;
  write_idx_images(dir / "s.idx", sym, 2, 2, PixelScale::symmetric);
  const IdxArray a = read_idx(dir / "s.idx");
  CHECK(a.values == std::vector<std::uint8_t>{0, 128, 255, 255});
  write_idx_labels(dir / "l.idx.gz", {3, 0, 9});
  CHECK(read_idx_labels(dir / "l.idx.gz") == std::vector<int>{3, 0, 9});
  REQUIRE_THROWS_AS(write_idx_images(dir / "bad.idx", imgs, 2, 2), ShapeError);
  REQUIRE_THROWS_WITH(write_idx_images(dir / "no/such/x.idx", imgs, 2, 3),
                      Catch::Contains("no/such"));
  REQUIRE_THROWS_WITH(write_idx_labels(dir / "l.idx", {256}), Catch::Contains("256"));
}

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
