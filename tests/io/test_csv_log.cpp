#include <aigc/io/csv_log.hpp>
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
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

TEST_CASE("A resumed CsvLog drops the rows past its resume point and appends", "[csv][resume]") {
  test::TempDir dir("csv-resume");
  const std::string straight = dir / "straight.csv", cut = dir / "cut.csv";
  {
    CsvLog log(straight, {"epoch", "step", "loss"});
    for (int step = 1; step <= 6; ++step)
      log.row({double((step + 2) / 3), double(step), 1.0 / step});
  }
  {
    // Killed after logging step 5, its checkpoint at step 3, a half-written row at the end.
    CsvLog log(cut, {"epoch", "step", "loss"});
    for (int step = 1; step <= 5; ++step)
      log.row({double((step + 2) / 3), double(step), 1.0 / step});
  }
  std::ofstream(cut, std::ios::app) << "2,6,0.16";
  {
    CsvLog log(cut, {"epoch", "step", "loss"}, CsvKeep{"step", 3});
    for (int step = 4; step <= 6; ++step)
      log.row({double((step + 2) / 3), double(step), 1.0 / step});
  }
  const std::string resumed = test::read_text(cut);
  CHECK(resumed == test::read_text(straight));
  CHECK(std::count(resumed.begin(), resumed.end(), '\n') == 7);

  // Kept by another column; a missing file is started; no temporary is left.
  { CsvLog log(cut, {"epoch", "step", "loss"}, CsvKeep{"epoch", 1}); }
  CHECK(test::read_text(cut) == "epoch,step,loss\n1,1,1\n1,2,0.5\n1,3,0.3333333333333333\n");
  { CsvLog log(dir / "new.csv", {"a", "b"}, CsvKeep{"a", 10}); }
  CHECK(test::read_text(dir / "new.csv") == "a,b\n");
  CHECK_FALSE(std::filesystem::exists(cut + ".tmp"));
  // Without a keep, the file is started anew.
  { CsvLog log(cut, {"epoch", "step", "loss"}); }
  CHECK(test::read_text(cut) == "epoch,step,loss\n");
}

TEST_CASE("A resumed CsvLog refuses another log's file and an unknown column", "[csv][resume]") {
  test::TempDir dir("csv-resume-bad");
  const std::string path = dir / "log.csv";
  { CsvLog log(path, {"epoch", "step", "d_loss"}); }
  REQUIRE_THROWS_WITH(CsvLog(path, {"epoch", "step", "loss"}, CsvKeep{"step", 3}),
                      Catch::Contains(path) && Catch::Contains("epoch,step,d_loss") &&
                          Catch::Contains("epoch,step,loss"));
  REQUIRE_THROWS_WITH(CsvLog(path, {"epoch", "step", "d_loss"}, CsvKeep{"batch", 3}),
                      Catch::Contains(path) && Catch::Contains("'batch'"));
  CHECK(test::read_text(path) == "epoch,step,d_loss\n");
}
