#include <aigc/kernels/threads.hpp>
#include <aigc/layers/conv2d.hpp>
#include <aigc/layers/conv_transpose2d.hpp>
#include <aigc/layers/dense.hpp>
#include <aigc/layers/precision.hpp>
#include <aigc/layers/sequential.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

using namespace aigc;

namespace {

// Forward and backward of a small convolutional chain (Conv2d, ConvTranspose2d, Dense) in the
// given precision and thread count: its output, input gradient and weight gradients, in a row.
std::vector<float> run_chain(Precision precision, int threads) {
  set_num_threads(threads);
  Rng rng(3);
  Sequential<float> net({3, 16, 16});
  net.emplace<Conv2d<float>>("conv", 3, 8, 4, rng, Conv2dOptions{.stride = 2, .padding = 1});
  net.emplace<ConvTranspose2d<float>>("convt", 8, 4, 4, rng,
                                      ConvTranspose2dOptions{.stride = 2, .padding = 1});
  net.emplace<Dense<float>>("fc", 10, rng, DenseOptions{.activation = Activation::tanh});
  CHECK(set_precision(net, precision) == 3);
  Tensor<float> x(20, 3 * 16 * 16);
  rng.fill_normal(x);
  const Tensor<float> y = net.forward(x);
  const Tensor<float> dx = net.backward(y);
  std::vector<float> all(y.data(), y.data() + y.size());
  all.insert(all.end(), dx.data(), dx.data() + dx.size());
  for (Param<float>* p : net.params()) {
    all.insert(all.end(), p->grad.data(), p->grad.data() + p->grad.size());
  }
  set_num_threads(0);
  return all;
}

}  // namespace

TEST_CASE(
    "bf16 products stay close to FP32's, bitwise the same for 1 and 2 threads (FP32 "
    "itself without AVX-512 BF16)",
    "[precision][layers]") {
  const auto fp32 = run_chain(Precision::fp32, 1);
  const auto bf16 = run_chain(Precision::bf16, 1);
  CHECK(run_chain(Precision::bf16, 2) == bf16);
  REQUIRE(bf16.size() == fp32.size());
  if (!kernels::has_bf16_products) {
    CHECK(bf16 == fp32);
    return;
  }
  // bfloat16 keeps 8 bits of mantissa: each product errs by about 2^-8 relative, the sums by
  // about that times the scale of the terms; the chain's values are O(1) to O(100).
  double worst = 0.0, scale = 0.0;
  for (std::size_t i = 0; i < fp32.size(); ++i) {
    worst = std::max(worst, static_cast<double>(std::fabs(bf16[i] - fp32[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(fp32[i])));
  }
  INFO("largest difference " << worst << " of values up to " << scale);
  CHECK(worst > 0.0);           // the products did run in bfloat16
  CHECK(worst < 0.02 * scale);  // and only that far from FP32
}
