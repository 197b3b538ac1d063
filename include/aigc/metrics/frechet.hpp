/// @file
/// aigc: the Fréchet distance between two Gaussians fitted to feature sets (FID when the features
/// come from a classifier's penultimate layer).
#pragma once

#include <Eigen/Core>
#include <Eigen/Eigenvalues>
#include <cmath>
#include <concepts>
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

/// Fits mean and covariance to the rows of `features` (n x d, n >= 2).
template <class Derived>
GaussianStats gaussian_stats(const Eigen::MatrixBase<Derived>& features) {
  const Index n = features.rows();
  if (n < 2) {
    throw ArgumentError("gaussian_stats: needs at least 2 feature rows, got " +
                        shape_string(features));
  }
  const Eigen::MatrixXd x = features.template cast<double>();
  GaussianStats s;
  s.count = n;
  s.mean = x.colwise().mean().transpose();
  const Eigen::MatrixXd centred = x.rowwise() - s.mean.transpose();
  s.covariance = (centred.transpose() * centred) / static_cast<double>(n - 1);
  return s;
}

namespace detail {

// sqrt(max(v, 0)), applied as a scalar lambda: Eigen's vectorised max trips GCC 12's
// -Wuninitialized on AVX-512 (a false positive in the intrinsics' headers).
inline double clamped_sqrt(double v) { return v > 0.0 ? std::sqrt(v) : 0.0; }

// The symmetric square root of a symmetric positive semi-definite matrix (eigenvalues below zero,
// from rounding, are taken as zero).
template <class Matrix>
Matrix psd_sqrt(const Matrix& a) {
  Eigen::SelfAdjointEigenSolver<Matrix> eig(a);
  if (eig.info() != Eigen::Success)
    throw NumericError("frechet_distance: eigen-decomposition failed");
  const Eigen::VectorXd roots = eig.eigenvalues().unaryExpr(&clamped_sqrt);
  return eig.eigenvectors() * roots.asDiagonal() * eig.eigenvectors().transpose();
}

}  // namespace detail

/// |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2), in double. The inner matrix is
/// symmetric positive semi-definite, so both square roots come from symmetric eigen-solvers; the
/// trace of the second root is the sum of the square roots of its eigenvalues. (A template only so
/// that a program that never calls it does not compile Eigen's eigen-solver.)
template <class Stats>
requires std::same_as<Stats, GaussianStats>
double frechet_distance(const Stats& a, const Stats& b) {
  if (a.mean.size() != b.mean.size() || a.covariance.rows() != a.mean.size() ||
      b.covariance.rows() != b.mean.size()) {
    throw ShapeError("frechet_distance: feature sizes differ, " + std::to_string(a.mean.size()) +
                     " vs " + std::to_string(b.mean.size()));
  }
  const Eigen::MatrixXd root_a = detail::psd_sqrt(a.covariance);
  Eigen::MatrixXd inner = root_a * b.covariance * root_a;
  inner = 0.5 * (inner + inner.transpose());  // exactly symmetric for the solver
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(inner, Eigen::EigenvaluesOnly);
  if (eig.info() != Eigen::Success)
    throw NumericError("frechet_distance: eigen-decomposition failed");
  const double trace_root = eig.eigenvalues().unaryExpr(&detail::clamped_sqrt).sum();
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
