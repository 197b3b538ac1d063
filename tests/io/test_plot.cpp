#include <aigc/io/plot.hpp>
#include <catch2/catch.hpp>
#include <cmath>

#include "support/idx_files.hpp"

using namespace aigc;

namespace {
bool has_colour(const Image& img, int x0, int y0, int x1, int y1, detail::Rgb c) {
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) {
      const unsigned char* p = &img.pixels[(static_cast<std::size_t>(y) * img.width + x) * 3];
      if (p[0] == c.r && p[1] == c.g && p[2] == c.b) return true;
    }
  }
  return false;
}
}  // namespace

TEST_CASE("nice_ticks steps by 1, 2 or 5 times a power of ten", "[plot]") {
  CHECK(detail::nice_ticks(0, 10) == std::vector<double>{0, 2, 4, 6, 8, 10});
  const auto t = detail::nice_ticks(97.3, 131.2);
  REQUIRE(t.size() >= 3);
  CHECK(t.front() == Approx(100));
  CHECK(t[1] - t[0] == Approx(10));  // range 33.9 over ~6 ticks: 5.65 rounds up to 10
  CHECK(detail::tick_label(0.25) == "0.25");
  CHECK(detail::tick_label(125000) == "1.25e+05");
}

TEST_CASE("plot_lines draws each series in its own colour where its points are", "[plot]") {
  PlotSeries rising{"rising", {}, {}}, falling{"falling", {}, {}};
  for (int i = 0; i <= 100; ++i) {
    rising.x.push_back(i);
    rising.y.push_back(i);
    falling.x.push_back(i);
    falling.y.push_back(100 - i);
  }
  PlotOptions o;
  o.title = "test";
  const Image img = plot_lines({rising, falling}, o);
  REQUIRE(img.width == o.width);
  REQUIRE(img.height == o.height);
  REQUIRE(img.channels == 3);
  const auto blue = detail::plot_colour(0), orange = detail::plot_colour(1);
  CHECK(!(blue.r == orange.r && blue.g == orange.g));
  // Plot area: x in [100, width-24], y in [52, height-64]; rising starts bottom left and ends top
  // right, falling the other way round; the legend covers the top right corner.
  const int l = 100, r = o.width - 24, t = 52, b = o.height - 64;
  CHECK(has_colour(img, l, b - 40, l + 20, b, blue));
  CHECK(!has_colour(img, l, b - 40, l + 20, b, orange));
  CHECK(has_colour(img, l, t, l + 20, t + 40, orange));
  CHECK(has_colour(img, r - 20, b - 40, r, b, orange));
  CHECK(!has_colour(img, r - 20, b - 40, r, b, blue));
  // Tick numbers (dark grey) left of the y axis and below the x axis.
  CHECK(has_colour(img, 0, t, l - 8, b, {90, 90, 90}));
  CHECK(has_colour(img, l, b + 8, r, o.height - 1, {90, 90, 90}));
  // Nothing drawn in a series colour outside the plot area except the legend's keys.
  CHECK(!has_colour(img, 0, 0, l - 1, o.height - 1, blue));
}

TEST_CASE("plot_lines skips non-finite values and rejects mismatched series", "[plot]") {
  PlotSeries s{"s", {0, 1, 2, 3}, {1, NAN, INFINITY, 2}};
  const Image img = plot_lines({s}, {.title = "", .log_y = true});
  CHECK(img.width == 900);
  REQUIRE_THROWS_WITH(plot_lines({PlotSeries{"bad", {0, 1}, {1}}}), Catch::Contains("bad"));
  test::TempDir dir("plot");
  write_plot_png(dir / "plot.png", {s});
  CHECK(read_png(dir / "plot.png").width == 900);
}

TEST_CASE("a digit drawn alone has every segment it has inside a longer label", "[plot]") {
  // Count the dark pixels of one glyph, alone and as the first of "d000000000".
  auto dark = [](const std::string& s, int width) {
    detail::Canvas canvas(detail::Canvas::text_width(s), detail::Canvas::text_height());
    canvas.text(0, 0, s, {0, 0, 0});
    const Image& img = canvas.image();
    int n = 0;
    for (int y = 0; y < img.height; ++y) {
      for (int x = 0; x < std::min(width, img.width); ++x) {
        n += img.pixels[(static_cast<std::size_t>(y) * img.width + x) * 3] == 0;
      }
    }
    return n;
  };
  for (char d : std::string("0123456789")) {
    const std::string alone(1, d);
    INFO("digit " << d);
    const int w = detail::Canvas::text_width(alone);
    CHECK(dark(alone, w) > 0);
    CHECK(dark(alone, w) == dark(alone + "000000000", w));
  }
}
