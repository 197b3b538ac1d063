/// @file
/// aigc: tensor aliases on Eigen. Row-major, batch x features; NCHW images are batch x C*H*W.
#pragma once

#include <Eigen/Core>
#include <string>
#include <type_traits>

#include "aigc/core/error.hpp"

namespace aigc {

/// Sizes and indices (Eigen's signed index type).
using Index = Eigen::Index;

/// A batch of rows: one sample per row, row-major so a sample is contiguous.
template <class T>
using Tensor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// One row of features (biases, per-channel statistics).
template <class T>
using RowVector = Eigen::Matrix<T, 1, Eigen::Dynamic, Eigen::RowMajor>;

/// "[rows x cols]" for error messages.
template <class Derived>
std::string shape_string(const Eigen::EigenBase<Derived>& t) {
  return "[" + std::to_string(t.rows()) + " x " + std::to_string(t.cols()) + "]";
}

namespace detail {
/// The text of an error message given as a string, or as a callable returning one (built only when
/// the check fails, so that checks in hot paths do not allocate).
inline std::string message(const std::string& what) { return what; }
inline std::string message(const char* what) { return what; }
template <class F>
requires std::is_invocable_r_v<std::string, const F&> std::string message(const F& what) {
  return what();
}
}  // namespace detail

/// Throws ShapeError naming `what` and both shapes unless `t` has `cols` columns.
template <class Derived, class What>
void check_cols(const Eigen::EigenBase<Derived>& t, Index cols, const What& what) {
  if (t.cols() != cols) {
    throw ShapeError(detail::message(what) + ": expected an input of shape [batch x " +
                     std::to_string(cols) + "], got " + shape_string(t));
  }
}

/// Throws ShapeError naming `what` and both shapes unless `a` and `b` have the same shape.
template <class A, class B, class What>
void check_same_shape(const Eigen::EigenBase<A>& a, const Eigen::EigenBase<B>& b,
                      const What& what) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) {
    throw ShapeError(detail::message(what) + ": shapes differ, " + shape_string(a) + " vs " +
                     shape_string(b));
  }
}

}  // namespace aigc
