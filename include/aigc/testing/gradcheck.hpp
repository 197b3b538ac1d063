/// @file
/// aigc: the finite-difference gradient checker, in double: a module's hand-written backward
/// (dX and every parameter gradient) against central differences of L = sum(R .* m(x)).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "aigc/core/module.hpp"
#include "aigc/core/rng.hpp"
#include "aigc/core/tensor.hpp"

namespace aigc {

/// ||a - n|| / (||a|| + ||n||) (0 when both are 0): the relative error of an analytic gradient a
/// against the numeric one n.
inline double relative_error(const Tensor<double>& a, const Tensor<double>& n) {
  const double denom = a.norm() + n.norm();
  return denom < 1e-300 ? 0.0 : (a - n).norm() / denom;
}

/// The gradient of f at x by central differences, (f(x + h e_i) - f(x - h e_i)) / 2h for each
/// element i of x; x is restored afterwards.
inline Tensor<double> numeric_gradient(const std::function<double()>& f, Tensor<double>& x,
                                       double h = 1e-6) {
  Tensor<double> g(x.rows(), x.cols());
  for (Index i = 0; i < x.size(); ++i) {
    const double keep = x.data()[i];
    x.data()[i] = keep + h;
    const double up = f();
    x.data()[i] = keep - h;
    const double down = f();
    x.data()[i] = keep;
    g.data()[i] = (up - down) / (2 * h);
  }
  return g;
}

/// The relative errors of a gradient check (relative_error of analytic against numeric).
struct GradCheckResult {
  double input_error = 0.0;      ///< of dX (0 when the module computes no dX)
  double max_param_error = 0.0;  ///< the largest over the parameters
  /// The larger of the two.
  double worst() const { return std::max(input_error, max_param_error); }
};

/// Checks dX and every parameter gradient of m at x against central differences of
/// L = sum(R .* m(x)) for a fixed random R (drawn from `seed`), in double. A correct backward
/// gives errors near 1e-9; aigc's layers pass with worst() < 1e-6.
inline GradCheckResult check_module_gradients(Module<double>& m, Tensor<double> x,
                                              std::uint64_t seed = 7) {
  Rng rng(seed);
  const Tensor<double> y0 = m.forward(x);
  Tensor<double> r(y0.rows(), y0.cols());
  rng.fill_normal(r);
  auto loss = [&] { return m.forward(x).cwiseProduct(r).sum(); };

  m.zero_grad();
  m.forward(x);
  const Tensor<double> dx = m.backward(r);  // analytic gradients first, then numeric ones
  std::vector<Tensor<double>> grads;
  for (Param<double>* p : m.params()) grads.push_back(p->grad);

  GradCheckResult res;
  if (m.needs_input_grad()) res.input_error = relative_error(dx, numeric_gradient(loss, x));
  auto params = m.params();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const double e = relative_error(grads[i], numeric_gradient(loss, params[i]->value));
    res.max_param_error = std::max(res.max_param_error, e);
  }
  return res;
}

/// A rows x cols input with entries ~ N(0, 1) (from `seed`) kept at least `gap` away from 0, so
/// that the finite differences do not straddle the kink of a ReLU-like function.
inline Tensor<double> random_input(Index rows, Index cols, std::uint64_t seed, double gap = 1e-3) {
  Rng rng(seed);
  Tensor<double> x(rows, cols);
  rng.fill_normal(x);
  for (Index i = 0; i < x.size(); ++i) {
    if (std::abs(x.data()[i]) < gap) x.data()[i] = x.data()[i] < 0 ? -gap : gap;
  }
  return x;
}

}  // namespace aigc
