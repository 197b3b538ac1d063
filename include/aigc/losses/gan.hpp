/// @file
/// aigc: the GAN objectives on the discriminator's logits: non-saturating BCE, least squares,
/// hinge and Wasserstein; the discriminator's terms on real and fake logits and the generator's.
#pragma once

#include <string>
#include <type_traits>

#include "aigc/core/tensor.hpp"
#include "aigc/kernels/losses.hpp"

namespace aigc {

/// bce: the non-saturating GAN (Goodfellow et al.), D trained with BCE, G maximising log D(G(z)).
/// lsgan: least squares (Mao et al.), targets 1 (real) and 0 (fake) on the raw logit.
/// hinge: max(0, 1 - D(x)) + max(0, 1 + D(G(z))) for D, -D(G(z)) for G (Miyato et al.).
/// wasserstein: D(G(z)) - D(x) for the critic, -D(G(z)) for G (Arjovsky et al.; the trainer
/// clips the critic's weights).
enum class GanObjective { bce, lsgan, hinge, wasserstein };

/// Which part of the objective: D's term on real images, D's term on fakes, or G's.
enum class GanTerm { d_real, d_fake, g };

/// The objective's name: "bce", "lsgan", "hinge" or "wasserstein".
inline const char* to_string(GanObjective o) {
  switch (o) {
    case GanObjective::bce:
      return "bce";
    case GanObjective::lsgan:
      return "lsgan";
    case GanObjective::hinge:
      return "hinge";
    case GanObjective::wasserstein:
      return "wasserstein";
  }
  return "?";
}

/// "bce" (also "nonsaturating"), "lsgan", "hinge", "wasserstein" (also "wgan").
inline GanObjective parse_gan_objective(const std::string& name) {
  if (name == "bce" || name == "nonsaturating") return GanObjective::bce;
  if (name == "lsgan") return GanObjective::lsgan;
  if (name == "hinge") return GanObjective::hinge;
  if (name == "wasserstein" || name == "wgan") return GanObjective::wasserstein;
  throw ArgumentError("unknown GAN objective '" + name +
                      "' (expected bce, lsgan, hinge or wasserstein)");
}

/// One term of the objective, averaged over the n logits (batch x 1, or any shape):
///   bce     d_real: mean BCE(z, 1 - smoothing)  d_fake: mean BCE(z, 0)   g: mean BCE(z, 1)
///   lsgan   d_real: mean (z - (1 - smoothing))^2 / 2   d_fake: mean z^2 / 2   g: mean (z - 1)^2 /
///   2 hinge   d_real: mean max(0, 1 - z)   d_fake: mean max(0, 1 + z)   g: -mean z wgan    d_real:
///   -mean z              d_fake: mean z               g: -mean z
/// label_smoothing (one-sided: real targets only) applies to bce and lsgan. When dlogits is
/// given it receives dL/dz, resized to the logits' shape.
template <class T>
double gan_loss(GanObjective objective, GanTerm term, const Tensor<T>& logits,
                std::type_identity_t<Tensor<T>>* dlogits = nullptr, double label_smoothing = 0.0) {
  if (!(label_smoothing >= 0.0 && label_smoothing < 1.0)) {
    throw ArgumentError("gan_loss: label_smoothing must be in [0, 1), got " +
                        std::to_string(label_smoothing));
  }
  if (label_smoothing != 0.0 &&
      (objective == GanObjective::hinge || objective == GanObjective::wasserstein)) {
    throw ArgumentError(std::string("gan_loss: label_smoothing applies to the bce and lsgan "
                                    "objectives, not to ") +
                        to_string(objective));
  }
  const Index n = logits.size();
  if (n == 0) throw ShapeError("gan_loss: empty logits " + shape_string(logits));
  const double inv_n = 1.0 / static_cast<double>(n);
  double target = 0.0, sign = 1.0, factor = 1.0;  // loss = factor * sum f(z) / n
  kernels::LogitTerm f = kernels::LogitTerm::bce;
  const double real = term == GanTerm::d_real ? 1.0 - label_smoothing : 1.0;
  switch (objective) {
    case GanObjective::bce:
      target = term == GanTerm::d_fake ? 0.0 : real;
      break;
    case GanObjective::lsgan:
      f = kernels::LogitTerm::squared;
      target = term == GanTerm::d_fake ? 0.0 : real;
      factor = 0.5;
      break;
    case GanObjective::hinge:
      f = term == GanTerm::g ? kernels::LogitTerm::linear : kernels::LogitTerm::hinge;
      sign = term == GanTerm::d_fake ? 1.0 : -1.0;
      break;
    case GanObjective::wasserstein:
      f = kernels::LogitTerm::linear;
      sign = term == GanTerm::d_fake ? 1.0 : -1.0;
      break;
  }
  T* d = nullptr;
  if (dlogits) {
    dlogits->resize(logits.rows(), logits.cols());
    d = dlogits->data();
  }
  const double sum = kernels::logit_loss(f, logits.data(), n, static_cast<T>(target),
                                         static_cast<T>(sign), d, static_cast<T>(factor * inv_n));
  return factor * sum * inv_n;
}

/// Mean of the discriminator's output as a probability, sigmoid(z) (the D(x) statistic of the
/// bce objective).
template <class T>
double mean_sigmoid(const Tensor<T>& logits) {
  if (logits.size() == 0) return 0.0;
  return kernels::sum_sigmoid(logits.data(), logits.size()) / static_cast<double>(logits.size());
}

}  // namespace aigc
