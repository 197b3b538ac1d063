#include <aigc/data/dataset.hpp>
#include <aigc/metrics/classifier.hpp>
#include <aigc/metrics/frechet.hpp>
#include <catch2/catch.hpp>
#include <filesystem>

#include "support/idx_files.hpp"

using namespace aigc;

TEST_CASE("Weights files round-trip and reject corruption, wrong names and wrong shapes",
          "[classifier]") {
  test::TempDir dir("weights");
  const std::string path = dir / "w.bin";
  Rng rng(1);
  Dense<float> a(3, 2, rng), b(3, 2, rng), c(4, 2, rng);
  a.set_name("fc");
  b.set_name("fc");
  c.set_name("fc");
  save_weights(path, a.params());
  load_weights(path, b.params());
  CHECK(b.weight().value == a.weight().value);
  CHECK(b.bias().value == a.bias().value);
  REQUIRE_THROWS_WITH(load_weights(path, c.params()),
                      Catch::Contains("fc.weight") && Catch::Contains(path));
  Dense<float> other(3, 2, rng);
  other.set_name("other");
  REQUIRE_THROWS_WITH(load_weights(path, other.params()), Catch::Contains("'fc.weight'"));

  auto bytes = test::read_file(path);
  bytes[bytes.size() / 2] ^= 0x10;
  test::write_file(path, bytes, false);
  REQUIRE_THROWS_WITH(load_weights(path, b.params()),
                      Catch::Contains("CRC") && Catch::Contains(path));
  bytes.resize(10);
  test::write_file(path, bytes, false);
  REQUIRE_THROWS_WITH(load_weights(path, b.params()), Catch::Contains(path));
  REQUIRE_THROWS_WITH(load_weights(dir / "none.bin", b.params()), Catch::Contains("none.bin"));
}
