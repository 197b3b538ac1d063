/// @file
/// aigc: line plots (loss curves) drawn to an RGB image: axes, ticks with numbers, a legend.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wconversion"
#endif
#include <stb/stb_easy_font.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include "aigc/core/error.hpp"
#include "aigc/io/png.hpp"

namespace aigc {

/// One curve: points (x[i], y[i]); non-finite y values leave a gap.
struct PlotSeries {
  std::string name;       ///< the legend's text
  std::vector<double> x;  ///< abscissae
  std::vector<double> y;  ///< ordinates, as many as x
};

/// Size, titles and axes of a plot.
struct PlotOptions {
  std::string title;              ///< above the plot; "" for none
  std::string x_label = "epoch";  ///< below the x axis
  std::string y_label = "loss";   ///< beside the y axis
  int width = 900;                ///< image width in pixels
  int height = 560;               ///< image height in pixels
  bool log_y = false;             ///< logarithmic y axis (values <= 0 are left out)
};

namespace detail {

struct Rgb {
  unsigned char r, g, b;
};

/// The ten colours of matplotlib's "tab10" cycle.
inline Rgb plot_colour(std::size_t i) {
  static const Rgb palette[] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                {188, 189, 34},  {23, 190, 207}};
  return palette[i % 10];
}

class Canvas {
 public:
  Canvas(int width, int height) {
    img_.width = width;
    img_.height = height;
    img_.channels = 3;
    img_.pixels.assign(static_cast<std::size_t>(width) * height * 3, 255);
  }

  void set(int x, int y, Rgb c) {
    if (x < clip_x0_ || y < clip_y0_ || x > clip_x1_ || y > clip_y1_) return;
    if (x < 0 || y < 0 || x >= img_.width || y >= img_.height) return;
    unsigned char* p = &img_.pixels[(static_cast<std::size_t>(y) * img_.width + x) * 3];
    p[0] = c.r;
    p[1] = c.g;
    p[2] = c.b;
  }

  void fill(int x0, int y0, int x1, int y1, Rgb c) {  // inclusive corners
    for (int y = std::min(y0, y1); y <= std::max(y0, y1); ++y) {
      for (int x = std::min(x0, x1); x <= std::max(x0, x1); ++x) set(x, y, c);
    }
  }

  /// A line of the given thickness (Bresenham, a square brush).
  void line(int x0, int y0, int x1, int y1, Rgb c, int thickness = 1) {
    const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    const int lo = -(thickness - 1) / 2, hi = thickness / 2;
    int err = dx + dy;
    for (;;) {
      fill(x0 + lo, y0 + lo, x0 + hi, y0 + hi, c);
      if (x0 == x1 && y0 == y1) break;
      const int e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }

  /// Text in stb_easy_font's bitmap font, `scale` pixels per font pixel; (x, y) is the top left.
  void text(int x, int y, const std::string& s, Rgb c, int scale = 2) {
    std::string copy = s;
    // 64 bytes per quad and up to 16 quads per glyph ('8' takes 7; 300 bytes per character, the
    // average stb_easy_font quotes, cut the segments of lone digits such as "8" or "0").
    std::vector<char> quads(copy.size() * 64 * 16 + 64);
    const int n = stb_easy_font_print(0, 0, copy.data(), nullptr, quads.data(),
                                      static_cast<int>(quads.size()));
    for (int q = 0; q < n; ++q) {
      const float* v0 = reinterpret_cast<const float*>(&quads[static_cast<std::size_t>(q) * 64]);
      const float* v2 =
          reinterpret_cast<const float*>(&quads[static_cast<std::size_t>(q) * 64 + 32]);
      const int qx0 = x + static_cast<int>(std::lround(v0[0] * scale));
      const int qy0 = y + static_cast<int>(std::lround(v0[1] * scale));
      const int qx1 = x + static_cast<int>(std::lround(v2[0] * scale)) - 1;
      const int qy1 = y + static_cast<int>(std::lround(v2[1] * scale)) - 1;
      fill(qx0, qy0, qx1, qy1, c);
    }
  }

  /// Text turned by 90 degrees counter-clockwise (for the y-axis label); (x, y) is the bottom left.
  void text_vertical(int x, int y, const std::string& s, Rgb c, int scale = 2) {
    Canvas tmp(text_width(s, scale), text_height(scale));
    tmp.text(0, 0, s, {0, 0, 0}, scale);
    for (int ty = 0; ty < tmp.img_.height; ++ty) {
      for (int tx = 0; tx < tmp.img_.width; ++tx) {
        if (tmp.img_.pixels[(static_cast<std::size_t>(ty) * tmp.img_.width + tx) * 3] == 0) {
          set(x + ty, y - tx, c);
        }
      }
    }
  }

  static int text_width(const std::string& s, int scale = 2) {
    std::string copy = s;
    return stb_easy_font_width(copy.data()) * scale;
  }
  static int text_height(int scale = 2) { return 10 * scale; }

  void clip(int x0, int y0, int x1, int y1) {
    clip_x0_ = x0;
    clip_y0_ = y0;
    clip_x1_ = x1;
    clip_y1_ = y1;
  }
  void unclip() { clip(0, 0, img_.width - 1, img_.height - 1); }

  Image& image() { return img_; }

 private:
  Image img_;
  int clip_x0_ = 0, clip_y0_ = 0, clip_x1_ = 1 << 30, clip_y1_ = 1 << 30;
};

/// Tick positions at 1, 2 or 5 times a power of ten, about `target` of them over [lo, hi].
inline std::vector<double> nice_ticks(double lo, double hi, int target = 6) {
  const double raw = (hi - lo) / target;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  double step = p;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * p;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

/// A tick label: at most 4 significant digits, no trailing zeros.
inline std::string tick_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

}  // namespace detail

/// Draws the series as lines in distinct colours on common axes, with ticks, labels and a legend.
inline Image plot_lines(const std::vector<PlotSeries>& series, const PlotOptions& o = {}) {
  if (o.width < 200 || o.height < 150) {
    throw ArgumentError("plot_lines: a plot needs at least 200x150 pixels, got " +
                        std::to_string(o.width) + "x" + std::to_string(o.height));
  }
  auto ty = [&](double y) { return o.log_y ? std::log10(y) : y; };
  auto usable = [&](double y) { return std::isfinite(y) && (!o.log_y || y > 0); };
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const PlotSeries& s : series) {
    if (s.x.size() != s.y.size()) {
      throw ArgumentError("plot_lines: series '" + s.name + "' has " + std::to_string(s.x.size()) +
                          " x values but " + std::to_string(s.y.size()) + " y values");
    }
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !usable(s.y[i])) continue;
      x_lo = std::min(x_lo, s.x[i]);
      x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, ty(s.y[i]));
      y_hi = std::max(y_hi, ty(s.y[i]));
    }
  }
  if (!(x_lo <= x_hi)) x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;  // nothing to draw: empty axes
  if (x_hi - x_lo < 1e-12 * std::max(1.0, std::abs(x_lo))) x_lo -= 0.5, x_hi += 0.5;
  if (y_hi - y_lo < 1e-12 * std::max(1.0, std::abs(y_lo))) y_lo -= 0.5, y_hi += 0.5;
  const double pad = 0.05 * (y_hi - y_lo);
  y_lo -= pad;
  y_hi += pad;

  detail::Canvas c(o.width, o.height);
  const detail::Rgb black{0, 0, 0}, grey{225, 225, 225}, dark{90, 90, 90};
  const int left = 100, right = o.width - 24, top = o.title.empty() ? 24 : 52,
            bottom = o.height - 64;
  auto px = [&](double x) {
    return left + static_cast<int>(std::lround((x - x_lo) / (x_hi - x_lo) * (right - left)));
  };
  auto py = [&](double y) {
    return bottom - static_cast<int>(std::lround((y - y_lo) / (y_hi - y_lo) * (bottom - top)));
  };

  // Grid lines and ticks with their numbers.
  for (double t : detail::nice_ticks(x_lo, x_hi)) {
    const int x = px(t);
    c.line(x, top, x, bottom, grey);
    c.line(x, bottom, x, bottom + 5, black);
    const std::string label = detail::tick_label(t);
    c.text(x - detail::Canvas::text_width(label) / 2, bottom + 10, label, dark);
  }
  std::vector<double> yt;
  if (o.log_y) {
    for (double e = std::floor(y_lo); e <= std::ceil(y_hi); e += 1.0) {
      for (double m : {1.0, 2.0, 5.0}) {
        const double v = std::log10(m) + e;
        if (v >= y_lo && v <= y_hi) yt.push_back(v);
      }
    }
  } else {
    yt = detail::nice_ticks(y_lo, y_hi);
  }
  for (double t : yt) {
    const int y = py(t);
    c.line(left, y, right, y, grey);
    c.line(left - 5, y, left, y, black);
    const std::string label = detail::tick_label(o.log_y ? std::pow(10.0, t) : t);
    c.text(left - 10 - detail::Canvas::text_width(label), y - 8, label, dark);
  }
  c.line(left, top, left, bottom, black);
  c.line(left, bottom, right, bottom, black);
  c.line(left, top, right, top, black);
  c.line(right, top, right, bottom, black);

  // Titles.
  if (!o.title.empty()) {
    c.text((o.width - detail::Canvas::text_width(o.title, 3)) / 2, 12, o.title, black, 3);
  }
  c.text((left + right - detail::Canvas::text_width(o.x_label)) / 2, o.height - 28, o.x_label,
         black);
  c.text_vertical(14, (top + bottom + detail::Canvas::text_width(o.y_label)) / 2,
                  o.y_label + (o.log_y ? " (log)" : ""), black);

  // The curves, clipped to the plot area.
  c.clip(left + 1, top + 1, right - 1, bottom - 1);
  for (std::size_t k = 0; k < series.size(); ++k) {
    const PlotSeries& s = series[k];
    const detail::Rgb colour = detail::plot_colour(k);
    bool have = false;
    int lx = 0, ly = 0;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !usable(s.y[i])) {
        have = false;
        continue;
      }
      const int x = px(s.x[i]), y = py(ty(s.y[i]));
      if (have) c.line(lx, ly, x, y, colour, 2);
      if (s.x.size() <= 60) c.fill(x - 2, y - 2, x + 2, y + 2, colour);  // markers on short series
      lx = x;
      ly = y;
      have = true;
    }
  }
  c.unclip();

  // The legend, top right inside the plot.
  if (!series.empty()) {
    int widest = 0;
    for (const PlotSeries& s : series)
      widest = std::max(widest, detail::Canvas::text_width(s.name));
    const int row = 24, lx1 = right - 10, lx0 = lx1 - widest - 56;
    const int ly0 = top + 10, ly1 = ly0 + row * static_cast<int>(series.size()) + 8;
    c.fill(lx0, ly0, lx1, ly1, {255, 255, 255});
    c.line(lx0, ly0, lx1, ly0, dark);
    c.line(lx0, ly1, lx1, ly1, dark);
    c.line(lx0, ly0, lx0, ly1, dark);
    c.line(lx1, ly0, lx1, ly1, dark);
    for (std::size_t k = 0; k < series.size(); ++k) {
      const int y = ly0 + 8 + row * static_cast<int>(k) + row / 2 - 2;
      c.fill(lx0 + 8, y - 2, lx0 + 38, y + 1, detail::plot_colour(k));
      c.text(lx0 + 46, y - 9, series[k].name, black);
    }
  }
  return std::move(c.image());
}

/// plot_lines + write_png.
inline void write_plot_png(const std::string& path, const std::vector<PlotSeries>& series,
                           const PlotOptions& options = {}) {
  write_png(path, plot_lines(series, options));
}

}  // namespace aigc
