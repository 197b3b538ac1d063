#include <aigc/aigc.hpp>
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool includes(const std::string& text, const std::string& name) {
  return text.find("#include \"" + name + "\"") != std::string::npos;
}

}  // namespace

TEST_CASE(
    "each room header includes every header of its room; aigc.hpp every room but export and "
    "distributed",
    "[umbrella]") {
  namespace fs = std::filesystem;
  const fs::path include = fs::path(AIGC_TEST_DATA_DIR) / ".." / ".." / "include";
  const std::string umbrella = read_text(include / "aigc" / "aigc.hpp");
  std::map<std::string, std::string> rooms;  // room -> its header's text
  std::vector<std::string> missing;
  std::size_t headers = 0;
  for (const auto& entry : fs::recursive_directory_iterator(include / "aigc")) {
    if (!entry.is_regular_file() || entry.path().extension() != ".hpp") continue;
    const fs::path relative = fs::relative(entry.path(), include / "aigc");
    if (relative.parent_path().empty()) continue;  // aigc.hpp and the room headers themselves
    const std::string room = relative.begin()->string();
    if (!rooms.count(room)) {
      const fs::path room_header = include / "aigc" / (room + ".hpp");
      if (!fs::is_regular_file(room_header)) {
        missing.push_back("aigc/" + room + ".hpp (no room header)");
        rooms[room] = "";
      } else {
        rooms[room] = read_text(room_header);
        // export/ and distributed/ need a dependency of their own (aigc::onnx, aigc::mpi): their
        // room headers stay out of aigc.hpp.
        if (room != "export" && room != "distributed" &&
            !includes(umbrella, "aigc/" + room + ".hpp"))
          missing.push_back("aigc/" + room + ".hpp (not in aigc.hpp)");
      }
    }
    ++headers;
    const std::string name = "aigc/" + relative.generic_string();
    if (!includes(rooms[room], name)) missing.push_back(name);
  }
  std::sort(missing.begin(), missing.end());
  INFO("headers not included: " << Catch::Detail::stringify(missing));
  CHECK(headers > 50);
  CHECK(rooms.size() >= 10);
  CHECK(missing.empty());
}
