/// @file
/// aigc: the pointwise activations the layers fuse into their output passes.
#pragma once

namespace aigc {

/// A pointwise activation, fused into the layers' output passes.
enum class Activation {
  identity,    ///< y = x
  relu,        ///< y = max(x, 0)
  leaky_relu,  ///< y = x for x > 0, else slope * x
  sigmoid,     ///< y = 1 / (1 + exp(-x))
  tanh         ///< y = tanh(x)
};

}  // namespace aigc
