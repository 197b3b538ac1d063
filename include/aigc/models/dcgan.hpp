/// @file
/// aigc: DCGANs trained by GanTrainer: one for 28 x 28 grey images (Fashion-MNIST), and PyTorch's
/// example (pytorch/examples dcgan/main.py) for channels x size x size images, size 16 to 128.
#pragma once

#include <memory>
#include <string>

#include "aigc/core/rng.hpp"
#include "aigc/layers/activation.hpp"
#include "aigc/layers/batchnorm.hpp"
#include "aigc/layers/conditioning.hpp"
#include "aigc/layers/conv2d.hpp"
#include "aigc/layers/conv_transpose2d.hpp"
#include "aigc/layers/sequential.hpp"

namespace aigc {

/// DCGAN's initialisation (PyTorch's DCGAN example, weights_init): convolution weights ~ N(0,
/// 0.02), BatchNorm scales ~ N(1, 0.02), BatchNorm shifts 0. Applied to the parameters named
/// "*.conv*.weight", "*.bn*.weight", "*.bn*.bias".
template <class T>
void dcgan_init(Sequential<T>& net, Rng& rng) {
  for (Param<T>* p : net.params()) {
    const std::string& n = p->name;
    const bool conv = n.find(".conv") != std::string::npos;
    const bool bn = n.find(".bn") != std::string::npos;
    const bool weight = n.size() >= 7 && n.compare(n.size() - 7, 7, ".weight") == 0;
    if (conv && weight) {
      rng.fill_normal(p->value, 0.0, 0.02);
    } else if (bn && weight) {
      rng.fill_normal(p->value, 1.0, 0.02);
    } else if (bn || conv) {
      p->value.setZero();
    }
  }
}

/// Options of the DCGAN builders.
struct DcganOptions {
  /// Width: the channels of G's last hidden and D's first convolution (PyTorch's ngf, ndf).
  Index features = 64;
  /// D's BatchNorm layers; false leaves them out (as SN-GAN's discriminators do; pair it with
  /// spectral normalisation, GanOptions::spectral_norm_d): D's output for an image then does not
  /// depend on the rest of its batch. The generator's are always there.
  bool batch_norm = true;
  /// > 0: a conditional DCGAN (a cGAN for CganTrainer) of this many classes: G's first layer
  /// appends the one-hot label to z, D's first layer appends it to the image as constant channels
  /// (Conditioning), so that both see the class from the start.
  int num_classes = 0;
};

namespace detail {
inline void check_dcgan_options(const DcganOptions& o, const char* builder) {
  if (o.features <= 0 || o.num_classes < 0) {
    throw ArgumentError(std::string(builder) + ": features must be positive and num_classes >= 0");
  }
}

/// What follows a DCGAN's hidden convolution of `channels` outputs: "bn<n>", BatchNorm with `act`
/// fused (one pass; G's ReLU, D's LeakyReLU(0.2)), or, for a D without BatchNorm, the layer
/// "lrelu<n>", LeakyReLU(0.2).
template <class T>
void add_dcgan_norm_activation(Sequential<T>& net, const std::string& n, Index channels,
                               bool batch_norm, Activation act) {
  const double slope = 0.2;
  if (batch_norm) {
    BatchNormOptions o{.activation = act};
    if (act == Activation::leaky_relu) o.negative_slope = slope;
    net.template emplace<BatchNorm2d<T>>("bn" + n, channels, o);
  } else {
    net.template emplace<LeakyReLU<T>>("lrelu" + n, slope);
  }
}
}  // namespace detail

/// G: z (latent x 1 x 1) -> ConvT 4f k4 s1 p0 (4x4), BN, ReLU -> ConvT 2f k3 s2 p1 (7x7), BN,
/// ReLU -> ConvT f k4 s2 p1 (14x14), BN, ReLU -> ConvT 1 k4 s2 p1 (28x28), tanh; f = `features`
/// (64: 256, 128, 64, like PyTorch's ngf). Convolutions before a BatchNorm have no bias (as in
/// PyTorch's example, where every convolution has none). With options.num_classes, a
/// Conditioning layer first: z and the one-hot label, latent + classes values, into conv1.
template <class T>
std::unique_ptr<Sequential<T>> make_dcgan_generator(Index latent, Rng& rng,
                                                    const DcganOptions& options) {
  detail::check_dcgan_options(options, "make_dcgan_generator");
  if (latent <= 0) throw ArgumentError("make_dcgan_generator: latent must be positive");
  auto g = std::make_unique<Sequential<T>>();
  g->set_name("generator");
  using Opt = ConvTranspose2dOptions;
  const Index f = options.features;
  Index in = latent;
  if (options.num_classes > 0)
    in = g->template emplace<Conditioning<T>>("cond", latent, options.num_classes, rng)
             .out_features();
  g->template emplace<ConvTranspose2d<T>>("conv1", in, 4 * f, 4, 1, 1, rng,
                                          Opt{.stride = 1, .padding = 0, .bias = false});
  detail::add_dcgan_norm_activation(*g, "1", 4 * f, true, Activation::relu);
  g->template emplace<ConvTranspose2d<T>>("conv2", 4 * f, 2 * f, 3, 4, 4, rng,
                                          Opt{.stride = 2, .padding = 1, .bias = false});
  detail::add_dcgan_norm_activation(*g, "2", 2 * f, true, Activation::relu);
  g->template emplace<ConvTranspose2d<T>>("conv3", 2 * f, f, 4, 7, 7, rng,
                                          Opt{.stride = 2, .padding = 1, .bias = false});
  detail::add_dcgan_norm_activation(*g, "3", f, true, Activation::relu);
  g->template emplace<ConvTranspose2d<T>>(
      "conv4", f, 1, 4, 14, 14, rng,
      Opt{.stride = 2, .padding = 1, .bias = false, .activation = Activation::tanh});
  dcgan_init(*g, rng);
  return g;
}

/// The 28x28 generator of width `features` (ngf).
template <class T>
std::unique_ptr<Sequential<T>> make_dcgan_generator(Index latent, Rng& rng, Index features = 64) {
  return make_dcgan_generator<T>(latent, rng, DcganOptions{.features = features});
}

/// D: 1x28x28 -> Conv f k4 s2 p1 (14x14), LeakyReLU(0.2) -> Conv 2f k4 s2 p1 (7x7), BN,
/// LeakyReLU -> Conv 4f k4 s2 p1 (3x3), BN, LeakyReLU -> Conv 1 k3 s1 p0 (1x1): one logit;
/// f = options.features (64: 64, 128, 256, like PyTorch's ndf); options.batch_norm false leaves
/// out the two BatchNorm layers. With options.num_classes, a Conditioning layer first: the image
/// and the one-hot label as classes constant 28x28 channels into conv1.
template <class T>
std::unique_ptr<Sequential<T>> make_dcgan_discriminator(Rng& rng, const DcganOptions& options) {
  detail::check_dcgan_options(options, "make_dcgan_discriminator");
  auto d = std::make_unique<Sequential<T>>();
  d->set_name("discriminator");
  using Opt = Conv2dOptions;
  const Index f = options.features;
  const bool batch_norm = options.batch_norm;
  Index in = 1;
  if (options.num_classes > 0) {
    d->template emplace<Conditioning<T>>("cond", 1, options.num_classes, rng,
                                         ConditioningOptions{.height = 28, .width = 28});
    in += options.num_classes;
  }
  d->template emplace<Conv2d<T>>("conv1", in, f, 4, 28, 28, rng,
                                 Opt{.stride = 2,
                                     .padding = 1,
                                     .bias = false,
                                     .activation = Activation::leaky_relu,
                                     .negative_slope = 0.2});
  d->template emplace<Conv2d<T>>("conv2", f, 2 * f, 4, 14, 14, rng,
                                 Opt{.stride = 2, .padding = 1, .bias = false});
  detail::add_dcgan_norm_activation(*d, "2", 2 * f, batch_norm, Activation::leaky_relu);
  d->template emplace<Conv2d<T>>("conv3", 2 * f, 4 * f, 4, 7, 7, rng,
                                 Opt{.stride = 2, .padding = 1, .bias = false});
  detail::add_dcgan_norm_activation(*d, "3", 4 * f, batch_norm, Activation::leaky_relu);
  d->template emplace<Conv2d<T>>("conv4", 4 * f, 1, 3, 3, 3, rng,
                                 Opt{.stride = 1, .padding = 0, .bias = false});
  dcgan_init(*d, rng);
  return d;
}

/// The 28x28 discriminator of width `features` (ndf), with or without BatchNorm.
template <class T>
std::unique_ptr<Sequential<T>> make_dcgan_discriminator(Rng& rng, Index features = 64,
                                                        bool batch_norm = true) {
  return make_dcgan_discriminator<T>(rng,
                                     DcganOptions{.features = features, .batch_norm = batch_norm});
}

namespace detail {
/// Doubling stages of PyTorch's DCGAN from 4 x 4 to size x size: log2(size / 4); size must be a
/// power of two in [16, 128].
inline int dcgan_stages(Index image_size, const char* builder) {
  for (int k = 2; k <= 5; ++k) {
    if (image_size == (Index{4} << k)) return k;
  }
  throw ArgumentError(std::string(builder) + ": image size must be 16, 32, 64 or 128, got " +
                      std::to_string(image_size));
}
}  // namespace detail

/// PyTorch's DCGAN generator: z (latent x 1 x 1) -> ConvT features*2^k k4 s1 p0 (4x4), BN, ReLU
/// -> k times ConvT k4 s2 p1 (each doubling the size, halving the channels, down to `features`),
/// BN, ReLU -> ConvT `channels` k4 s2 p1 (size x size), tanh; k = log2(size / 8). At 64 x 64:
/// 100 -> 512 (4) -> 256 (8) -> 128 (16) -> 64 (32) -> channels (64), five transposed
/// convolutions. No convolution has a bias, as in the example. With options.num_classes, a
/// Conditioning layer first (z and the one-hot label into the first convolution).
template <class T>
std::unique_ptr<Sequential<T>> make_dcgan_generator(Index latent, Index channels, Index image_size,
                                                    Rng& rng, const DcganOptions& options) {
  const int stages = detail::dcgan_stages(image_size, "make_dcgan_generator");
  detail::check_dcgan_options(options, "make_dcgan_generator");
  if (latent <= 0 || channels <= 0) {
    throw ArgumentError("make_dcgan_generator: latent and channels must be positive");
  }
  auto g = std::make_unique<Sequential<T>>();
  g->set_name("generator");
  using Opt = ConvTranspose2dOptions;
  Index width = options.features << (stages - 1), size = 1, in = latent;
  if (options.num_classes > 0)
    in = g->template emplace<Conditioning<T>>("cond", latent, options.num_classes, rng)
             .out_features();
  for (int i = 1; i <= stages; ++i) {
    const std::string n = std::to_string(i);
    const Opt opt = i == 1 ? Opt{.stride = 1, .padding = 0, .bias = false}
                           : Opt{.stride = 2, .padding = 1, .bias = false};
    g->template emplace<ConvTranspose2d<T>>("conv" + n, in, width, 4, size, size, rng, opt);
    detail::add_dcgan_norm_activation(*g, n, width, true, Activation::relu);
    size = i == 1 ? 4 : 2 * size;
    in = width;
    width /= 2;
  }
  g->template emplace<ConvTranspose2d<T>>(
      "conv" + std::to_string(stages + 1), in, channels, 4, size, size, rng,
      Opt{.stride = 2, .padding = 1, .bias = false, .activation = Activation::tanh});
  dcgan_init(*g, rng);
  return g;
}

/// PyTorch's DCGAN generator of width `features` (ngf).
template <class T>
std::unique_ptr<Sequential<T>> make_dcgan_generator(Index latent, Index channels, Index image_size,
                                                    Rng& rng, Index features = 64) {
  return make_dcgan_generator<T>(latent, channels, image_size, rng,
                                 DcganOptions{.features = features});
}

/// PyTorch's DCGAN discriminator, the generator mirrored: channels x size x size -> Conv
/// `features` k4 s2 p1, LeakyReLU(0.2) -> Conv k4 s2 p1 (doubling the channels), BN, LeakyReLU,
/// until 4 x 4 -> Conv 1 k4 s1 p0: one logit (the example's sigmoid is in the loss).
/// options.batch_norm false: no BatchNorm layers; options.num_classes: a Conditioning layer first
/// (the one-hot label as constant channels beside the image's), as in the 28x28 builder.
template <class T>
std::unique_ptr<Sequential<T>> make_dcgan_discriminator(Index channels, Index image_size, Rng& rng,
                                                        const DcganOptions& options) {
  const int stages = detail::dcgan_stages(image_size, "make_dcgan_discriminator");
  detail::check_dcgan_options(options, "make_dcgan_discriminator");
  if (channels <= 0) throw ArgumentError("make_dcgan_discriminator: channels must be positive");
  auto d = std::make_unique<Sequential<T>>();
  d->set_name("discriminator");
  using Opt = Conv2dOptions;
  const Index features = options.features;
  const bool batch_norm = options.batch_norm;
  Index in = channels;
  if (options.num_classes > 0) {
    d->template emplace<Conditioning<T>>(
        "cond", channels, options.num_classes, rng,
        ConditioningOptions{.height = image_size, .width = image_size});
    in += options.num_classes;
  }
  const Opt leaky{.stride = 2,
                  .padding = 1,
                  .bias = false,
                  .activation = Activation::leaky_relu,
                  .negative_slope = 0.2};
  d->template emplace<Conv2d<T>>("conv1", in, features, 4, image_size, image_size, rng, leaky);
  Index size = image_size / 2, width = features;
  for (int i = 2; i <= stages; ++i) {
    const std::string n = std::to_string(i);
    d->template emplace<Conv2d<T>>("conv" + n, width, 2 * width, 4, size, size, rng,
                                   Opt{.stride = 2, .padding = 1, .bias = false});
    detail::add_dcgan_norm_activation(*d, n, 2 * width, batch_norm, Activation::leaky_relu);
    size /= 2;
    width *= 2;
  }
  d->template emplace<Conv2d<T>>("conv" + std::to_string(stages + 1), width, 1, 4, size, size, rng,
                                 Opt{.stride = 1, .padding = 0, .bias = false});
  dcgan_init(*d, rng);
  return d;
}

/// PyTorch's DCGAN discriminator of width `features` (ndf), with or without BatchNorm.
template <class T>
std::unique_ptr<Sequential<T>> make_dcgan_discriminator(Index channels, Index image_size, Rng& rng,
                                                        Index features = 64,
                                                        bool batch_norm = true) {
  return make_dcgan_discriminator<T>(channels, image_size, rng,
                                     DcganOptions{.features = features, .batch_norm = batch_norm});
}

}  // namespace aigc
