/// @file
/// aigc: differentiable augmentation (Zhao et al. 2020, DiffAugment's "color,translation,cutout")
/// of NCHW images, applied to real and fake images before a GAN's discriminator, with ADA's
/// per-image probability p (Karras et al. 2020): each transform is applied to an image with
/// probability p.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "aigc/core/error.hpp"
#include "aigc/core/module.hpp"
#include "aigc/core/rng.hpp"
#include "aigc/kernels/augment.hpp"

namespace aigc {

/// Options of DiffAugment.
struct DiffAugmentOptions {
  bool colour = true;  ///< brightness +U(-0.5, 0.5), saturation x U(0, 2), contrast x U(0.5, 1.5)
  bool translation = true;           ///< shifts of up to translation_ratio of the size, zeros in
  bool cutout = true;                ///< a zero square of cutout_ratio of the size
  double translation_ratio = 0.125;  ///< as DiffAugment
  double cutout_ratio = 0.5;         ///< as DiffAugment
};

/// DiffAugment as a module of images {C, H, W}: each forward draws new parameters per image (from
/// its own generator, "<name>.rng" in checkpoints) unless hold() is on; backward is the transposed
/// map (no parameters).
template <class T>
class DiffAugment : public Module<T> {
 public:
  /// Augmentation of `shape` ({C, H, W}) images, drawing from `seed`.
  DiffAugment(SampleShape shape, std::uint64_t seed, DiffAugmentOptions options = {})
      : shape_(std::move(shape)), o_(options), rng_(seed) {
    if (shape_.size() != 3 || sample_size(shape_) <= 0) {
      throw ArgumentError("DiffAugment: the image shape must be {C, H, W}, got " +
                          sample_shape_string(shape_));
    }
    this->set_name("augment");
  }

  /// The probability of each transform per image (1: DiffAugment; ADA adapts it).
  double probability() const { return p_; }
  /// Sets the probability, clamped to [0, 1].
  void set_probability(double p) { p_ = std::fmin(1.0, std::fmax(0.0, p)); }
  /// With hold on, forward reuses the last draws (a gradient check; a fixed augmentation).
  void hold(bool on) { hold_ = on; }

  /// Y = cutout(translate(contrast(saturate(X + brightness)))), parameters drawn per image.
  const Tensor<T>& forward(const Tensor<T>& x) override {
    const Index C = shape_[0], H = shape_[1], W = shape_[2];
    check_cols(x, C * H * W, [&] { return "DiffAugment '" + this->name() + "' forward"; });
    if (!hold_ || static_cast<Index>(draws_.size()) != x.rows()) draw(x.rows());
    y_.resize(x.rows(), x.cols());
    scratch_.resize(x.rows(), x.cols());
    kernels::augment_forward(x.data(), y_.data(), x.rows(), C, H, W, draws_.data(),
                             scratch_.data());
    return y_;
  }

  /// dX = the transposed map of the last forward applied to dY.
  const Tensor<T>& backward(const Tensor<T>& dy) override {
    check_same_shape(dy, y_, [&] { return "DiffAugment '" + this->name() + "' backward"; });
    if (!this->needs_input_grad()) {
      no_dx_.resize(0, dy.cols());
      return no_dx_;
    }
    dx_.resize(dy.rows(), dy.cols());
    kernels::augment_backward(dy.data(), dx_.data(), dy.rows(), shape_[0], shape_[1], shape_[2],
                              draws_.data());
    return dx_;
  }

  std::vector<NamedRng> rngs() override { return {{this->name() + ".rng", &rng_}}; }
  SampleShape output_shape() const override { return shape_; }
  /// The generator of the draws.
  Rng& rng() { return rng_; }
  /// The draws of the last forward, one per image.
  const std::vector<kernels::AugmentDraw>& draws() const { return draws_; }

 private:
  bool chance() { return p_ >= 1.0 || rng_.uniform() < p_; }

  /// One draw per image, in order: colour (brightness, saturation, contrast), translation,
  /// cutout; each applied with probability p.
  void draw(Index n) {
    const Index H = shape_[1], W = shape_[2];
    draws_.assign(static_cast<std::size_t>(n), {});
    for (kernels::AugmentDraw& d : draws_) {
      if (o_.colour) {
        if (chance()) d.brightness = rng_.uniform() - 0.5;
        if (chance()) d.saturation = 2.0 * rng_.uniform();
        if (chance()) d.contrast = rng_.uniform() + 0.5;
      }
      if (o_.translation && chance()) {
        const auto sy = static_cast<Index>(static_cast<double>(H) * o_.translation_ratio + 0.5);
        const auto sx = static_cast<Index>(static_cast<double>(W) * o_.translation_ratio + 0.5);
        d.shift_y = static_cast<Index>(rng_.below(static_cast<std::uint64_t>(2 * sy + 1))) - sy;
        d.shift_x = static_cast<Index>(rng_.below(static_cast<std::uint64_t>(2 * sx + 1))) - sx;
      }
      if (o_.cutout && chance()) {
        const auto ch = static_cast<Index>(static_cast<double>(H) * o_.cutout_ratio + 0.5);
        const auto cw = static_cast<Index>(static_cast<double>(W) * o_.cutout_ratio + 0.5);
        const auto cy = static_cast<Index>(rng_.below(static_cast<std::uint64_t>(H + 1 - ch % 2)));
        const auto cx = static_cast<Index>(rng_.below(static_cast<std::uint64_t>(W + 1 - cw % 2)));
        d.cut_y0 = cy - ch / 2;
        d.cut_y1 = d.cut_y0 + ch;
        d.cut_x0 = cx - cw / 2;
        d.cut_x1 = d.cut_x0 + cw;
      }
    }
  }

  SampleShape shape_;
  DiffAugmentOptions o_;
  Rng rng_;
  double p_ = 1.0;
  bool hold_ = false;
  std::vector<kernels::AugmentDraw> draws_;
  Tensor<T> y_, scratch_, dx_, no_dx_;
};

}  // namespace aigc
