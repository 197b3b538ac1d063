#include <aigc/aigc.hpp>
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

TEST_CASE("aigc.hpp includes every public header but export/'s", "[umbrella]") {
  namespace fs = std::filesystem;
  const fs::path include = fs::path(AIGC_TEST_DATA_DIR) / ".." / ".." / "include";
  std::ifstream in(include / "aigc" / "aigc.hpp");
  REQUIRE(in);
  std::stringstream umbrella;
  umbrella << in.rdbuf();
  std::vector<std::string> missing;
  std::size_t headers = 0;
  for (const auto& entry : fs::recursive_directory_iterator(include / "aigc")) {
    if (!entry.is_regular_file() || entry.path().extension() != ".hpp") continue;
    const std::string name = fs::relative(entry.path(), include).generic_string();
    // export/'s headers need a target of their own (aigc::onnx), which aigc::aigc does not link.
    if (name == "aigc/aigc.hpp" || name.rfind("aigc/export/", 0) == 0) continue;
    ++headers;
    if (umbrella.str().find("#include \"" + name + "\"") == std::string::npos)
      missing.push_back(name);
  }
  std::sort(missing.begin(), missing.end());
  INFO("headers aigc/aigc.hpp does not include: " << Catch::Detail::stringify(missing));
  CHECK(headers > 50);
  CHECK(missing.empty());
}
