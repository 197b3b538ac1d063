/// @file
/// aigc: the named values a trainer's step reports (its losses, D's mean outputs), which `fit`
/// shows, logs and averages over the epoch without knowing the model.
#pragma once

namespace aigc {

/// One named value of a training step and its weight in the epoch's mean: the batch's samples for
/// a per-sample loss, 1 for a per-step value, 0 when this step has no such value (a GAN's G loss
/// on a step without a G update).
struct StepValue {
  const char* name;     ///< e.g. "loss", "bce", "d_loss"
  double value;         ///< the step's value (per sample for a per-sample loss)
  double weight = 1.0;  ///< weight of `value` in the epoch's mean
};

}  // namespace aigc
