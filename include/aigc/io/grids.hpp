/// @file
/// aigc: the inputs of picture grids: latent interpolations, class rows, reconstruction pairs.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "aigc/core/error.hpp"
#include "aigc/core/rng.hpp"
#include "aigc/core/tensor.hpp"

namespace aigc {

/// How to walk from one latent code to another: along the straight line, or along the great
/// circle (slerp, which keeps the norm typical of Gaussian codes).
enum class Interpolation { linear, spherical };

/// For each row pair (from.row(i), to.row(i)), `steps` codes from one to the other, endpoints
/// included: row i * steps + k is the k-th step of pair i (one grid row per pair).
template <class T>
Tensor<T> interpolate_rows(const Tensor<T>& from, const Tensor<T>& to, Index steps,
                           Interpolation path = Interpolation::linear) {
  check_same_shape(from, to, "interpolate_rows (from vs to)");
  if (steps < 2)
    throw ArgumentError("interpolate_rows: steps must be >= 2, got " + std::to_string(steps));
  Tensor<T> out(from.rows() * steps, from.cols());
  for (Index i = 0; i < from.rows(); ++i) {
    const Eigen::RowVectorXd a = from.row(i).template cast<double>();
    const Eigen::RowVectorXd b = to.row(i).template cast<double>();
    const double na = a.norm(), nb = b.norm();
    const double cos = na > 0 && nb > 0 ? std::clamp(a.dot(b) / (na * nb), -1.0, 1.0) : 1.0;
    const double omega = std::acos(cos);
    for (Index k = 0; k < steps; ++k) {
      const double t = static_cast<double>(k) / static_cast<double>(steps - 1);
      Eigen::RowVectorXd z;
      if (path == Interpolation::spherical && std::sin(omega) > 1e-6) {
        z = (std::sin((1 - t) * omega) * a + std::sin(t * omega) * b) / std::sin(omega);
      } else {
        z = (1 - t) * a + t * b;
      }
      out.row(i * steps + k) = z.cast<T>();
    }
  }
  return out;
}

/// `rows` random pairs of N(0, I) codes of size `latent`, interpolated in `steps` steps: a
/// rows x steps grid of codes.
template <class T>
Tensor<T> latent_interpolation_grid(Index rows, Index steps, Index latent, Rng& rng,
                                    Interpolation path = Interpolation::spherical) {
  Tensor<T> from(rows, latent), to(rows, latent);
  rng.fill_normal(from);
  rng.fill_normal(to);
  return interpolate_rows(from, to, steps, path);
}

/// Labels of a class grid: row c holds `per_class` copies of class c, for classes 0..classes-1.
inline std::vector<int> class_grid_labels(int classes, Index per_class) {
  if (classes <= 0 || per_class <= 0) {
    throw ArgumentError("class_grid_labels: classes and per_class must be positive");
  }
  std::vector<int> labels;
  for (int c = 0; c < classes; ++c)
    labels.insert(labels.end(), static_cast<std::size_t>(per_class), c);
  return labels;
}

/// One-hot rows (n x classes) for the given labels; interpolating between two one-hot rows walks
/// from one class to another for a conditional model.
template <class T>
Tensor<T> one_hot_rows(const std::vector<int>& labels, int classes) {
  Tensor<T> out = Tensor<T>::Zero(static_cast<Index>(labels.size()), classes);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= classes) {
      throw ArgumentError("one_hot_rows: label " + std::to_string(labels[i]) + " at index " +
                          std::to_string(i) + " is out of range [0, " + std::to_string(classes) +
                          ")");
    }
    out(static_cast<Index>(i), labels[i]) = T(1);
  }
  return out;
}

/// Originals and their reconstructions interleaved by grid rows of `columns`: a row of originals,
/// then the row of their reconstructions below it.
template <class T>
Tensor<T> reconstruction_rows(const Tensor<T>& originals, const Tensor<T>& reconstructions,
                              Index columns) {
  check_same_shape(originals, reconstructions,
                   "reconstruction_rows (originals vs reconstructions)");
  if (columns <= 0) throw ArgumentError("reconstruction_rows: columns must be positive");
  const Index n = originals.rows();
  const Index grid_rows = (n + columns - 1) / columns;
  Tensor<T> out = Tensor<T>::Zero(2 * grid_rows * columns, originals.cols());
  for (Index i = 0; i < n; ++i) {
    const Index r = i / columns, c = i % columns;
    out.row(2 * r * columns + c) = originals.row(i);
    out.row((2 * r + 1) * columns + c) = reconstructions.row(i);
  }
  return out;
}

}  // namespace aigc
