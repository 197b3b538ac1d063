/// @file
/// aigc: the VAE's Gaussian KL term and the reparameterisation trick.
#pragma once

#include <algorithm>
#include <vector>

#include "aigc/core/rng.hpp"
#include "aigc/core/tensor.hpp"
#include "aigc/kernels/losses.hpp"
#include "aigc/kernels/partition.hpp"
#include "aigc/losses/reduction.hpp"

namespace aigc {

/// KL(N(mu, exp(logvar)) || N(0, I)) = reduce -1/2 (1 + logvar - mu^2 - exp(logvar));
/// dmu = mu, dlogvar = (exp(logvar) - 1) / 2 (/ n for mean), written (not accumulated).
template <class T>
double gaussian_kl(const Tensor<T>& mu, const Tensor<T>& logvar, Reduction reduction,
                   Tensor<T>* dmu = nullptr, Tensor<T>* dlogvar = nullptr) {
  check_same_shape(mu, logvar, "gaussian_kl (mu vs logvar)");
  const Index n = mu.size();
  const double inv_n = n > 0 ? 1.0 / static_cast<double>(n) : 0.0;
  const T scale = reduction == Reduction::mean ? static_cast<T>(inv_n) : T(1);
  if (dmu) dmu->resize(mu.rows(), mu.cols());
  if (dlogvar) dlogvar->resize(mu.rows(), mu.cols());
  const double sum = kernels::gaussian_kl(mu.data(), logvar.data(), n, dmu ? dmu->data() : nullptr,
                                          dlogvar ? dlogvar->data() : nullptr, scale);
  return reduction == Reduction::mean ? sum * inv_n : sum;
}

/// z = mu + eps * exp(logvar / 2), eps ~ N(0, I); keeps eps and the std for backward.
template <class T>
class Reparameterization {
 public:
  /// z = mu + eps * exp(logvar / 2) with eps ~ N(0, I): eps is drawn in streams of about
  /// stream_values values (at least two, so that two threads share even a small batch), each from
  /// its own generator seeded by a draw from rng in order, the streams shared out between the
  /// threads; the numbers depend on rng's state alone, not on the thread count.
  const Tensor<T>& forward(const Tensor<T>& mu, const Tensor<T>& logvar, Rng& rng) {
    check_same_shape(mu, logvar, "reparameterize (mu vs logvar)");
    draw_noise(mu.rows(), mu.cols(), rng, eps_);
    return forward_with_noise(mu, logvar, eps_);
  }

  /// Fills eps (resized to rows x cols) with the draws forward makes for a batch of that shape.
  void draw_noise(Index rows, Index cols, Rng& rng, Tensor<T>& eps) {
    eps.resize(rows, cols);
    const Index n = eps.size();
    const Index streams = std::max<Index>(2, n / stream_values);
    if (static_cast<Index>(generators_.size()) != streams) {
      generators_.resize(static_cast<std::size_t>(streams));
    }
    for (StreamRng& g : generators_) g.rng = Rng(rng.next_u64());
    aigc::kernels::parallel_for(streams, 1, [&](Index begin, Index end) {
      for (Index s = begin; s < end; ++s) {
        const Index first = n * s / streams, last = n * (s + 1) / streams;
        generators_[static_cast<std::size_t>(s)].rng.fill_normal(eps.data() + first, last - first);
      }
    });
  }

  /// The same with a given eps (gradient checks, deterministic sampling).
  const Tensor<T>& forward_with_noise(const Tensor<T>& mu, const Tensor<T>& logvar,
                                      const Tensor<T>& eps) {
    check_same_shape(mu, eps, "reparameterize (mu vs eps)");
    if (&eps != &eps_) eps_ = eps;
    std_.resize(mu.rows(), mu.cols());
    z_.resize(mu.rows(), mu.cols());
    kernels::reparameterize(mu.data(), logvar.data(), eps_.data(), z_.data(), std_.data(),
                            mu.size());
    return z_;
  }

  /// dmu += dz; dlogvar += dz * eps * exp(logvar / 2) / 2.
  void backward(const Tensor<T>& dz, Tensor<T>& dmu, Tensor<T>& dlogvar) const {
    check_same_shape(dz, z_, "reparameterize backward (dz vs z)");
    check_same_shape(dmu, z_, "reparameterize backward (dmu vs z)");
    check_same_shape(dlogvar, z_, "reparameterize backward (dlogvar vs z)");
    kernels::reparameterize_backward(dz.data(), eps_.data(), std_.data(), dmu.data(),
                                     dlogvar.data(), dz.size());
  }

  /// The eps of the last forward.
  const Tensor<T>& eps() const { return eps_; }

 private:
  /// Values of eps per generator stream.
  static constexpr Index stream_values = 1024;
  /// A generator on a cache line of its own: two generators sharing a line, one written by each
  /// core at every draw, made the draws on two threads slower than on one.
  struct alignas(64) StreamRng {
    Rng rng{0};
  };
  Tensor<T> eps_, std_, z_;
  std::vector<StreamRng> generators_;
};

}  // namespace aigc
