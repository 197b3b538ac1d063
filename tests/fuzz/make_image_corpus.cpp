// Writes the seed corpus of fuzz_image (tests/fuzz/corpus/image/): small PNGs of every layout and
// JPEGs (baseline, progressive, grey, CMYK), written by libpng and libjpeg.
// Build and run: g++ -std=c++20 -I tests tests/fuzz/make_image_corpus.cpp -lpng -ljpeg -o /tmp/m
//                && /tmp/m tests/fuzz/corpus/image
#include <string>
#include <vector>

#include "support/image_files.hpp"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string dir = argv[1];
  using aigc::test::write_png_file;
  const int w = 7, h = 5;
  std::vector<unsigned> v;
  for (int i = 0; i < w * h * 4; ++i) v.push_back(static_cast<unsigned>((i * 37) % 256));
  auto first = [&](int n, unsigned scale = 1) {
    std::vector<unsigned> out(v.begin(), v.begin() + n);
    for (unsigned& x : out) x *= scale;
    return out;
  };
  write_png_file(dir + "/grey8.png", w, h, PNG_COLOR_TYPE_GRAY, 8, first(w * h));
  write_png_file(dir + "/grey16.png", w, h, PNG_COLOR_TYPE_GRAY, 16, first(w * h, 257));
  std::vector<unsigned> bits = first(w * h);
  for (unsigned& x : bits) x &= 1;
  write_png_file(dir + "/grey1.png", w, h, PNG_COLOR_TYPE_GRAY, 1, bits);
  write_png_file(dir + "/grey_alpha.png", w, h, PNG_COLOR_TYPE_GRAY_ALPHA, 8, first(2 * w * h));
  write_png_file(dir + "/rgb8_interlaced.png", w, h, PNG_COLOR_TYPE_RGB, 8, first(3 * w * h), true);
  write_png_file(dir + "/rgba16.png", w, h, PNG_COLOR_TYPE_RGBA, 16, first(4 * w * h, 257));
  std::vector<unsigned> idx = first(w * h);
  for (unsigned& x : idx) x %= 3;
  write_png_file(dir + "/palette_trns.png", w, h, PNG_COLOR_TYPE_PALETTE, 4, idx, false,
                 {{10, 20, 30}, {200, 100, 0}, {1, 2, 3}}, {255, 7});
  std::vector<std::uint8_t> rgb, grey, cmyk;
  for (int i = 0; i < 16 * 16; ++i) {
    rgb.insert(rgb.end(), {static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(3 * i), 77});
    grey.push_back(static_cast<std::uint8_t>(i));
    cmyk.insert(cmyk.end(),
                {static_cast<std::uint8_t>(i), 30, 200, static_cast<std::uint8_t>(255 - i)});
  }
  using aigc::test::jpeg_bytes;
  using aigc::test::write_bytes;
  write_bytes(dir + "/baseline.jpg", jpeg_bytes(16, 16, JCS_RGB, rgb, 50));
  write_bytes(dir + "/progressive.jpg", jpeg_bytes(16, 16, JCS_RGB, rgb, 50, true));
  write_bytes(dir + "/grey.jpg", jpeg_bytes(16, 16, JCS_GRAYSCALE, grey, 50));
  write_bytes(dir + "/cmyk.jpg", jpeg_bytes(16, 16, JCS_CMYK, cmyk, 50));
  write_bytes(dir + "/empty", {});
  return 0;
}
