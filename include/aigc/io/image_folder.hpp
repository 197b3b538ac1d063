// aigc: a folder of PNG images read as a data set (grey or RGB, values in [0, 1] or [-1, 1]).
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "aigc/data/dataset.hpp"
#include "aigc/io/png.hpp"

namespace aigc {

// Reads every *.png of `dir` (sorted by file name) as `channels` channels, NCHW: 1 (grey; colour
// images converted as read_png and read_image_folder do, by luma()), 3 (RGB; grey images repeated)
// or 0 (the first file's: RGB if it has colour, else grey). Alpha is composited onto white, as
// read_image_folder does by default, so that a folder of RGBA images reads as the image-folder
// trainers and classifiers saw them. All must have the same size.
template <class T>
Dataset<T> read_png_folder(const std::string& dir, PixelScale scale = PixelScale::unit,
                           int channels = 1) {
  namespace fs = std::filesystem;
  if (channels != 0 && channels != 1 && channels != 3) {
    throw ArgumentError(dir + ": cannot read PNGs as " + std::to_string(channels) + " channels");
  }
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw FileError(dir + ": not a folder");
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string ext = entry.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (entry.is_regular_file() && ext == ".png") files.push_back(entry.path().string());
  }
  if (files.empty()) throw FileError(dir + ": holds no .png files");
  std::sort(files.begin(), files.end());
  Dataset<T> d;
  const T mul = scale == PixelScale::unit ? T(1) / T(255) : T(2) / T(255);
  const T add = scale == PixelScale::unit ? T(0) : T(-1);
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (i == 0 && channels == 0) channels = read_png(files[i]).channels >= 3 ? 3 : 1;
    const Image img = read_png(files[i], channels + 1);  // grey + alpha or RGBA
    if (i == 0) {
      d.channels = channels;
      d.height = img.height;
      d.width = img.width;
      d.images.resize(static_cast<Index>(files.size()), Index{img.width} * img.height * channels);
    } else if (img.height != d.height || img.width != d.width) {
      throw FileError(files[i] + ": is " + std::to_string(img.width) + "x" +
                      std::to_string(img.height) + ", the folder's first image " + files[0] +
                      " is " + std::to_string(d.width) + "x" + std::to_string(d.height));
    }
    const Index plane = d.height * d.width;
    for (Index j = 0; j < d.features(); ++j) {  // value j of the row is pixel j % plane's channel
      const Index c = j / plane, p = j % plane;
      const unsigned char* px = img.pixels.data() + static_cast<std::size_t>(p * (channels + 1));
      d.images(static_cast<Index>(i), j) =
          static_cast<T>(alpha_over(px[c], px[channels], 255u)) * mul + add;
    }
  }
  return d;
}

}  // namespace aigc
