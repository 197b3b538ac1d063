/// @file
/// aigc: control in a VAE's latent space beyond class labels: the mean code of a set of images, an
/// attribute direction (the mean code of images with an attribute minus that of images without, as
/// in "sneaker minus sandal"), codes moved along a direction (latent arithmetic, walks), and the
/// truncation trick.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "aigc/core/error.hpp"
#include "aigc/core/rng.hpp"
#include "aigc/core/tensor.hpp"
#include "aigc/data/dataset.hpp"
#include "aigc/models/vae.hpp"

namespace aigc {

/// The mean of the encoder's posterior means of `images` (1 x latent), encoded in batches of
/// `batch` rows in eval mode.
template <class T>
Tensor<T> mean_code(VaeTrainer<T>& vae, const Tensor<T>& images, Index batch = 500) {
  if (images.rows() == 0) throw ArgumentError("mean_code: no images");
  if (batch <= 0) throw ArgumentError("mean_code: batch must be positive");
  Tensor<T> sum;
  for (Index begin = 0; begin < images.rows(); begin += batch) {
    const Tensor<T> part = images.middleRows(begin, std::min(batch, images.rows() - begin));
    const Tensor<T>& mu = vae.encode_mean(part);
    if (sum.size() == 0) sum = Tensor<T>::Zero(1, mu.cols());
    sum += mu.colwise().sum();
  }
  return sum / static_cast<T>(images.rows());
}

/// An attribute direction (1 x latent): mean_code(with) - mean_code(without). Adding it to the code
/// of an image without the attribute moves that image towards the attribute.
template <class T>
Tensor<T> attribute_direction(VaeTrainer<T>& vae, const Tensor<T>& with, const Tensor<T>& without) {
  return mean_code(vae, with) - mean_code(vae, without);
}

/// Codes moved along a direction: row i * steps.size() + j is z.row(i) + steps[j] * direction, so
/// that decoded and drawn with steps.size() columns, each row of the grid is one code's walk.
template <class T>
Tensor<T> latent_walk(const Tensor<T>& z, const Tensor<T>& direction, const std::vector<T>& steps) {
  if (direction.rows() != 1 || direction.cols() != z.cols()) {
    throw ShapeError("latent_walk: direction " + shape_string(direction) +
                     " is not one row of the codes' size " + std::to_string(z.cols()));
  }
  if (steps.empty()) throw ArgumentError("latent_walk: no steps");
  const Index s = static_cast<Index>(steps.size());
  Tensor<T> out(z.rows() * s, z.cols());
  for (Index i = 0; i < z.rows(); ++i) {
    for (Index j = 0; j < s; ++j) {
      out.row(i * s + j) = z.row(i) + steps[static_cast<std::size_t>(j)] * direction;
    }
  }
  return out;
}

/// The truncation trick: fills z with draws from N(0, 1) truncated to [-threshold, threshold], a
/// value outside redrawn until it falls inside. Smaller thresholds give more typical samples and
/// less variety. Values a draw of fill_normal would keep come out the same.
template <class T>
void fill_truncated_normal(Rng& rng, Tensor<T>& z, double threshold) {
  if (!(threshold > 0.0)) {
    throw ArgumentError("fill_truncated_normal: threshold " + std::to_string(threshold) +
                        " is not positive");
  }
  for (Index i = 0; i < z.size(); ++i) {
    double v = rng.normal();
    while (std::abs(v) > threshold) v = rng.normal();
    z.data()[i] = static_cast<T>(v);
  }
}

/// The images of `data` whose label is `label`, in order (no copy of the others).
template <class T>
Tensor<T> images_of_class(const Dataset<T>& data, int label) {
  std::vector<Index> rows;
  for (std::size_t i = 0; i < data.labels.size(); ++i) {
    if (data.labels[i] == label) rows.push_back(static_cast<Index>(i));
  }
  if (rows.empty()) {
    throw ArgumentError("images_of_class: no image has label " + std::to_string(label));
  }
  Tensor<T> out(static_cast<Index>(rows.size()), data.images.cols());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out.row(static_cast<Index>(i)) = data.images.row(rows[i]);
  }
  return out;
}

}  // namespace aigc
