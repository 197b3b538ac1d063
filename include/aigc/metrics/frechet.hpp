/// @file
/// aigc: the Fréchet distance between two Gaussians fitted to feature sets (FID when the features
/// come from a classifier's penultimate layer).
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <concepts>
#include <limits>
#include <string>

#include "aigc/core/error.hpp"
#include "aigc/core/tensor.hpp"

namespace aigc {

/// Mean and covariance (divided by n - 1) of a set of feature vectors, in double.
struct GaussianStats {
  Eigen::VectorXd mean;        ///< mean of the vectors
  Eigen::MatrixXd covariance;  ///< their covariance, divided by count - 1
  Index count = 0;             ///< number of vectors
};

namespace detail {

// Eigen's dynamic double types as names that depend on T: a template body written with them
// instantiates nothing of Eigen until the template itself is, so a program that never computes a
// distance does not compile it.
template <class T>
struct FrechetTypes {
  using Matrix = Eigen::MatrixXd;
  using Vector = Eigen::VectorXd;
};

}  // namespace detail

/// Fits mean and covariance to the rows of `features` (n x d, n >= 2).
template <class Derived>
GaussianStats gaussian_stats(const Eigen::MatrixBase<Derived>& features) {
  using Matrix = typename detail::FrechetTypes<Derived>::Matrix;
  const Index n = features.rows();
  if (n < 2) {
    throw ArgumentError("gaussian_stats: needs at least 2 feature rows, got " +
                        shape_string(features));
  }
  const Matrix x = features.template cast<double>();
  GaussianStats s;
  s.count = n;
  s.mean = x.colwise().mean().transpose();
  const Matrix centred = x.rowwise() - s.mean.transpose();
  s.covariance = (centred.transpose() * centred) / static_cast<double>(n - 1);
  return s;
}

namespace detail {

// sqrt(max(v, 0)), applied as a scalar lambda: Eigen's vectorised max trips GCC 12's
// -Wuninitialized on AVX-512 (a false positive in the intrinsics' headers).
inline double clamped_sqrt(double v) { return v > 0.0 ? std::sqrt(v) : 0.0; }

// The eigenvalues of a symmetric matrix `a` and, when `vectors` is given, its orthonormal
// eigenvectors as columns (a = V diag(values) Vᵀ), by cyclic Jacobi rotations: each rotation
// J(p, q) zeroes a(p, q) in a ← Jᵀ a J, V ← V J, until every off-diagonal value is below 2 eps
// times the largest diagonal one (the threshold of Eigen's JacobiSVD). A few dozen lines instead
// of <Eigen/Eigenvalues>, which every program including aigc would parse.
template <class Matrix, class Vector>
void symmetric_eigen(Matrix a, Vector& values, Matrix* vectors) {
  const Index n = a.rows();
  if (vectors) *vectors = Matrix::Identity(n, n);
  const double precision = 2.0 * std::numeric_limits<double>::epsilon();
  for (int sweep = 0;; ++sweep) {
    double max_diagonal = 0.0;
    for (Index i = 0; i < n; ++i) max_diagonal = std::max(max_diagonal, std::abs(a(i, i)));
    const double threshold = std::max(std::numeric_limits<double>::min(), precision * max_diagonal);
    bool rotated = false;
    for (Index p = 0; p < n; ++p) {
      for (Index q = p + 1; q < n; ++q) {
        const double apq = a(p, q);
        if (!(std::abs(apq) > threshold)) continue;
        rotated = true;
        // t = tan of the angle that zeroes a(p, q): the smaller root of t² + 2θt - 1 = 0.
        const double theta = (a(q, q) - a(p, p)) / (2.0 * apq);
        const double t =
            (theta >= 0.0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1.0));
        const double c = 1.0 / std::sqrt(t * t + 1.0), s = t * c;
        for (Index k = 0; k < n; ++k) {  // a ← a J (columns p, q)
          const double kp = a(k, p), kq = a(k, q);
          a(k, p) = c * kp - s * kq;
          a(k, q) = s * kp + c * kq;
        }
        for (Index k = 0; k < n; ++k) {  // a ← Jᵀ a (rows p, q)
          const double pk = a(p, k), qk = a(q, k);
          a(p, k) = c * pk - s * qk;
          a(q, k) = s * pk + c * qk;
        }
        a(p, q) = a(q, p) = 0.0;
        if (vectors) {
          for (Index k = 0; k < n; ++k) {  // V ← V J
            const double kp = (*vectors)(k, p), kq = (*vectors)(k, q);
            (*vectors)(k, p) = c * kp - s * kq;
            (*vectors)(k, q) = s * kp + c * kq;
          }
        }
      }
    }
    if (!rotated) break;
    if (sweep == 100 || !std::isfinite(max_diagonal))
      throw NumericError("frechet_distance: eigen-decomposition failed");
  }
  values = a.diagonal();
}

// The symmetric square root of a symmetric positive semi-definite matrix (eigenvalues below zero,
// from rounding, are taken as zero).
template <class Matrix>
Matrix psd_sqrt(const Matrix& a) {
  using Vector = typename FrechetTypes<Matrix>::Vector;
  Vector values;
  Matrix vectors;
  symmetric_eigen(a, values, &vectors);
  const Vector roots = values.unaryExpr(&clamped_sqrt);
  return vectors * roots.asDiagonal() * vectors.transpose();
}

}  // namespace detail

/// |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2), in double. The inner matrix is
/// symmetric positive semi-definite, so both square roots come from symmetric eigen-solvers; the
/// trace of the second root is the sum of the square roots of its eigenvalues. (A template only so
/// that a program that never calls it does not compile the eigen-solver.)
template <class Stats>
requires std::same_as<Stats, GaussianStats>
double frechet_distance(const Stats& a, const Stats& b) {
  using Matrix = typename detail::FrechetTypes<Stats>::Matrix;
  using Vector = typename detail::FrechetTypes<Stats>::Vector;
  if (a.mean.size() != b.mean.size() || a.covariance.rows() != a.mean.size() ||
      b.covariance.rows() != b.mean.size()) {
    throw ShapeError("frechet_distance: feature sizes differ, " + std::to_string(a.mean.size()) +
                     " vs " + std::to_string(b.mean.size()));
  }
  const Matrix root_a = detail::psd_sqrt<Matrix>(a.covariance);
  Matrix inner = root_a * b.covariance * root_a;
  inner = 0.5 * (inner + inner.transpose());  // exactly symmetric for the solver
  Vector values;
  detail::symmetric_eigen<Matrix>(inner, values, nullptr);
  const double trace_root = values.unaryExpr(&detail::clamped_sqrt).sum();
  // Not clamped: a value a little below zero shows the rounding of identical inputs.
  return (a.mean - b.mean).squaredNorm() + a.covariance.trace() + b.covariance.trace() -
         2.0 * trace_root;
}

/// The Fréchet distance between Gaussians fitted to two feature sets.
template <class A, class B>
double frechet_distance(const Eigen::MatrixBase<A>& features_a,
                        const Eigen::MatrixBase<B>& features_b) {
  return frechet_distance(gaussian_stats(features_a), gaussian_stats(features_b));
}

}  // namespace aigc
