/// @file
/// aigc: the conditional VAE: the label goes into the encoder and the decoder through
/// conditioning layers; the loss, the reparameterisation and the optimiser are VaeTrainer's.
/// The decoder sees the label before each of its layers. With VaeOptions::kl_weight 1 the encoder
/// still puts the class into z and prior draws decoded with a label follow z; a KL weight of 3
/// drives the class out of z (docs/evaluation.md).
#pragma once

#include <chrono>
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

/// Trains a CVAE: sets each batch's labels on the encoder's and the decoder's conditioning layers,
/// then runs VaeTrainer's step (BCE + KL, reparameterisation, Adam) on the batch.
template <class T>
class CvaeTrainer {
 public:
  /// A trainer of `encoder` and `decoder` (which must outlive it) whose conditioning layers
  /// `encoder_labels` and `decoder_labels` receive each batch's labels.
  CvaeTrainer(Module<T>& encoder, Module<T>& decoder, std::vector<Conditioning<T>*> encoder_labels,
              std::vector<Conditioning<T>*> decoder_labels, VaeOptions options)
      : vae_(encoder, decoder, options), labelled_(std::move(encoder_labels)) {
    const std::size_t in_encoder = labelled_.size();
    labelled_.insert(labelled_.end(), decoder_labels.begin(), decoder_labels.end());
    if (in_encoder == 0 || in_encoder == labelled_.size()) {
      throw ArgumentError("CvaeTrainer: the encoder and the decoder need a Conditioning layer each");
    }
    for (const Conditioning<T>* c : labelled_) {
      if (c->num_classes() != labelled_[0]->num_classes()) {
        throw ArgumentError("CvaeTrainer: conditioning layer '" + c->name() + "' has " +
                            std::to_string(c->num_classes()) + " classes, '" +
                            labelled_[0]->name() + "' " +
                            std::to_string(labelled_[0]->num_classes()));
      }
    }
  }
  /// A trainer whose every Conditioning layer of `encoder` and `decoder` receives the labels.
  CvaeTrainer(Sequential<T>& encoder, Sequential<T>& decoder, VaeOptions options)
      : CvaeTrainer(encoder, decoder, conditioning_layers(encoder), conditioning_layers(decoder),
                    options) {}

  /// One optimisation step on a batch and its labels; returns the summed (BCE, KL).
  std::pair<double, double> step(const Tensor<T>& x, const std::vector<int>& labels) {
    set_labels(labels, x.rows());
    return vae_.step(x);
  }

  /// One pass over the loader's epoch (images and labels).
  VaeEpochStats train_epoch(BatchLoader<T>& loader) {
    VaeEpochStats s;
    const auto t0 = std::chrono::steady_clock::now();
    while (loader.next(batch_, &labels_)) {
      const auto [b, k] = step(batch_, labels_);
      s.bce += b;
      s.kl += k;
      s.samples += batch_.rows();
    }
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    s.bce /= static_cast<double>(s.samples);
    s.kl /= static_cast<double>(s.samples);
    s.train_loss = s.bce + s.kl;
    return s;
  }

  /// Test loss per sample (eval mode, one sampled z per image), labels from the data set.
  double evaluate(const Dataset<T>& data, Index batch_size = 1000) {
    if (static_cast<Index>(data.labels.size()) != data.size()) {
      throw ArgumentError("CvaeTrainer::evaluate: the data set has " +
                          std::to_string(data.labels.size()) + " labels for " +
                          std::to_string(data.size()) + " images");
    }
    double total = 0.0;
    for (Index begin = 0; begin < data.size(); begin += batch_size) {
      const Index rows = std::min(batch_size, data.size() - begin);
      batch_ = data.images.middleRows(begin, rows);
      labels_.assign(data.labels.begin() + begin, data.labels.begin() + begin + rows);
      set_labels(labels_, rows);
      total += vae_.batch_loss(batch_);
    }
    return total / static_cast<double>(data.size());
  }

  /// Decodes latent codes with the given labels into images in [0, 1].
  Tensor<T> decode(const Tensor<T>& z, const std::vector<int>& labels) {
    set_labels(labels, z.rows());
    return vae_.decode(z);
  }

  /// Reconstructions of x (with its labels) in [0, 1] through one sampled z each.
  Tensor<T> reconstruct(const Tensor<T>& x, const std::vector<int>& labels) {
    set_labels(labels, x.rows());
    return vae_.reconstruct(x);
  }

  /// The VAE machinery underneath (optimiser, RNG, latent size) for checkpoints.
  VaeTrainer<T>& vae() { return vae_; }

 private:
  void set_labels(const std::vector<int>& labels, Index rows) {
    if (static_cast<Index>(labels.size()) != rows) {
      throw ArgumentError("CvaeTrainer: " + std::to_string(labels.size()) + " labels for " +
                          std::to_string(rows) + " rows");
    }
    for (Conditioning<T>* c : labelled_) c->set_labels(labels);
  }

  VaeTrainer<T> vae_;
  std::vector<Conditioning<T>*> labelled_;  ///< the encoder's conditioning layers, then the decoder's
  Tensor<T> batch_;
  std::vector<int> labels_;
};

}  // namespace aigc
