/// @file
/// aigc: the variational auto-encoder's training loop, over any encoder and decoder.
#pragma once

#include <array>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <vector>

#include "aigc/core/module.hpp"
#include "aigc/core/process_group.hpp"
#include "aigc/core/rng.hpp"
#include "aigc/core/state.hpp"
#include "aigc/data/loader.hpp"
#include "aigc/layers/conditioning.hpp"
#include "aigc/layers/dense.hpp"
#include "aigc/layers/module_tree.hpp"
#include "aigc/layers/precision.hpp"
#include "aigc/layers/sequential.hpp"
#include "aigc/losses/bce.hpp"
#include "aigc/losses/gaussian_kl.hpp"
#include "aigc/models/step_value.hpp"
#include "aigc/optim/adam.hpp"
#include "aigc/optim/data_parallel.hpp"

namespace aigc {

/// The PyTorch example's encoder: in -> hidden ReLU -> [mu | logvar] (2 * latent outputs).
template <class T>
std::unique_ptr<Sequential<T>> make_vae_encoder(Index in, Index hidden, Index latent, Rng& rng) {
  auto enc = std::make_unique<Sequential<T>>();
  enc->set_name("encoder");
  enc->template emplace<Dense<T>>("fc1", in, hidden, rng,
                                  DenseOptions{.activation = Activation::relu});
  enc->template emplace<Dense<T>>("fc2", hidden, 2 * latent, rng);
  return enc;
}

/// The PyTorch example's decoder: latent -> hidden ReLU -> out logits (sigmoid applied by the
/// loss).
template <class T>
std::unique_ptr<Sequential<T>> make_vae_decoder(Index latent, Index hidden, Index out, Rng& rng) {
  auto dec = std::make_unique<Sequential<T>>();
  dec->set_name("decoder");
  dec->template emplace<Dense<T>>("fc3", latent, hidden, rng,
                                  DenseOptions{.activation = Activation::relu});
  dec->template emplace<Dense<T>>("fc4", hidden, out, rng);
  return dec;
}

/// Options of a VaeTrainer.
struct VaeOptions {
  Index latent = 20;            ///< size of z; the encoder outputs 2 * latent values (mu | logvar)
  AdamOptions adam{};           ///< lr 1e-3
  LrSchedule schedule{};        ///< the learning-rate schedule (constant)
  std::uint64_t seed = 0;       ///< seed of the trainer's own noise (z draws)
  double clip_grad_norm = 0.0;  ///< > 0: scale the gradients to at most this joint L2 norm
  bool check_finite = true;     ///< stop with a NumericError on a non-finite loss or gradient
  /// beta of the objective BCE + beta KL (beta-VAE); the reported losses stay BCE and KL.
  double kl_weight = 1.0;
  /// The precision of the encoder's and decoder's products (set_precision, applied by the
  /// trainer's constructor): Precision::bf16 takes them on bfloat16 operands with FP32 sums.
  Precision precision = Precision::fp32;
};

/// The losses of one step, per sample.
struct VaeStepStats {
  double loss = 0.0;  ///< BCE + KL
  double bce = 0.0;   ///< the reconstruction term
  double kl = 0.0;    ///< the KL term
  Index samples = 0;  ///< images in the batch

  /// The named values fit shows and logs: loss, bce, kl, each weighted by the batch's images.
  std::array<StepValue, 3> values() const {
    const double n = static_cast<double>(samples);
    return {StepValue{"loss", loss, n}, StepValue{"bce", bce, n}, StepValue{"kl", kl, n}};
  }
};

/// Loss, per sample, and time of one epoch.
struct VaeEpochStats {
  double train_loss = 0.0;  ///< (BCE + KL) summed over the epoch / number of samples
  double bce = 0.0;         ///< the reconstruction term (BCE), per sample
  double kl = 0.0;          ///< the KL term, per sample
  double seconds = 0.0;     ///< wall-clock time of the epoch
  Index samples = 0;        ///< images seen in the epoch
};

/// Trains an encoder (x -> [mu | logvar]) and a decoder (z -> logits of x) with
/// loss = BCE(sum) + KL(sum), one sampled z per image (reparameterisation), Adam. The conditional
/// VAE (CvaeTrainer) is the same trainer whose conditioning layers receive each batch's labels.
template <class T>
class VaeTrainer {
 public:
  /// A trainer of `encoder` and `decoder`, which must outlive it; Adam over both modules' params().
  VaeTrainer(Module<T>& encoder, Module<T>& decoder, VaeOptions options)
      : VaeTrainer(encoder, decoder, {}, {}, options) {}

  /// One optimisation step on a batch; returns its losses per image. A non-finite loss or
  /// gradient throws NumericError before the parameters change.
  VaeStepStats step(const Tensor<T>& x) {
    if (conditional())
      throw ArgumentError(std::string(name()) + "::step: a conditional VAE needs the labels");
    return train_step(x);
  }
  /// One optimisation step on a batch and its labels (a conditional VAE).
  VaeStepStats step(const Tensor<T>& x, const std::vector<int>& labels) {
    if (group_) {
      if (static_cast<Index>(labels.size()) != x.rows()) set_labels(labels, x.rows());  // throws
      const RowShard s = shard_rows(x.rows(), group_->rank(), group_->size(), name());
      shard_labels_.assign(labels.begin() + s.begin, labels.begin() + s.begin + s.rows);
      set_labels(shard_labels_, s.rows);
    } else {
      set_labels(labels, x.rows());
    }
    return train_step(x);
  }

  /// One pass over the rest of the loader's epoch (with its labels, for a conditional VAE);
  /// on_step (if given) runs after every step with its losses, e.g. to write a checkpoint.
  VaeEpochStats train_epoch(BatchLoader<T>& loader,
                            const std::function<void(const VaeStepStats&)>& on_step = {}) {
    VaeEpochStats e;
    const auto t0 = std::chrono::steady_clock::now();
    double bce = 0.0, kl = 0.0;
    while (loader.next(batch_, conditional() ? &labels_ : nullptr)) {
      const VaeStepStats s = conditional() ? step(batch_, labels_) : step(batch_);
      bce += s.bce * static_cast<double>(s.samples);
      kl += s.kl * static_cast<double>(s.samples);
      e.samples += s.samples;
      if (on_step) on_step(s);
    }
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double n = static_cast<double>(std::max<Index>(e.samples, 1));
    e.bce = bce / n;
    e.kl = kl / n;
    e.train_loss = e.bce + e.kl;
    return e;
  }

  /// Test loss per sample as the PyTorch example computes it: eval mode, one sampled z per image
  /// (labels from the data set, for a conditional VAE).
  double evaluate(const Dataset<T>& data, Index batch_size = 1000) {
    if (conditional() && static_cast<Index>(data.labels.size()) != data.size()) {
      throw ArgumentError(std::string(name()) + "::evaluate: the data set has " +
                          std::to_string(data.labels.size()) + " labels for " +
                          std::to_string(data.size()) + " images");
    }
    set_training(false);
    double total = 0.0;
    for (Index begin = 0; begin < data.size(); begin += batch_size) {
      const Index rows = std::min(batch_size, data.size() - begin);
      batch_ = data.images.middleRows(begin, rows);
      if (conditional()) {
        labels_.assign(data.labels.begin() + begin, data.labels.begin() + begin + rows);
        set_labels(labels_, rows);
      }
      const auto [b, k] = forward_loss(batch_, false);
      total += b + k;
    }
    set_training(true);
    return total / static_cast<double>(data.size());
  }

  /// The summed loss (BCE + KL) of one batch in eval mode, one sampled z per image, no update.
  double batch_loss(const Tensor<T>& x) {
    set_training(false);
    const auto [b, k] = forward_loss(x, false);
    set_training(true);
    return b + k;
  }

  /// Decodes n draws of z ~ N(0, I) into images in [0, 1].
  Tensor<T> sample(Index n) { return decode(draw_z(n)); }
  /// Decodes n draws of z ~ N(0, I) with the given labels (a conditional VAE).
  Tensor<T> sample(Index n, const std::vector<int>& labels) { return decode(draw_z(n), labels); }

  /// Decodes given latent codes into images in [0, 1].
  Tensor<T> decode(const Tensor<T>& z) {
    set_training(false);
    Tensor<T> out = dec_.forward(z);
    kernels::bias_activation_forward<T>(out.data(), nullptr, out.rows(), out.cols(),
                                        Activation::sigmoid, T(0));
    set_training(true);
    return out;
  }
  /// Decodes given latent codes with the given labels (a conditional VAE).
  Tensor<T> decode(const Tensor<T>& z, const std::vector<int>& labels) {
    set_labels(labels, z.rows());
    return decode(z);
  }

  /// Reconstructions of x in [0, 1] through one sampled z each.
  Tensor<T> reconstruct(const Tensor<T>& x) {
    set_training(false);
    forward_loss(x, false);
    Tensor<T> out = dec_.forward(reparam_.forward(mu_, logvar_, eval_rng_));
    kernels::bias_activation_forward<T>(out.data(), nullptr, out.rows(), out.cols(),
                                        Activation::sigmoid, T(0));
    set_training(true);
    return out;
  }
  /// Reconstructions of x with its labels (a conditional VAE).
  Tensor<T> reconstruct(const Tensor<T>& x, const std::vector<int>& labels) {
    set_labels(labels, x.rows());
    return reconstruct(x);
  }

  /// The posterior means of x.
  const Tensor<T>& encode_mean(const Tensor<T>& x) {
    set_training(false);
    forward_loss(x, false);
    set_training(true);
    return mu_;
  }

  /// The full training state: parameters ("param/..."), buffers such as BatchNorm's running
  /// statistics ("buffer/..."), Adam's moments and step count
  /// ("optim/..."), the training and evaluation RNGs ("rng/vae", "rng/vae_eval"), the modules' own
  /// generators (Dropout's, "module_rng/...") and the latent size.
  /// Data parallel with a sharded update (set_process_group), Adam's moments are current on each
  /// process only for the values it updates until consolidate_state() gathers them; save_state
  /// refuses to write them before.
  void save_state(StateDict& s) {
    if (update_.state_spread()) {
      throw Error(std::string(name()) +
                  "::save_state: Adam's moments are spread over the processes of the sharded "
                  "update; call consolidate_state() on every process first (fit does)");
    }
    save_params(s, opt_.params());
    save_buffers(s, buffers());
    save_optimizer(s, opt_);
    save_rng(s, "rng/vae", rng_);
    save_rng(s, "rng/vae_eval", eval_rng_);
    save_rngs(s, rngs());
    s.put_int("vae/latent", o_.latent);
  }

  /// Restores what save_state saved; every name and shape must match this model.
  void load_state(const StateDict& s) {
    const std::int64_t latent = s.get_int("vae/latent");
    if (latent != o_.latent) {
      throw ShapeError((s.source.empty() ? "state" : s.source) + ": latent size " +
                       std::to_string(latent) + " in the checkpoint but " +
                       std::to_string(o_.latent) + " in the model");
    }
    load_params(s, opt_.params());
    load_buffers(s, buffers());
    load_optimizer(s, opt_);
    update_.state_loaded();
    load_rng(s, "rng/vae", rng_);
    load_rng(s, "rng/vae_eval", eval_rng_);
    load_rngs(s, rngs());
  }

  /// Number of optimisation steps taken.
  std::int64_t step_count() const { return opt_.steps(); }

  /// Data parallel over `group` (null: this process alone); the group must outlive the trainer.
  /// Every process then passes the same global batch to step(), trains on its own rows of it
  /// (shard_rows) with its rows of the global batch's noise, and the gradients are summed over
  /// the group before each update, so every process applies the same update and reports the
  /// global batch's losses. BatchNorm layers use each process's own rows, or with
  /// synchronize_batch_norm the statistics of the global batch; their running statistics are
  /// process 0's after every step. With shard_update (the default), each process forms the sum
  /// of only the gradient values the group gives it (ProcessGroup::owned), updates those values
  /// and their moments, and the processes gather the updated values: the same bits as every
  /// process updating everything, with 1 / P of the update's work each (not with
  /// clip_grad_norm, whose norm needs every gradient: then the update is whole). Set it before
  /// the first step, on every process.
  void set_process_group(ProcessGroup* group, bool synchronize_batch_norm = false,
                         bool shard_update = true) {
    group_ = group;
    shard_update_ = shard_update;
    set_batch_norm_process_group(enc_, synchronize_batch_norm ? group : nullptr);
    set_batch_norm_process_group(dec_, synchronize_batch_norm ? group : nullptr);
  }
  /// Gives every process Adam's whole moments after sharded updates (collective: every process
  /// calls it at the same step); what a checkpoint needs, and what fit calls before each one.
  void consolidate_state() { update_.consolidate_state(opt_); }
  /// The group set by set_process_group (null when none).
  ProcessGroup* process_group() const { return group_; }
  /// Whether this is a conditional VAE (its conditioning layers receive labels).
  bool conditional() const { return !labelled_.empty(); }
  /// The number of classes of a conditional VAE (0 otherwise).
  int num_classes() const { return conditional() ? labelled_[0]->num_classes() : 0; }

  /// The Adam optimiser over the encoder's and decoder's parameters.
  Adam<T>& optimizer() { return opt_; }
  /// The generator of the training steps' noise (the reparameterisation's eps); evaluation,
  /// sampling and reconstruction draw from a separate generator.
  Rng& rng() { return rng_; }
  /// The latent size.
  Index latent() const { return o_.latent; }

 protected:
  /// A conditional VAE: `encoder_labels` and `decoder_labels` are the conditioning layers inside
  /// the encoder and the decoder that receive the labels (both empty: an unconditional VAE).
  VaeTrainer(Module<T>& encoder, Module<T>& decoder, std::vector<Conditioning<T>*> encoder_labels,
             const std::vector<Conditioning<T>*>& decoder_labels, VaeOptions options)
      : enc_(encoder),
        dec_(decoder),
        o_(options),
        rng_(options.seed ^ 0xA11CE5EEDULL),
        eval_rng_(options.seed ^ 0xE7A15EEDULL),
        opt_(all_params(encoder, decoder), options.adam),
        labelled_(std::move(encoder_labels)) {
    opt_.set_schedule(o_.schedule);
    check_unique_names(encoder);  // two tensors of one name would share one checkpoint entry
    check_unique_names(decoder);
    if (options.precision != Precision::fp32) {
      set_precision(encoder, options.precision);
      set_precision(decoder, options.precision);
    }
    const std::size_t in_encoder = labelled_.size();
    labelled_.insert(labelled_.end(), decoder_labels.begin(), decoder_labels.end());
    if (!labelled_.empty() && (in_encoder == 0 || in_encoder == labelled_.size())) {
      throw ArgumentError(
          "CvaeTrainer: the encoder and the decoder need a Conditioning layer each");
    }
    for (const Conditioning<T>* c : labelled_) {
      if (c->num_classes() != labelled_[0]->num_classes()) {
        throw ArgumentError("CvaeTrainer: conditioning layer '" + c->name() + "' has " +
                            std::to_string(c->num_classes()) + " classes, '" +
                            labelled_[0]->name() + "' " +
                            std::to_string(labelled_[0]->num_classes()));
      }
    }
    if (options.latent <= 0)
      throw ArgumentError(std::string(name()) + ": latent size must be positive");
    if (!(options.clip_grad_norm >= 0.0)) {
      throw ArgumentError(std::string(name()) + ": clip_grad_norm must be >= 0, got " +
                          std::to_string(options.clip_grad_norm));
    }
    if (!(options.kl_weight >= 0.0) || !std::isfinite(options.kl_weight)) {
      throw ArgumentError(std::string(name()) + ": kl_weight must be finite and >= 0, got " +
                          std::to_string(options.kl_weight));
    }
    enc_.set_needs_input_grad(false);
  }

 private:
  const char* name() const { return conditional() ? "CvaeTrainer" : "VaeTrainer"; }

  void set_labels(const std::vector<int>& labels, Index rows) {
    if (!conditional()) {
      throw ArgumentError(
          "VaeTrainer: labels given to an unconditional VAE (no conditioning layer)");
    }
    if (static_cast<Index>(labels.size()) != rows) {
      throw ArgumentError("CvaeTrainer: " + std::to_string(labels.size()) + " labels for " +
                          std::to_string(rows) + " rows");
    }
    for (Conditioning<T>* c : labelled_) c->set_labels(labels);
  }

  Tensor<T> draw_z(Index n) {
    Tensor<T> z(n, o_.latent);
    eval_rng_.fill_normal(z);
    return z;
  }

  VaeStepStats train_step(const Tensor<T>& global) {
    const Tensor<T>& x = group_ ? shard(global) : global;
    set_training(true);
    // x outlives this step: the encoder's first layer may keep a pointer to it instead of a copy.
    struct StableInput {
      Module<T>& m;
      bool before;
      ~StableInput() { m.set_input_stable(before); }
    } stable{enc_, enc_.input_stable()};
    enc_.set_input_stable(true);
    opt_.zero_grad();
    auto [bce, kl] = forward_loss(x, true, global.rows());
    if (o_.kl_weight != 1.0) {  // d(beta KL)/d(mu, logvar), before the path through z is added
      dmu_ *= static_cast<T>(o_.kl_weight);
      dlogvar_ *= static_cast<T>(o_.kl_weight);
    }
    const Tensor<T>& dz = dec_.backward(dlogits_);
    reparam_.backward(dz, dmu_, dlogvar_);
    dh_.resize(x.rows(), 2 * o_.latent);
    dh_.leftCols(o_.latent) = dmu_;
    dh_.rightCols(o_.latent) = dlogvar_;
    enc_.backward(dh_);
    // The summed losses' gradients and the global batch's loss sums, at once (data parallel).
    double sums[2] = {bce, kl};
    update_.sum(group_, opt_, T(1), sums, shard_update_ && !(o_.clip_grad_norm > 0.0),
                o_.check_finite);
    bce = sums[0];
    kl = sums[1];
    // Checked after the exchange, so that every process makes the same checks on the same sums
    // (a non-finite loss makes non-finite gradients, which nothing has applied yet).
    const std::int64_t step = opt_.steps() + 1;
    if (o_.check_finite && !std::isfinite(bce + kl)) {
      throw NumericError(std::string(name()) + ": step " + std::to_string(step) +
                         ": the loss is not finite (" + (std::isfinite(bce) ? "KL" : "BCE") +
                         "; BCE = " + std::to_string(bce) + ", KL = " + std::to_string(kl) + ")");
    }
    if (o_.check_finite) update_.check_finite_grads(opt_, name(), step);
    if (o_.clip_grad_norm > 0.0) clip_grad_norm(opt_.params(), o_.clip_grad_norm);
    update_.update(opt_);
    if (group_) detail::broadcast_buffers(*group_, buffers(), pieces_);
    const double n = static_cast<double>(global.rows());
    return {.loss = (bce + kl) / n, .bce = bce / n, .kl = kl / n, .samples = global.rows()};
  }

  /// This process's rows of a global batch (data parallel).
  const Tensor<T>& shard(const Tensor<T>& global) {
    const RowShard s = shard_rows(global.rows(), group_->rank(), group_->size(), name());
    shard_ = global.middleRows(s.begin, s.rows);
    return shard_;
  }

  static std::vector<Param<T>*> all_params(Module<T>& a, Module<T>& b) {
    std::vector<Param<T>*> p = a.params();
    for (Param<T>* q : b.params()) p.push_back(q);
    return p;
  }

  std::vector<Buffer<T>*> buffers() {
    std::vector<Buffer<T>*> b = enc_.buffers();
    for (Buffer<T>* q : dec_.buffers()) b.push_back(q);
    return b;
  }

  std::vector<NamedRng> rngs() {
    std::vector<NamedRng> r = enc_.rngs();
    for (const NamedRng& q : dec_.rngs()) r.push_back(q);
    return r;
  }

  void set_training(bool on) {
    enc_.set_training(on);
    dec_.set_training(on);
  }

  /// Encoder, reparameterisation, decoder, BCE + KL; with grads, fills dlogits_, dmu_, dlogvar_.
  /// With a process group and grads, x is this process's shard of a batch of global_rows and
  /// takes its rows of that batch's noise.
  std::pair<double, double> forward_loss(const Tensor<T>& x, bool grads, Index global_rows = 0) {
    const Tensor<T>& h = enc_.forward(x);
    if (h.cols() != 2 * o_.latent) {
      throw ShapeError("VaeTrainer: the encoder must output [batch x " +
                       std::to_string(2 * o_.latent) + "] (mu | logvar), got " + shape_string(h));
    }
    mu_ = h.leftCols(o_.latent);
    logvar_ = h.rightCols(o_.latent);
    const Tensor<T>* zp = nullptr;
    if (grads && group_) {
      reparam_.draw_noise(global_rows, o_.latent, rng_, global_eps_);
      const RowShard s = shard_rows(global_rows, group_->rank(), group_->size(), name());
      shard_eps_ = global_eps_.middleRows(s.begin, s.rows);
      zp = &reparam_.forward_with_noise(mu_, logvar_, shard_eps_);
    } else {
      zp = &reparam_.forward(mu_, logvar_, grads ? rng_ : eval_rng_);
    }
    const Tensor<T>& z = *zp;
    const Tensor<T>& logits = dec_.forward(z);
    check_same_shape(logits, x, "VaeTrainer: decoder output vs input");
    const double bce = bce_with_logits(logits, x, Reduction::sum, grads ? &dlogits_ : nullptr);
    const double kl = gaussian_kl(mu_, logvar_, Reduction::sum, grads ? &dmu_ : nullptr,
                                  grads ? &dlogvar_ : nullptr);
    return {bce, kl};
  }

  Module<T>& enc_;
  Module<T>& dec_;
  VaeOptions o_;
  Rng rng_;       ///< training draws only, so that evaluating or sampling never changes training
  Rng eval_rng_;  ///< evaluate, sample, reconstruct
  Adam<T> opt_;
  Reparameterization<T> reparam_;
  std::vector<Conditioning<T>*> labelled_;  ///< the encoder's conditioning layers, the decoder's
  Tensor<T> batch_, mu_, logvar_, dlogits_, dmu_, dlogvar_, dh_;
  std::vector<int> labels_;
  ProcessGroup* group_ = nullptr;  ///< data parallel over these processes (null: alone)
  Tensor<T> shard_, global_eps_, shard_eps_;
  std::vector<int> shard_labels_;
  bool shard_update_ = true;  ///< data parallel: each process updates its own values
  detail::DataParallelUpdate<T> update_;
  std::vector<std::span<T>> pieces_;  ///< the exchanges' scratch
};

}  // namespace aigc
