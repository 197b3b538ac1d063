// aigc: the scores of a VAE on a data set: ELBO (per image, in nats) and reconstruction errors.
#pragma once

#include <algorithm>
#include <cmath>

#include "aigc/data/dataset.hpp"
#include "aigc/models/vae.hpp"

namespace aigc {

// Binary cross-entropy per image between targets x in [0, 1] and reconstructions p in [0, 1]
// (p clamped to [1e-7, 1 - 1e-7]): sum_j -[x log p + (1 - x) log(1 - p)], averaged over images.
template <class T>
double reconstruction_bce(const Tensor<T>& x, const Tensor<T>& p) {
  check_same_shape(x, p, "reconstruction_bce (targets vs reconstructions)");
  // A scalar loop over the pixels (an evaluation pass, not a training step): Eigen's vectorised
  // log and max trip GCC 12's -Wuninitialized on AVX-512 (a false positive in its headers).
  double total = 0.0;
  for (Index i = 0; i < x.size(); ++i) {
    const double t = static_cast<double>(x.data()[i]);
    const double q = std::clamp(static_cast<double>(p.data()[i]), 1e-7, 1.0 - 1e-7);
    total -= t * std::log(q) + (1.0 - t) * std::log(1.0 - q);
  }
  return x.rows() ? total / static_cast<double>(x.rows()) : 0.0;
}

// Mean squared error per pixel between targets and reconstructions.
template <class T>
double reconstruction_mse(const Tensor<T>& x, const Tensor<T>& p) {
  check_same_shape(x, p, "reconstruction_mse (targets vs reconstructions)");
  return x.size() ? (x.template cast<double>() - p.template cast<double>()).squaredNorm() /
                        static_cast<double>(x.size())
                  : 0.0;
}

/// The scores vae_scores computes.
struct VaeScores {
  double elbo = 0.0;                ///< per image, nats: -(BCE + KL) with one sampled z per image
  double reconstruction_bce = 0.0;  ///< per image, decoding the posterior mean
  double reconstruction_mse = 0.0;  ///< per pixel, decoding the posterior mean
  Index images = 0;                 ///< the number of images scored
};

// Scores a trained VAE on `data` (images in [0, 1]).
template <class T>
VaeScores vae_scores(VaeTrainer<T>& trainer, const Dataset<T>& data, Index batch = 1000) {
  VaeScores s;
  s.images = data.size();
  s.elbo = -trainer.evaluate(data, batch);
  double bce = 0.0, se = 0.0;
  for (Index begin = 0; begin < data.size(); begin += batch) {
    const Index rows = std::min(batch, data.size() - begin);
    const Tensor<T> x = data.images.middleRows(begin, rows);
    const Tensor<T> mean = trainer.encode_mean(x);
    const Tensor<T> p = trainer.decode(mean);
    bce += reconstruction_bce(x, p) * static_cast<double>(rows);
    se += reconstruction_mse(x, p) * static_cast<double>(x.size());
  }
  s.reconstruction_bce = bce / static_cast<double>(data.size());
  s.reconstruction_mse = se / static_cast<double>(data.size() * data.features());
  return s;
}

}  // namespace aigc
