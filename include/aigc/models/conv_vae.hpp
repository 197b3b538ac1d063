/// @file
/// aigc: a convolutional VAE's encoder and decoder for channels x size x size images (3 x 64 x 64
/// with latent 128 is the colour model), trained by VaeTrainer like the MLP ones.
#pragma once

#include <memory>
#include <string>

#include "aigc/core/rng.hpp"
#include "aigc/layers/conv2d.hpp"
#include "aigc/layers/conv_transpose2d.hpp"
#include "aigc/layers/dense.hpp"
#include "aigc/layers/reshape.hpp"
#include "aigc/layers/sequential.hpp"

namespace aigc {

namespace detail {
/// Halvings from size x size down to 4 x 4; size must be a power of two in [8, 256].
inline int conv_vae_stages(Index image_size, const char* builder) {
  for (int k = 1; k <= 6; ++k) {
    if (image_size == (Index{4} << k)) return k;
  }
  throw ArgumentError(std::string(builder) +
                      ": image size must be a power of two in [8, 256], got " +
                      std::to_string(image_size));
}
}  // namespace detail

/// The encoder: channels x size x size -> Conv k4 s2 p1 + ReLU, `features` channels, doubling
/// per halving, down to 4 x 4 -> Flatten -> Dense to [mu | logvar] (2 * latent). At 3 x 64 x 64:
/// 32 (32x32), 64 (16x16), 128 (8x8), 256 (4x4), then 4096 -> 256.
template <class T>
std::unique_ptr<Sequential<T>> make_conv_vae_encoder(Index channels, Index image_size, Index latent,
                                                     Rng& rng, Index features = 32) {
  const int stages = detail::conv_vae_stages(image_size, "make_conv_vae_encoder");
  if (channels <= 0 || latent <= 0 || features <= 0) {
    throw ArgumentError("make_conv_vae_encoder: channels, latent and features must be positive");
  }
  auto enc = std::make_unique<Sequential<T>>();
  enc->set_name("encoder");
  Index in = channels, width = features, size = image_size;
  for (int i = 1; i <= stages; ++i) {
    enc->template emplace<Conv2d<T>>(
        "conv" + std::to_string(i), in, width, 4, size, size, rng,
        Conv2dOptions{.stride = 2, .padding = 1, .activation = Activation::relu});
    in = width;
    width *= 2;
    size /= 2;
  }
  enc->template emplace<Flatten<T>>("flatten");
  enc->template emplace<Dense<T>>("fc", in * 16, 2 * latent, rng);
  return enc;
}

/// The decoder, the encoder mirrored: latent -> Dense + ReLU to features * 2^(k-1) x 4 x 4 ->
/// ConvT k4 s2 p1 + ReLU halving the channels per doubling -> ConvT to channels x size x size:
/// logits (the sigmoid is in VaeTrainer's BCE).
template <class T>
std::unique_ptr<Sequential<T>> make_conv_vae_decoder(Index latent, Index channels, Index image_size,
                                                     Rng& rng, Index features = 32) {
  const int stages = detail::conv_vae_stages(image_size, "make_conv_vae_decoder");
  if (channels <= 0 || latent <= 0 || features <= 0) {
    throw ArgumentError("make_conv_vae_decoder: channels, latent and features must be positive");
  }
  auto dec = std::make_unique<Sequential<T>>();
  dec->set_name("decoder");
  Index width = features << (stages - 1), size = 4;
  dec->template emplace<Dense<T>>("fc", latent, width * 16, rng,
                                  DenseOptions{.activation = Activation::relu});
  dec->template emplace<Reshape<T>>("reshape", std::vector<Index>{width, 4, 4});
  using Opt = ConvTranspose2dOptions;
  for (int i = 1; i <= stages; ++i) {
    const bool last = i == stages;
    const Index out = last ? channels : width / 2;
    dec->template emplace<ConvTranspose2d<T>>(
        "conv" + std::to_string(i), width, out, 4, size, size, rng,
        last ? Opt{.stride = 2, .padding = 1}
             : Opt{.stride = 2, .padding = 1, .activation = Activation::relu});
    width = out;
    size *= 2;
  }
  return dec;
}

}  // namespace aigc
