/// @file
/// aigc: the zero-centred gradient penalty on real images (R1, Mescheder et al. 2018),
/// R = gamma / 2 * mean_i |grad_x D(x_i)|^2, and its weight gradient without a tape.
#pragma once

#include <cmath>
#include <vector>

#include "aigc/core/buffer.hpp"
#include "aigc/core/error.hpp"
#include "aigc/core/module.hpp"
#include "aigc/kernels/elementwise.hpp"
#include "aigc/kernels/update.hpp"

namespace aigc {

/// The buffers of r1_penalty, sized once per batch shape.
template <class T>
struct R1Workspace {
  Tensor<T> g;                       ///< grad_x of sum_i D(x_i)
  Tensor<T> x;                       ///< x + eps g, then x - eps g
  Tensor<T> dlogits;                 ///< the constant seed of each backward
  std::vector<Tensor<T>> buffers{};  ///< D's buffers (BatchNorm's statistics), kept and restored
  std::vector<Buffer<T>*> module_buffers{};  ///< the buffers of `module`, listed once
  const void* module = nullptr;              ///< the D the lists belong to
};

/// Adds the weight gradient of R = gamma / 2 * mean_i |g_i|^2, g = grad_x sum_i D(x_i), to D's
/// parameter gradients and returns R. With S = sum_i D(x_i), grad_theta R = gamma / N *
/// d/de grad_theta S(x + e g) at e = 0 (the mixed second derivative along g), computed as the
/// central difference (grad_theta S(x + e g) - grad_theta S(x - e g)) / 2e: one backward for g and
/// two forward-backward passes, no second-order backward. e = step / rms(g), so the images move by
/// `step` (root mean square). D's buffers (BatchNorm's running statistics) are restored after the
/// three passes; a D that draws randomness per forward (Dropout) would see other draws in each.
/// D's needs_input_grad and needs_param_grads are left as they were.
template <class T>
double r1_penalty(Module<T>& d, const Tensor<T>& x, double gamma, R1Workspace<T>& w,
                  double step = 1e-2) {
  if (!(gamma >= 0.0) || !(step > 0.0))
    throw ArgumentError("r1_penalty: gamma must be >= 0 and step > 0");
  const bool input_grad = d.needs_input_grad(), param_grads = d.needs_param_grads();
  if (w.module != &d) {
    w.module_buffers = d.buffers();
    w.module = &d;
  }
  const std::vector<Buffer<T>*>& buffers = w.module_buffers;
  w.buffers.resize(buffers.size());
  for (std::size_t i = 0; i < buffers.size(); ++i) w.buffers[i] = buffers[i]->value;

  const Index n = x.rows();
  d.set_needs_input_grad(true);
  d.set_needs_param_grads(false);
  const Tensor<T>& logits = d.forward(x);
  w.dlogits.resize(logits.rows(), logits.cols());
  w.dlogits.setConstant(T(1));
  const Tensor<T>& g = d.backward(w.dlogits);
  w.g.resize(g.rows(), g.cols());
  kernels::copy(g.data(), w.g.data(), g.size());
  const double sum_sq = kernels::sum_of_squares(w.g.data(), w.g.size());
  const double penalty = 0.5 * gamma * sum_sq / static_cast<double>(n);

  if (gamma > 0.0 && sum_sq > 0.0) {
    const double eps = step / std::sqrt(sum_sq / static_cast<double>(w.g.size()));
    const double c = gamma / (2.0 * eps * static_cast<double>(n));
    d.set_needs_input_grad(false);
    d.set_needs_param_grads(true);
    w.x.resize(x.rows(), x.cols());
    for (const double sign : {1.0, -1.0}) {
      w.x = x + static_cast<T>(sign * eps) * w.g;
      d.forward(w.x);
      w.dlogits.setConstant(static_cast<T>(sign * c));
      d.backward(w.dlogits);
    }
  }
  for (std::size_t i = 0; i < buffers.size(); ++i) buffers[i]->value = w.buffers[i];
  d.set_needs_input_grad(input_grad);
  d.set_needs_param_grads(param_grads);
  return penalty;
}

}  // namespace aigc
