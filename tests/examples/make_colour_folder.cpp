// Writes a small colour image folder for the example trainers' tests: <dir>/<class>/<i>.png,
// `classes` class folders of `per_class` RGB images each, of mixed sizes (20 x 18 and 18 x 20; all
// size x size when `size` is given), random colours from a fixed seed.
// Usage: make_colour_folder <dir> [classes] [per_class] [size]
#include <aigc/core/rng.hpp>
#include <aigc/io/png.hpp>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_colour_folder <dir> [classes] [per_class] [size]\n");
    return 2;
  }
  try {
    const std::filesystem::path dir = argv[1];
    const int classes = argc > 2 ? std::stoi(argv[2]) : 2;
    const int per_class = argc > 3 ? std::stoi(argv[3]) : 24;
    const int size = argc > 4 ? std::stoi(argv[4]) : 0;
    aigc::Rng rng(7);
    for (int c = 0; c < classes; ++c) {
      const std::filesystem::path folder = dir / ("class" + std::to_string(c));
      std::filesystem::create_directories(folder);
      for (int i = 0; i < per_class; ++i) {
        aigc::Image img;
        img.width = size > 0 ? size : i % 2 ? 18 : 20;
        img.height = size > 0 ? size : i % 2 ? 20 : 18;
        img.channels = 3;
        img.pixels.resize(static_cast<std::size_t>(img.width * img.height * 3));
        for (unsigned char& p : img.pixels) p = static_cast<unsigned char>(rng.below(256));
        aigc::write_png((folder / (std::to_string(i) + ".png")).string(), img);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_colour_folder: %s\n", e.what());
    return 1;
  }
  return 0;
}
