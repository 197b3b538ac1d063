#include <aigc/io/progress.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

using namespace aigc;

namespace {
std::string contents(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  for (int c; (c = std::fgetc(f)) != EOF;) s += static_cast<char>(c);
  return s;
}
}  // namespace

TEST_CASE("Progress in plain mode writes whole lines with counts and running means", "[progress]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  {
    Progress p("epoch 1", 4, {.mode = ProgressOptions::Mode::plain, .interval = 0.0}, f);
    p.update(10, {{"loss", 1.0}, {"kl", 4.0}});
    p.update(10, {{"loss", 3.0}, {"kl", 2.0}});
    CHECK(p.mean(0) == 2.0);
    CHECK(p.mean(1) == 3.0);
    p.update(10, {{"loss", 5.0}, {"kl", 0.0}});
    p.update(5, {{"loss", 7.0}, {"kl", 2.0}});
    REQUIRE_THROWS_AS(p.update(5, {{"loss", 1.0}}), ArgumentError);
  }
  const std::string s = contents(f);
  std::fclose(f);
  CHECK(s.find('\r') == std::string::npos);
  CHECK(s.find("epoch 1  1/4") != std::string::npos);
  CHECK(s.find("loss 1  kl 4\n") != std::string::npos);
  CHECK(s.find("epoch 1  2/4") != std::string::npos);
  CHECK(s.find("loss 2  kl 3\n") != std::string::npos);
  CHECK(s.find("epoch 1  4/4") != std::string::npos);
  CHECK(s.find("took") != std::string::npos);
  CHECK(s.find("loss 4  kl 2\n") != std::string::npos);
}

TEST_CASE("Progress in plain mode only prints every interval, and the last batch", "[progress]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  {
    Progress p("train", 100, {.mode = ProgressOptions::Mode::plain, .interval = 3600.0}, f);
    for (int i = 0; i < 100; ++i) p.update(1, {{"loss", 1.0}});
  }
  const std::string s = contents(f);
  std::fclose(f);
  CHECK(std::count(s.begin(), s.end(), '\n') == 1);
  CHECK(s.find("train  100/100") == 0);
}

TEST_CASE("Progress on a terminal redraws one line with carriage returns", "[progress]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f);
  {
    Progress p("epoch 2", 3, {.mode = ProgressOptions::Mode::terminal, .interval = 0.0}, f);
    p.update(4, {{"g", 0.5}});
    p.update(4, {{"g", 1.5}});
  }  // unfinished: the destructor ends the line
  const std::string s = contents(f);
  std::fclose(f);
  CHECK(std::count(s.begin(), s.end(), '\r') == 3);
  CHECK(std::count(s.begin(), s.end(), '\n') == 1);
  CHECK(s.back() == '\n');
  CHECK(s.find("epoch 2  2/3") != std::string::npos);
  CHECK(s.find("ETA") != std::string::npos);
  REQUIRE_THROWS_AS(Progress("x", -1), ArgumentError);
}

TEST_CASE("Progress of no batches (an epoch resumed at its end) shows nothing", "[progress]") {
  std::FILE* f = std::tmpfile();
  {
    Progress p("epoch 3", 0, {.mode = ProgressOptions::Mode::terminal, .interval = 0.0}, f);
    p.finish();
    CHECK(p.seconds() >= 0.0);
  }
  CHECK(contents(f).empty());
  std::fclose(f);
}
