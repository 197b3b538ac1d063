// aigc: optimiser update kernels (PyTorch's formulas).
#pragma once

#include <cmath>

#include "aigc/core/tensor.hpp"

namespace aigc::kernels {

// SGD with momentum (torch.optim.SGD): g += wd p; buf = first ? g : mu buf + (1 - damp) g;
// g = nesterov ? g + mu buf : buf; p -= lr g.
template <class T>
void sgd_update(T* p, const T* grad, T* buf, Index n, T lr, T momentum, T dampening,
                T weight_decay, bool nesterov, bool first_step) {
  for (Index i = 0; i < n; ++i) {
    T g = grad[i];
    if (weight_decay != T(0)) g += weight_decay * p[i];
    if (momentum != T(0)) {
      buf[i] = first_step ? g : momentum * buf[i] + (T(1) - dampening) * g;
      g = nesterov ? g + momentum * buf[i] : buf[i];
    }
    p[i] -= lr * g;
  }
}

// Adam / AdamW (torch.optim.Adam, AdamW): m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= step_size * m / (sqrt(v) / bias2_sqrt + eps), with step_size = lr / (1 - b1^t).
// decoupled_decay multiplies p by (1 - lr wd) first (AdamW); otherwise g += wd p (Adam).
template <class T>
void adam_update(T* p, const T* grad, T* m, T* v, Index n, T beta1, T beta2, T step_size,
                 T bias2_sqrt, T eps, T weight_decay, T decoupled_decay) {
  for (Index i = 0; i < n; ++i) {
    if (decoupled_decay != T(1)) p[i] *= decoupled_decay;
    T g = grad[i];
    if (weight_decay != T(0)) g += weight_decay * p[i];
    m[i] += (g - m[i]) * (T(1) - beta1);
    v[i] = beta2 * v[i] + (T(1) - beta2) * g * g;
    const T denom = std::sqrt(v[i]) / bias2_sqrt + eps;
    p[i] -= step_size * (m[i] / denom);
  }
}

// Sum of squares of x[0, n), in double.
template <class T>
double sum_of_squares(const T* x, Index n) {
  double s = 0.0;
  for (Index i = 0; i < n; ++i) s += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  return s;
}

// x *= a.
template <class T>
void scale(T* x, Index n, T a) {
  for (Index i = 0; i < n; ++i) x[i] *= a;
}

}  // namespace aigc::kernels
