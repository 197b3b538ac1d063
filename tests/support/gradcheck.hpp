// Finite-difference gradient checks (central differences, in double) for modules and losses.
#pragma once

#include <aigc/core/module.hpp>
#include <aigc/core/rng.hpp>
#include <cmath>
#include <functional>

namespace aigc::test {

// ||a - n|| / max(||a|| + ||n||, tiny): the relative error of an analytic gradient a against the
// numeric one n.
inline double relative_error(const Tensor<double>& a, const Tensor<double>& n) {
  const double denom = a.norm() + n.norm();
  return denom < 1e-300 ? 0.0 : (a - n).norm() / denom;
}

// Numeric gradient of f at x by central differences (x is restored afterwards).
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

struct GradCheckResult {
  double input_error = 0.0;
  double max_param_error = 0.0;
};

// Checks dX and every parameter gradient of m at x against central differences of
// L = sum(R .* m(x)) for a fixed random R.
inline GradCheckResult check_module_gradients(Module<double>& m, Tensor<double> x,
                                              std::uint64_t seed = 7) {
  Rng rng(seed);
  const Tensor<double> y0 = m.forward(x);
  Tensor<double> r(y0.rows(), y0.cols());
  rng.fill_normal(r);
  auto loss = [&] { return m.forward(x).cwiseProduct(r).sum(); };

  m.zero_grad();
  m.forward(x);
  const Tensor<double> dx = m.backward(r);
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

// A random tensor with entries ~ N(0, 1) kept away from 0 by at least `gap` (so that ReLU-like
// kinks are not straddled by the finite differences).
inline Tensor<double> random_input(Index rows, Index cols, std::uint64_t seed, double gap = 1e-3) {
  Rng rng(seed);
  Tensor<double> x(rows, cols);
  rng.fill_normal(x);
  for (Index i = 0; i < x.size(); ++i) {
    if (std::abs(x.data()[i]) < gap) x.data()[i] = x.data()[i] < 0 ? -gap : gap;
  }
  return x;
}

}  // namespace aigc::test
