#include <aigc/io/csv_log.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <sstream>

#include "support/idx_files.hpp"

using namespace aigc;

TEST_CASE("CsvLog writes a header and rows that read back exactly", "[csv]") {
  test::TempDir dir("csv");
  const std::string path = dir / "log.csv";
  {
    CsvLog log(path, {"epoch", "step", "loss"});
    log.row({1, 469, 0.1});
    log.row({2, 938, 1.0 / 3.0});
    log.row({3, 1407, NAN});
    REQUIRE_THROWS_WITH(log.row({1, 2}), Catch::Contains(path));
  }
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  CHECK(line == "epoch,step,loss");
  std::getline(in, line);
  CHECK(line == "1,469,0.1");
  std::getline(in, line);
  CHECK(line.rfind("2,938,", 0) == 0);
  CHECK(std::stod(line.substr(6)) == 1.0 / 3.0);
  std::getline(in, line);
  CHECK(line == "3,1407,nan");
  CHECK(!std::getline(in, line));
}

TEST_CASE("CsvLog names bad paths and bad columns", "[csv]") {
  test::TempDir dir("csv-bad");
  const std::string bad = dir / "missing/log.csv";
  REQUIRE_THROWS_WITH(CsvLog(bad, {"a"}), Catch::Contains(bad));
  REQUIRE_THROWS_WITH(CsvLog(dir / "x.csv", {"a,b"}), Catch::Contains("a,b"));
}
