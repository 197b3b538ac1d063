// aigc: elementwise kernels: fused bias + activation and its backward, column sums, and the
// pointwise parts of the losses.
#pragma once

#include <algorithm>
#include <cmath>

#include "aigc/core/tensor.hpp"

namespace aigc {

enum class Activation { identity, relu, leaky_relu, sigmoid, tanh };

}  // namespace aigc

namespace aigc::kernels {

// y[r, c] = act(y[r, c] + b[c]) in place; b may be null (no bias).
template <class T>
void bias_activation_forward(T* y, const T* b, Index rows, Index cols, Activation act, T slope) {
  for (Index r = 0; r < rows; ++r) {
    T* row = y + r * cols;
    for (Index c = 0; c < cols; ++c) {
      T v = row[c] + (b ? b[c] : T(0));
      switch (act) {
        case Activation::identity: break;
        case Activation::relu: v = v > T(0) ? v : T(0); break;
        case Activation::leaky_relu: v = v > T(0) ? v : slope * v; break;
        case Activation::sigmoid: v = T(1) / (T(1) + std::exp(-v)); break;
        case Activation::tanh: v = std::tanh(v); break;
      }
      row[c] = v;
    }
  }
}

// dx = dy * act'(x), with act' expressed through the output y = act(x) (slope > 0 for leaky).
template <class T>
void activation_backward(const T* dy, const T* y, T* dx, Index n, Activation act, T slope) {
  for (Index i = 0; i < n; ++i) {
    T d = dy[i];
    switch (act) {
      case Activation::identity: break;
      case Activation::relu: d = y[i] > T(0) ? d : T(0); break;
      case Activation::leaky_relu: d = y[i] > T(0) ? d : slope * d; break;
      case Activation::sigmoid: d = d * y[i] * (T(1) - y[i]); break;
      case Activation::tanh: d = d * (T(1) - y[i] * y[i]); break;
    }
    dx[i] = d;
  }
}

// out[c] (+)= sum over r of x[r, c].
template <class T>
void column_sums(const T* x, Index rows, Index cols, T* out, bool accumulate) {
  if (!accumulate) std::fill(out, out + cols, T(0));
  for (Index r = 0; r < rows; ++r) {
    const T* row = x + r * cols;
    for (Index c = 0; c < cols; ++c) out[c] += row[c];
  }
}

// Sum over i of BCE(sigmoid(z_i), t_i) = max(z,0) - z*t + log(1 + exp(-|z|)), stable for any z.
// When dz is not null, dz_i = scale * (sigmoid(z_i) - t_i).
template <class T>
double bce_with_logits(const T* z, const T* t, Index n, T* dz, T scale) {
  double sum = 0.0;
  for (Index i = 0; i < n; ++i) {
    const T zi = z[i];
    const T e = std::exp(-std::abs(zi));
    sum += static_cast<double>(std::max(zi, T(0)) - zi * t[i] + std::log1p(e));
    if (dz) {
      const T s = zi >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
      dz[i] = scale * (s - t[i]);
    }
  }
  return sum;
}

// Sum over i of (x_i - t_i)^2; when dx is not null, dx_i = scale * 2 (x_i - t_i).
template <class T>
double squared_error(const T* x, const T* t, Index n, T* dx, T scale) {
  double sum = 0.0;
  for (Index i = 0; i < n; ++i) {
    const T d = x[i] - t[i];
    sum += static_cast<double>(d * d);
    if (dx) dx[i] = scale * T(2) * d;
  }
  return sum;
}

// Sum over i of -1/2 (1 + lv_i - mu_i^2 - exp(lv_i)) = KL(N(mu, exp(lv)) || N(0, 1)).
// When dmu/dlv are not null: dmu_i = scale * mu_i, dlv_i = scale * (exp(lv_i) - 1) / 2.
template <class T>
double gaussian_kl(const T* mu, const T* logvar, Index n, T* dmu, T* dlogvar, T scale) {
  double sum = 0.0;
  for (Index i = 0; i < n; ++i) {
    const T e = std::exp(logvar[i]);
    sum += static_cast<double>(T(-0.5) * (T(1) + logvar[i] - mu[i] * mu[i] - e));
    if (dmu) dmu[i] = scale * mu[i];
    if (dlogvar) dlogvar[i] = scale * T(0.5) * (e - T(1));
  }
  return sum;
}

// z = mu + eps * exp(logvar / 2); std_out receives exp(logvar / 2) for the backward pass.
template <class T>
void reparameterize(const T* mu, const T* logvar, const T* eps, T* z, T* std_out, Index n) {
  for (Index i = 0; i < n; ++i) {
    const T s = std::exp(T(0.5) * logvar[i]);
    std_out[i] = s;
    z[i] = mu[i] + eps[i] * s;
  }
}

// dmu += dz; dlogvar += dz * eps * std / 2 (the backward of reparameterize).
template <class T>
void reparameterize_backward(const T* dz, const T* eps, const T* std_in, T* dmu, T* dlogvar,
                             Index n) {
  for (Index i = 0; i < n; ++i) {
    dmu[i] += dz[i];
    dlogvar[i] += dz[i] * eps[i] * std_in[i] * T(0.5);
  }
}

}  // namespace aigc::kernels
