/// @file
/// aigc: learning-rate schedules (linear warm-up, then constant, linear decay or cosine decay),
/// a factor of the optimiser's base learning rate for each step.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>

#include "aigc/core/error.hpp"

namespace aigc {

/// The shape of a learning-rate schedule after its warm-up.
enum class LrDecay {
  constant,  ///< the base rate
  linear,    ///< from the base rate down to final_factor times it, linearly (LinearLR)
  cosine     ///< the same along half a cosine (CosineAnnealingLR)
};

/// A learning-rate schedule: the rate of update t (from 0) is lr * lr_factor(schedule, t).
struct LrSchedule {
  LrDecay decay = LrDecay::constant;  ///< after the warm-up
  std::int64_t warmup_steps = 0;      ///< factor (t + 1) / warmup_steps for t < warmup_steps
  std::int64_t total_steps = 0;       ///< linear and cosine: the update that reaches final_factor
  double final_factor = 0.0;          ///< linear and cosine: the factor at total_steps and after

  /// Whether every factor is exactly 1 (the default schedule).
  bool is_constant() const { return decay == LrDecay::constant && warmup_steps == 0; }
};

/// The factor of the base learning rate for update `step` (0 for the first update).
inline double lr_factor(const LrSchedule& s, std::int64_t step) {
  double f = 1.0;
  if (step < s.warmup_steps)
    f = static_cast<double>(step + 1) / static_cast<double>(s.warmup_steps);
  if (s.decay == LrDecay::constant) return f;
  const double span =
      static_cast<double>(std::max<std::int64_t>(1, s.total_steps - s.warmup_steps));
  const double progress = std::clamp(static_cast<double>(step - s.warmup_steps) / span, 0.0, 1.0);
  const double shape = s.decay == LrDecay::linear
                           ? 1.0 - progress
                           : 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  return f * (s.final_factor + (1.0 - s.final_factor) * shape);
}

/// Throws ArgumentError naming `who` when the schedule cannot be followed (a decay without its
/// total, a warm-up longer than it, a final factor outside [0, 1]).
inline void check_schedule(const LrSchedule& s, const std::string& who) {
  if (s.warmup_steps < 0) throw ArgumentError(who + ": warm-up steps must be >= 0");
  if (s.decay != LrDecay::constant && s.total_steps <= s.warmup_steps) {
    throw ArgumentError(who + ": a linear or cosine schedule needs total steps (" +
                        std::to_string(s.total_steps) + ") beyond the warm-up (" +
                        std::to_string(s.warmup_steps) + ")");
  }
  if (!(s.final_factor >= 0.0 && s.final_factor <= 1.0))
    throw ArgumentError(who + ": the final factor must be in [0, 1]");
}

/// "constant", "linear" or "cosine".
inline LrDecay parse_lr_decay(const std::string& name) {
  if (name == "constant") return LrDecay::constant;
  if (name == "linear") return LrDecay::linear;
  if (name == "cosine") return LrDecay::cosine;
  throw ArgumentError("learning-rate schedule '" + name +
                      "' is not one of constant, linear, cosine");
}

}  // namespace aigc
