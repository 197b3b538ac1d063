/// @file
/// aigc: the conditional VAE: the label goes into the encoder and the decoder through
/// conditioning layers; the loss, the reparameterisation and the optimiser are VaeTrainer's.
/// The decoder sees the label before each of its layers. With VaeOptions::kl_weight 1 the encoder
/// still puts the class into z and prior draws decoded with a label follow z; a KL weight of 3
/// drives the class out of z (docs/evaluation.md).
#pragma once

#include <memory>
#include <vector>

#include "aigc/layers/conditioning.hpp"
#include "aigc/models/vae.hpp"

namespace aigc {

/// The VAE example's encoder with a one-hot label appended to the input ("cond" layer first):
/// [x | label] -> hidden ReLU -> [mu | logvar].
template <class T>
std::unique_ptr<Sequential<T>> make_cvae_encoder(Index in, Index hidden, Index latent,
                                                 int num_classes, Rng& rng) {
  auto enc = std::make_unique<Sequential<T>>();
  enc->set_name("encoder");
  const Index width =
      enc->template emplace<Conditioning<T>>("cond", in, num_classes, rng).out_features();
  enc->template emplace<Dense<T>>("fc1", width, hidden, rng,
                                  DenseOptions{.activation = Activation::relu});
  enc->template emplace<Dense<T>>("fc2", hidden, 2 * latent, rng);
  return enc;
}

/// The VAE example's decoder with a one-hot label appended before each layer:
/// [z | label] -> hidden ReLU -> [hidden | label] -> out logits.
template <class T>
std::unique_ptr<Sequential<T>> make_cvae_decoder(Index latent, Index hidden, Index out,
                                                 int num_classes, Rng& rng) {
  auto dec = std::make_unique<Sequential<T>>();
  dec->set_name("decoder");
  const Index width =
      dec->template emplace<Conditioning<T>>("cond", latent, num_classes, rng).out_features();
  dec->template emplace<Dense<T>>("fc3", width, hidden, rng,
                                  DenseOptions{.activation = Activation::relu});
  const Index width2 =
      dec->template emplace<Conditioning<T>>("cond2", hidden, num_classes, rng).out_features();
  dec->template emplace<Dense<T>>("fc4", width2, out, rng);
  return dec;
}

/// Trains a CVAE: VaeTrainer (BCE + KL, reparameterisation, Adam) whose encoder's and decoder's
/// conditioning layers receive each batch's labels: step(x, labels), sample(n, labels),
/// decode(z, labels), reconstruct(x, labels); train_epoch and evaluate read the labels from the
/// data.
template <class T>
class CvaeTrainer : public VaeTrainer<T> {
 public:
  /// A trainer of `encoder` and `decoder` (which must outlive it) whose conditioning layers
  /// `encoder_labels` and `decoder_labels` receive each batch's labels.
  CvaeTrainer(Module<T>& encoder, Module<T>& decoder, std::vector<Conditioning<T>*> encoder_labels,
              const std::vector<Conditioning<T>*>& decoder_labels, VaeOptions options)
      : VaeTrainer<T>(encoder, decoder, std::move(encoder_labels), decoder_labels, options) {
    if (!this->conditional()) {
      throw ArgumentError(
          "CvaeTrainer: the encoder and the decoder need a Conditioning layer each");
    }
  }
  /// A trainer whose every Conditioning layer of `encoder` and `decoder` receives the labels.
  CvaeTrainer(Sequential<T>& encoder, Sequential<T>& decoder, VaeOptions options)
      : CvaeTrainer(encoder, decoder, conditioning_layers(encoder), conditioning_layers(decoder),
                    options) {}
};

}  // namespace aigc
