// Loading an image folder: the first decode (cache removed first) and the load from the cache,
// with counts and classes, and a grid of the first images. With --make N, first writes N
// synthetic 64x64 colour PNGs (smooth shapes and noise) into the folder.
// Usage: bench_image_folder <folder> [--size 64] [--channels 3] [--threads 2] [--cache DIR]
//        [--grid out.png] [--make N]
#include <aigc/data/image_folder.hpp>
#include <aigc/io/png.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

void make_synthetic(const std::string& dir, int n) {
  std::filesystem::create_directories(dir);
  aigc::Rng rng(42);
  for (int i = 0; i < n; ++i) {
    aigc::Image img;
    img.width = img.height = 64;
    img.channels = 3;
    const double cx = rng.uniform(10, 54), cy = rng.uniform(10, 54), r = rng.uniform(6, 20);
    const double base[3] = {rng.uniform(0, 255), rng.uniform(0, 255), rng.uniform(0, 255)};
    for (int y = 0; y < 64; ++y) {
      for (int x = 0; x < 64; ++x) {
        const bool inside = std::hypot(x - cx, y - cy) < r;
        for (int c = 0; c < 3; ++c) {
          const double v =
              (inside ? 255 - base[c] : base[c] * (0.5 + y / 128.0)) + rng.uniform(-8, 8);
          img.pixels.push_back(static_cast<unsigned char>(std::clamp(v, 0.0, 255.0)));
        }
      }
    }
    char name[32];
    std::snprintf(name, sizeof name, "/%05d.png", i);
    aigc::write_png(dir + name, img);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s <folder> [--size N] [--channels 1|3] [--threads N] "
                 "[--cache DIR] [--grid out.png] [--make N]\n",
                 argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  aigc::ImageFolderOptions o;
  o.threads = 2;
  o.cache_dir = "/tmp/aigc-image-cache";
  std::string grid;
  int make = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--size")
      o.image_size = std::stoll(value);
    else if (flag == "--channels")
      o.channels = std::stoi(value);
    else if (flag == "--threads")
      o.threads = std::stoi(value);
    else if (flag == "--cache")
      o.cache_dir = value;
    else if (flag == "--grid")
      grid = value;
    else if (flag == "--make")
      make = std::stoi(value);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  try {
    if (make > 0) make_synthetic(dir, make);
    std::filesystem::create_directories(o.cache_dir);
    std::filesystem::remove(aigc::detail::image_cache_path(dir, o));
    for (int run = 0; run < 2; ++run) {
      aigc::ImageFolderReport rep;
      const auto t0 = std::chrono::steady_clock::now();
      const aigc::ByteDataset d = aigc::read_image_folder(dir, o, &rep);
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf(
          "%s: %lld images %lldx%lldx%lld, %d classes, %lld other files, %lld outside "
          "classes, %zu bad; %s in %.3f s (%d threads)\n",
          dir.c_str(), static_cast<long long>(d.size()), static_cast<long long>(d.channels),
          static_cast<long long>(d.height), static_cast<long long>(d.width), d.num_classes,
          static_cast<long long>(rep.other_files), static_cast<long long>(rep.outside_classes),
          rep.bad.size(), rep.from_cache ? "from the cache" : "decoded", s, o.threads);
      if (run == 0) {
        for (int c = 0; c < d.num_classes; ++c) {
          const auto n = std::count(d.labels.begin(), d.labels.end(), c);
          std::printf("  class %2d %-22s %5lld images\n", c,
                      d.class_names[static_cast<std::size_t>(c)].c_str(),
                      static_cast<long long>(n));
        }
      }
      if (run == 1 && !grid.empty()) {
        // 64 images spread evenly over the data set (so every class shows).
        std::vector<aigc::Index> rows;
        for (aigc::Index i = 0; i < 64; ++i) rows.push_back(i * d.size() / 64);
        const aigc::Dataset<float> f = aigc::to_dataset<float>(aigc::subset(d, rows));
        aigc::write_png_grid(grid, f.images, d.channels, d.height, d.width, 8);
        std::printf("grid: %s\n", grid.c_str());
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
