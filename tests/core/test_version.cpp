// Tests of aigc/version.hpp: the macros agree with project(VERSION) in CMakeLists.txt.
#include <aigc/version.hpp>
#include <catch2/catch.hpp>
#include <string>

TEST_CASE("version macros match the CMake project's version", "[version]") {
  const std::string parts = std::to_string(AIGC_VERSION_MAJOR) + "." +
                            std::to_string(AIGC_VERSION_MINOR) + "." +
                            std::to_string(AIGC_VERSION_PATCH);
  CHECK(std::string(AIGC_VERSION_STRING) == AIGC_PROJECT_VERSION);
  CHECK(parts == AIGC_PROJECT_VERSION);
}
