#include <aigc/core/config.hpp>
#include <catch2/catch.hpp>
#include <cmath>

using namespace aigc;

TEST_CASE("Config values read back with their types and ranges checked", "[config]") {
  Config c;
  c.where = "m.aigc: layer 'fc' (Dense)";
  c.set_int("in", 784);
  c.set_bool("bias", true);
  c.set_double("slope", 0.2);
  c.set_string("activation", "relu");
  c.set_strings("names", {"a", "", "b c"});
  c.set_ints("shape", {1, 28, 28});
  CHECK(c.get_int("in", 1, 1000) == 784);
  CHECK(c.get_bool("bias"));
  CHECK(c.get_double("slope", 0, 1) == 0.2);
  CHECK(c.get_string("activation") == "relu");
  CHECK(c.get_strings("names") == std::vector<std::string>{"a", "", "b c"});
  CHECK(c.get_ints("shape", 1, 28) == std::vector<std::int64_t>{1, 28, 28});
  CHECK_NOTHROW(c.check_all_read());

  CHECK_THROWS_WITH(c.get_int("in", 1, 100),
                    "m.aigc: layer 'fc' (Dense): option 'in' = 784 is out of range [1, 100]");
  CHECK_THROWS_WITH(c.get_int("missing", 0, 1), Catch::Contains("option 'missing' is missing"));
  CHECK_THROWS_WITH(c.get_double("in", 0, 1), Catch::Contains("option 'in' should hold a real"));
  CHECK_THROWS_WITH(c.get_int("shape", 0, 100), Catch::Contains("holds 3 values"));
  CHECK_THROWS_WITH(c.get_string("names"), Catch::Contains("a list of texts, not one text"));
  CHECK_THROWS_WITH(c.get_strings("activation"), Catch::Contains("one text, not a list"));
  c.set_double("nan", std::nan(""));
  CHECK_THROWS_WITH(c.get_double("nan", -1, 1), Catch::Contains("out of range"));
  c.set_int("extra", 1);
  CHECK_THROWS_WITH(c.check_all_read(), Catch::Contains("unknown option 'extra'"));
  CHECK_THROWS_AS(c.set_string("bad", std::string("a\0b", 3)), ArgumentError);
  CHECK_THROWS_AS(c.set_int("a/b", 1), ArgumentError);
  c.max_elements = 100;
  CHECK_NOTHROW(c.check_elements(100, "the weight"));
  CHECK_THROWS_WITH(c.check_elements(Config::product(1ull << 40, 1ull << 40), "the weight"),
                    Catch::Contains("the weight would hold"));
}
