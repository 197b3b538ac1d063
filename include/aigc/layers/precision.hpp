/// @file
/// aigc: mixed precision. A layer with products (Dense, Conv2d, ConvTranspose2d) takes them in
/// FP32 or, with Precision::bf16, on bfloat16 operands with FP32 sums (kernels::gemm_bf16):
/// forward, dX and dW alike. Everything else stays FP32: the weights (the master copy the
/// optimiser updates), gradients, optimiser state, BatchNorm, losses, the reparameterisation.
/// No loss scaling is needed, as it is for float16: bfloat16 keeps FP32's 8-bit exponent, so
/// gradients too small for it are too small for FP32 as well; it gives up mantissa (8 bits
/// against 24), which the FP32 sums and master weights absorb.
#pragma once

#include <cstdio>

#include "aigc/core/module.hpp"
#include "aigc/kernels/gemm_bf16.hpp"
#include "aigc/layers/module_tree.hpp"

namespace aigc {

/// A layer whose products can be taken in bfloat16 (reached by dynamic_cast from a Module).
class PrecisionSettable {
 public:
  /// Virtual: reached through dynamic_cast from a Module.
  virtual ~PrecisionSettable() = default;
  /// The precision of the layer's products from now on (results are bitwise the same for any
  /// thread count in either).
  void set_precision(Precision p) { precision_ = p; }
  /// The precision of the layer's products (Precision::fp32 by default).
  Precision precision() const { return precision_; }

 protected:
  Precision precision_ = Precision::fp32;  ///< of the layer's products
};

/// Sets the precision of the products of every layer in `root` that has some; returns how many.
/// Precision::bf16 on a build whose target has no AVX-512 BF16 runs the products in FP32 and says
/// so once per process on stderr.
template <class T>
int set_precision(Module<T>& root, Precision precision) {
  if (precision == Precision::bf16 && !kernels::has_bf16_products) {
    static bool told = false;
    if (!told) {
      std::fprintf(stderr,
                   "aigc: bf16 products need AVX-512 BF16 in the target (e.g. -march=native on a "
                   "CPU that has it); this build runs them in FP32\n");
      told = true;
    }
  }
  int n = 0;
  for_each_module<T>(root, [&](Module<T>& m) {
    if (auto* layer = dynamic_cast<PrecisionSettable*>(&m)) {
      layer->set_precision(precision);
      ++n;
    }
  });
  return n;
}

}  // namespace aigc
