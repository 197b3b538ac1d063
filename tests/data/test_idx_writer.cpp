#include <aigc/data/dataset.hpp>
#include <aigc/data/idx_writer.hpp>
#include <catch2/catch.hpp>
#include <filesystem>

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

TEST_CASE("Colour images go to an n x C x H x W IDX file and read back as NCHW rows",
          "[idx_writer]") {
  test::TempDir dir("idx-writer-colour");
  Tensor<float> imgs(2, 3 * 2 * 4);  // 2 images of 3x2x4
  for (Index i = 0; i < imgs.size(); ++i) imgs.data()[i] = static_cast<float>(i) / 47.0f;
  const std::string path = dir / "c.idx.gz";
  write_idx_images(path, imgs, 3, 2, 4);
  CHECK(read_idx_dims(path) == std::vector<Index>{2, 3, 2, 4});
  const Dataset<float> back = read_idx_images<float>(path);
  CHECK(back.channels == 3);
  CHECK(back.height == 2);
  CHECK(back.width == 4);
  REQUIRE(back.features() == 24);
  CHECK((back.images - imgs).cwiseAbs().maxCoeff() <= 0.5f / 255.0f + 1e-6f);
  // One channel stays a 3-dimensional file, byte for byte the grey writer's.
  write_idx_images(dir / "g1.idx", imgs, 1, 4, 6);
  write_idx_images(dir / "g2.idx", imgs, 4, 6);
  CHECK(read_idx_dims(dir / "g1.idx").size() == 3);
  CHECK(test::read_file(dir / "g1.idx") == test::read_file(dir / "g2.idx"));
  REQUIRE_THROWS_WITH(write_idx_images(dir / "bad.idx", imgs, 3, 2, 2),
                      Catch::Contains("3x2x2") && Catch::Contains("bad.idx"));
}

TEST_CASE("IdxImageWriter: batch by batch, the same bytes as one write; short or long is refused",
          "[idx_writer]") {
  test::TempDir dir("idx-writer-stream");
  Tensor<float> imgs(7, 3 * 2 * 4);
  for (Index i = 0; i < imgs.size(); ++i) imgs.data()[i] = static_cast<float>(i % 29) / 14.0f - 1;
  for (const char* name : {"s.idx", "s.idx.gz"}) {
    const std::string whole = dir / (std::string("whole-") + name);
    const std::string parts = dir / (std::string("parts-") + name);
    write_idx_images(whole, imgs, 3, 2, 4, PixelScale::symmetric);
    IdxImageWriter out(parts, 7, 3, 2, 4, PixelScale::symmetric);
    out.write(Tensor<float>(imgs.topRows(3)));
    CHECK_FALSE(std::filesystem::exists(parts));  // not under its name before close()
    out.write(Tensor<float>(imgs.middleRows(3, 1)));
    out.write(Tensor<float>(imgs.bottomRows(3)));
    CHECK(out.written() == 7);
    out.close();
    CHECK(read_idx(parts).values == read_idx(whole).values);
    CHECK(read_idx_dims(parts) == std::vector<Index>{7, 3, 2, 4});
  }
  {  // fewer rows than announced: close() throws, and nothing is left behind
    const std::string path = dir / "short.idx.gz";
    IdxImageWriter out(path, 7, 3, 2, 4);
    out.write(Tensor<float>(imgs.topRows(5)));
    REQUIRE_THROWS_WITH(out.close(), Catch::Contains("5 images written of the 7"));
  }
  {  // more rows than announced, or rows of another size
    IdxImageWriter out(dir / "long.idx", 4, 3, 2, 4);
    REQUIRE_THROWS_WITH(out.write(imgs), Catch::Contains("long.idx"));
    REQUIRE_THROWS_AS(out.write(Tensor<float>(2, 5)), ShapeError);
  }  // destroyed without close(): no file
  CHECK_FALSE(std::filesystem::exists(dir / "short.idx.gz"));
  CHECK_FALSE(std::filesystem::exists(dir / "short.idx.gz.tmp"));
  CHECK_FALSE(std::filesystem::exists(dir / "long.idx"));
  CHECK_FALSE(std::filesystem::exists(dir / "long.idx.tmp"));
  REQUIRE_THROWS_AS(IdxImageWriter(dir / "zero.idx", 0, 1, 2, 2), ShapeError);
  REQUIRE_THROWS_WITH(IdxImageWriter(dir / "no/such/x.idx", 2, 1, 2, 2),
                      Catch::Contains("no/such"));
}
