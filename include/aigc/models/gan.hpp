/// @file
/// aigc: the GAN training loop over any generator and discriminator (and its conditional variant,
/// the cGAN), and the builders of the MLP GAN.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "aigc/core/module.hpp"
#include "aigc/core/process_group.hpp"
#include "aigc/core/rng.hpp"
#include "aigc/core/state.hpp"
#include "aigc/data/loader.hpp"
#include "aigc/kernels/update.hpp"
#include "aigc/layers/conditioning.hpp"
#include "aigc/layers/dense.hpp"
#include "aigc/layers/diff_augment.hpp"
#include "aigc/layers/module_tree.hpp"
#include "aigc/layers/precision.hpp"
#include "aigc/layers/sequential.hpp"
#include "aigc/layers/spectral_norm.hpp"
#include "aigc/losses/gan.hpp"
#include "aigc/losses/r1.hpp"
#include "aigc/models/step_value.hpp"
#include "aigc/optim/adam.hpp"
#include "aigc/optim/data_parallel.hpp"
#include "aigc/optim/ema.hpp"

namespace aigc {

/// The MLP generator: z (+ one-hot label when num_classes > 0) -> 256 -> 512 -> out, LeakyReLU(0.2)
/// between, tanh at the end (images in [-1, 1]). A conditional one starts with a Conditioning
/// layer "cond" whose labels the trainer sets.
template <class T>
std::unique_ptr<Sequential<T>> make_mlp_generator(Index latent, Index out, Rng& rng,
                                                  int num_classes = 0) {
  auto g = std::make_unique<Sequential<T>>();
  g->set_name("generator");
  Index in = latent;
  if (num_classes > 0)
    in = g->template emplace<Conditioning<T>>("cond", latent, num_classes, rng).out_features();
  const DenseOptions leaky{.activation = Activation::leaky_relu, .negative_slope = 0.2};
  g->template emplace<Dense<T>>("fc1", in, 256, rng, leaky);
  g->template emplace<Dense<T>>("fc2", 256, 512, rng, leaky);
  g->template emplace<Dense<T>>("fc3", 512, out, rng, DenseOptions{.activation = Activation::tanh});
  return g;
}

/// The MLP discriminator: image (+ one-hot label) -> 512 -> 256 -> 1 logit, LeakyReLU(0.2).
template <class T>
std::unique_ptr<Sequential<T>> make_mlp_discriminator(Index in, Rng& rng, int num_classes = 0) {
  auto d = std::make_unique<Sequential<T>>();
  d->set_name("discriminator");
  Index width = in;
  if (num_classes > 0)
    width = d->template emplace<Conditioning<T>>("cond", in, num_classes, rng).out_features();
  const DenseOptions leaky{.activation = Activation::leaky_relu, .negative_slope = 0.2};
  d->template emplace<Dense<T>>("fc1", width, 512, rng, leaky);
  d->template emplace<Dense<T>>("fc2", 512, 256, rng, leaky);
  d->template emplace<Dense<T>>("fc3", 256, 1, rng);
  return d;
}

/// Adam as PyTorch's DCGAN example sets it: lr 2e-4, betas (0.5, 0.999).
inline AdamOptions gan_adam_defaults() { return {.lr = 2e-4, .beta1 = 0.5, .beta2 = 0.999}; }

/// Options of a GanTrainer.
struct GanOptions {
  Index latent = 64;                           ///< size of the noise z
  GanObjective objective = GanObjective::bce;  ///< the losses of D and G
  int d_steps = 1;                             ///< discriminator steps per generator step
  double label_smoothing = 0.0;                ///< one-sided: real targets 1 - s (bce and lsgan)
  double clip = 0.01;  ///< wasserstein: D's weights clipped to [-clip, clip] per D step
  AdamOptions adam_g = gan_adam_defaults();  ///< G's optimiser
  AdamOptions adam_d = gan_adam_defaults();  ///< D's optimiser
  LrSchedule schedule_g{};                   ///< G's learning-rate schedule (constant)
  LrSchedule schedule_d{};                   ///< D's learning-rate schedule (constant)
  Index fixed_samples = 64;  ///< size of the fixed noise batch behind the per-epoch grids
  std::uint64_t seed = 0;    ///< seed of the noise, the fake labels and the fixed batch
  /// An exponential moving average of G's parameters and buffers, updated after every G step;
  /// sample(), generate(), sample_fixed() and with_sampling_weights() use it (off: G itself).
  bool ema = false;
  EmaOptions ema_options{};  ///< its decay (0.999) and warm-up
  /// With ema on: G's BatchNorm running statistics for sampling are recomputed for the averaged
  /// weights (update_batchnorm) from about this many fresh codes, in train-mode batches the size
  /// of the training batch, instead of averaging the raw G's running statistics (which belong
  /// to weights the average is not). 0: the averaged statistics. Training does not change.
  Index ema_batchnorm_codes = 2048;
  /// Spectral normalisation of every Dense, Conv2d and ConvTranspose2d of D (of G), applied by
  /// the trainer's constructor; layers normalised beforehand (apply_spectral_norm) count too.
  /// Every step starts with one power iteration of each normalised layer of G and D.
  bool spectral_norm_d = false;
  bool spectral_norm_g = false;  ///< see spectral_norm_d
  /// The precision of G's and D's products (set_precision, applied by the trainer's
  /// constructor): Precision::bf16 takes them on bfloat16 operands with FP32 sums.
  Precision precision = Precision::fp32;
  /// DiffAugment (colour, translation, cutout) of the real and the fake images before D, in the
  /// D step and the G step (G's gradient flows back through it).
  bool diffaugment = false;
  DiffAugmentOptions augment{};  ///< which transforms DiffAugment applies
  /// ADA's adaptive probability: each transform applies with probability p, from 0, adjusted
  /// every ada_interval D steps by sign(r_t - ada_target) * images / (ada_kimg * 1000), with
  /// r_t = E[sign(D(real))] over those steps. The transforms are DiffAugment's (augment), with
  /// or without the diffaugment option (which alone keeps p = 1).
  bool ada = false;
  double ada_target = 0.6;  ///< the target of r_t
  int ada_interval = 4;     ///< D steps between adjustments
  double ada_kimg = 100.0;  ///< thousands of images for p to move from 0 to 1
  /// The {C, H, W} of the images augmented; empty: G's output shape when it is {C, H, W}, else
  /// {1, s, s} for a square grey image of s * s values.
  SampleShape image_shape{};
  /// > 0: the R1 penalty gamma / 2 * mean |grad_x D(x)|^2 on the real batch (as D sees it), by
  /// r1_penalty (losses/r1.hpp); its value is added to d_loss in the D steps that compute it.
  double r1_gamma = 0.0;
  double r1_step = 1e-2;  ///< r1_penalty's finite-difference step (rms of the image change)
  /// D steps per R1 penalty (StyleGAN2's lazy regularisation): the penalty's gradient, weighted
  /// by r1_gamma * r1_interval, in D steps 0, k, 2k, ... only, so that it costs 1/k as much
  /// (the penalty changes slowly; 16 is StyleGAN2's choice). 1: every D step.
  int r1_interval = 1;
  /// Conditional GANs: the relative frequencies (num_classes values, >= 0, not all 0) the fake
  /// labels are drawn with, e.g. class_counts(train), so that D cannot tell a fake image by a
  /// label that real images seldom carry (a folder whose classes hold 4 and 900 images). Empty,
  /// or all equal: uniformly, one Rng::below(num_classes) per label.
  std::vector<double> class_frequencies{};
};

/// The statistics of one step: D's loss (real + fake terms), G's loss (when a G step ran), and
/// D's mean output on the real and the fake batch (sigmoid(logit) for bce, the raw logit else).
struct GanStepStats {
  double d_loss = 0.0;  ///< D's loss, real + fake terms (+ the R1 penalty when on)
  double g_loss = 0.0;  ///< G's loss (0 without a G step)
  double d_real = 0.0;  ///< D's mean output on the real batch
  double d_fake = 0.0;  ///< D's mean output on the fake batch
  bool g_step = false;  ///< whether a G step ran

  /// The named values fit shows and logs: d_loss, g_loss (weight 0 without a G step), d_real,
  /// d_fake.
  std::array<StepValue, 4> values() const {
    return {StepValue{"d_loss", d_loss}, StepValue{"g_loss", g_loss, g_step ? 1.0 : 0.0},
            StepValue{"d_real", d_real}, StepValue{"d_fake", d_fake}};
  }
};

/// Means over an epoch's steps, and its time.
struct GanEpochStats {
  double d_loss = 0.0;   ///< mean of D's loss over the D steps
  double g_loss = 0.0;   ///< mean of G's loss over the G steps
  double d_real = 0.0;   ///< mean of D's mean output on the real batches
  double d_fake = 0.0;   ///< mean of D's mean output on the fake batches
  double seconds = 0.0;  ///< wall-clock time of the epoch
  Index samples = 0;     ///< real images seen
  Index d_steps = 0;     ///< D steps taken
  Index g_steps = 0;     ///< G steps taken
};

/// Trains G (z -> image) against D (image -> one logit per row) with separate Adam optimisers:
/// every step() is one D step (on a real batch and a fresh fake batch of the same size); every
/// d_steps-th step is followed by one G step on that same fake batch (as PyTorch's DCGAN example
/// does). The G step runs D's backward with needs_param_grads off, so D's gradients are neither
/// touched nor computed, and its dX feeds G's backward. The conditional GAN (CganTrainer) is the
/// same trainer with conditioning layers in G and D: the labels of each real batch go to D's;
/// fakes get uniformly drawn labels, given to G's and D's.
template <class T>
class GanTrainer {
 public:
  /// An unconditional GAN of `generator` and `discriminator`, which must outlive the trainer.
  GanTrainer(Module<T>& generator, Module<T>& discriminator, GanOptions options)
      : GanTrainer(generator, discriminator, {}, {}, options) {}

  /// One D step on the real batch, then a G step every d_steps-th call.
  GanStepStats step(const Tensor<T>& real) {
    if (conditional()) throw ArgumentError("CganTrainer::step: a conditional GAN needs the labels");
    return train_step(real, nullptr);
  }
  /// One D step on the real batch and its labels (a conditional GAN), then a G step every
  /// d_steps-th call.
  GanStepStats step(const Tensor<T>& real, const std::vector<int>& labels) {
    require_conditional("step");
    return train_step(real, &labels);
  }

  /// One pass over the rest of the loader's epoch (with its labels, for a conditional GAN);
  /// on_step (if given) runs after every step with its statistics, e.g. to write a checkpoint.
  GanEpochStats train_epoch(BatchLoader<T>& loader,
                            const std::function<void(const GanStepStats&)>& on_step = {}) {
    GanEpochStats e;
    const auto t0 = std::chrono::steady_clock::now();
    while (loader.next(batch_, conditional() ? &labels_ : nullptr)) {
      const GanStepStats s = train_step(batch_, conditional() ? &labels_ : nullptr);
      e.d_loss += s.d_loss;
      e.d_real += s.d_real;
      e.d_fake += s.d_fake;
      ++e.d_steps;
      if (s.g_step) {
        e.g_loss += s.g_loss;
        ++e.g_steps;
      }
      e.samples += batch_.rows();
      if (on_step) on_step(s);
    }
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (e.d_steps > 0) {
      e.d_loss /= static_cast<double>(e.d_steps);
      e.d_real /= static_cast<double>(e.d_steps);
      e.d_fake /= static_cast<double>(e.d_steps);
    }
    if (e.g_steps > 0) e.g_loss /= static_cast<double>(e.g_steps);
    return e;
  }

  /// G's images (eval mode) of the fixed noise batch (and, for a cGAN, the fixed labels: class
  /// i * classes / fixed_samples for row i), comparable across epochs.
  Tensor<T> sample_fixed() { return forward_g(fixed_z_, conditional() ? &fixed_labels_ : nullptr); }

  /// G's images (eval mode) of n draws of z ~ N(0, I) from the sampling generator (seeded by the
  /// options, apart from the training noise and not part of the saved state).
  Tensor<T> sample(Index n) { return generate(draw_z(n)); }
  /// G's images of n draws of z with the given labels (a conditional GAN).
  Tensor<T> sample(Index n, const std::vector<int>& labels) { return generate(draw_z(n), labels); }

  /// G's images (eval mode) of the given codes.
  Tensor<T> generate(const Tensor<T>& z) {
    if (conditional()) {
      throw ArgumentError("CganTrainer::generate: a conditional GAN needs the labels");
    }
    return forward_g(z, nullptr);
  }
  /// G's images (eval mode) of the given codes and labels (a conditional GAN).
  Tensor<T> generate(const Tensor<T>& z, const std::vector<int>& labels) {
    require_conditional("generate");
    return forward_g(z, &labels);
  }

  /// The full training state: G's and D's parameters ("param/...") and buffers ("buffer/..."),
  /// both Adams ("optim_g/...", "optim_d/..."), the training RNG ("rng/gan"), the modules' own
  /// generators (Dropout's, "module_rng/..."), the D step count and the latent size ("gan/..."),
  /// and with the ema option G's moving averages ("ema/...").
  /// Data parallel with a sharded update (set_process_group), the Adams' moments are current on
  /// each process only for the values it updates until consolidate_state() gathers them;
  /// save_state refuses to write them before.
  void save_state(StateDict& s) {
    if (update_g_.state_spread() || update_d_.state_spread()) {
      throw Error(
          "GanTrainer::save_state: the Adams' moments are spread over the processes of the "
          "sharded update; call consolidate_state() on every process first (fit does)");
    }
    save_params(s, opt_g_.params());
    save_params(s, opt_d_.params());
    save_buffers(s, buffers());
    save_optimizer(s, opt_g_, "optim_g/");
    save_optimizer(s, opt_d_, "optim_d/");
    save_rng(s, "rng/gan", rng_);
    save_rngs(s, rngs());
    s.put_int("gan/d_step_count", d_count_);
    s.put_int("gan/latent", o_.latent);
    if (ema_) ema_->save_state(s, "ema/");
    if (augment_) {
      save_rng(s, "rng/augment", augment_->rng());
      const double ada[3] = {augment_->probability(), ada_sum_, ada_count_};
      s.put_array("augment/ada", ada, 1, 3);
    }
  }

  /// Restores what save_state saved; every name and shape must match this model.
  void load_state(const StateDict& s) {
    ema_batchnorm_updates_ = -1;  // other weights, perhaps at the same update count
    const std::int64_t latent = s.get_int("gan/latent");
    if (latent != o_.latent) {
      throw ShapeError((s.source.empty() ? "state" : s.source) + ": latent size " +
                       std::to_string(latent) + " in the checkpoint but " +
                       std::to_string(o_.latent) + " in the model");
    }
    std::vector<Param<T>*> all = opt_g_.params();
    for (Param<T>* p : opt_d_.params()) all.push_back(p);
    load_params(s, all);
    load_buffers(s, buffers());
    load_optimizer(s, opt_g_, "optim_g/");
    load_optimizer(s, opt_d_, "optim_d/");
    update_g_.state_loaded();
    update_d_.state_loaded();
    load_rng(s, "rng/gan", rng_);
    load_rngs(s, rngs());
    const std::int64_t count = s.get_int("gan/d_step_count");
    if (count < 0) {
      throw FileError((s.source.empty() ? "state" : s.source) + ": negative D step count " +
                      std::to_string(count));
    }
    d_count_ = count;
    if (ema_) ema_->load_state(s, "ema/");
    if (augment_) {
      load_rng(s, "rng/augment", augment_->rng());
      double ada[3];
      s.get_array("augment/ada", ada, 3);
      augment_->set_probability(ada[0]);
      ada_sum_ = ada[1];
      ada_count_ = ada[2];
    }
  }

  /// Runs f() with the weights that sample() uses in G: the moving averages when the ema option
  /// is on (swapped in for the call, and back even when f throws), G's own weights else; e.g. to
  /// export the averaged generator.
  /// With ema_batchnorm_codes, G's BatchNorm statistics are those of the averaged weights for
  /// the call (recomputed once per G update; G's buffers are as before afterwards).
  template <class F>
  decltype(auto) with_sampling_weights(F&& f) {
    if (!ema_) return f();
    return ema_->with_average([&]() -> decltype(auto) {
      if (o_.ema_batchnorm_codes <= 0 || !has_batch_norm(g_)) return f();
      const std::vector<Buffer<T>*> buffers = g_.buffers();
      std::vector<Tensor<T>> averaged;
      for (const Buffer<T>* b : buffers) averaged.push_back(b->value);
      struct Back {  // the averages' buffers back, even when f throws
        const std::vector<Buffer<T>*>& buffers;
        std::vector<Tensor<T>>& values;
        ~Back() {
          for (std::size_t i = 0; i < buffers.size(); ++i) buffers[i]->value.swap(values[i]);
        }
      } back{buffers, averaged};
      if (ema_batchnorm_updates_ != ema_->updates()) {
        recompute_ema_batchnorm();
        ema_batchnorm_.clear();
        for (const Buffer<T>* b : buffers) ema_batchnorm_.push_back(b->value);
        ema_batchnorm_updates_ = ema_->updates();
      } else {
        for (std::size_t i = 0; i < buffers.size(); ++i) buffers[i]->value = ema_batchnorm_[i];
      }
      return f();
    });
  }
  /// The augmentation before D (null unless diffaugment or ada is on).
  DiffAugment<T>* augment() { return augment_ ? &*augment_ : nullptr; }
  /// The moving average of G (null unless the ema option is on).
  ExponentialMovingAverage<T>* ema() { return ema_ ? &*ema_ : nullptr; }

  /// Whether this is a cGAN (G and D conditioned on class labels).
  bool conditional() const { return !g_labels_.empty(); }
  /// The number of classes of a conditional GAN (0 otherwise).
  int num_classes() const { return conditional() ? g_labels_[0]->num_classes() : 0; }
  /// The options given at construction.
  const GanOptions& options() const { return o_; }
  /// G's Adam optimiser.
  Adam<T>& generator_optimizer() { return opt_g_; }
  /// D's Adam optimiser.
  Adam<T>& discriminator_optimizer() { return opt_d_; }
  /// The generator of the training steps' noise and fake labels.
  Rng& rng() { return rng_; }
  /// The fixed noise batch behind sample_fixed().
  const Tensor<T>& fixed_noise() const { return fixed_z_; }
  /// The noise and fake labels of the last D step.
  const Tensor<T>& noise() const { return z_; }
  /// The fake labels of the last D step (cGAN).
  const std::vector<int>& fake_labels() const { return fake_labels_; }
  /// The labels behind sample_fixed() (cGAN).
  const std::vector<int>& fixed_labels() const { return fixed_labels_; }
  /// Steps taken so far: D steps (a G step follows every d_steps-th); checkpoints restore it.
  std::int64_t step_count() const { return d_count_; }

  /// Data parallel over `group` (null: this process alone); the group must outlive the trainer.
  /// Every process then passes the same global batch to step(), trains D and G on its own rows
  /// of it (shard_rows) and of the global batch's noise and fake labels, and D's and G's
  /// gradients are averaged over the global batch before each update, so every process applies
  /// the same updates and reports the global batch's values. BatchNorm layers use each
  /// process's own rows, or with synchronize_batch_norm the statistics of the global batch; their
  /// running statistics are process 0's after every step. DiffAugment
  /// draws its transforms per process. With shard_update (the default), each process forms the
  /// sum of only the gradient values the group gives it (ProcessGroup::owned), updates those
  /// values and their moments, and the processes gather the updated values: the same bits as
  /// every process updating everything, with 1 / P of the updates' work each. Set it before the
  /// first step, on every process.
  void set_process_group(ProcessGroup* group, bool synchronize_batch_norm = false,
                         bool shard_update = true) {
    group_ = group;
    shard_update_ = shard_update;
    set_batch_norm_process_group(g_, synchronize_batch_norm ? group : nullptr);
    set_batch_norm_process_group(d_, synchronize_batch_norm ? group : nullptr);
  }
  /// Gives every process both Adams' whole moments after sharded updates (collective: every
  /// process calls it at the same step); what a checkpoint needs, and what fit calls before each
  /// one.
  void consolidate_state() {
    update_g_.consolidate_state(opt_g_);
    update_d_.consolidate_state(opt_d_);
  }
  /// The group set by set_process_group (null when none).
  ProcessGroup* process_group() const { return group_; }

 protected:
  /// A conditional GAN: `g_labels` and `d_labels` are the conditioning layers inside G and D
  /// that receive the labels (both empty: an unconditional GAN).
  GanTrainer(Module<T>& generator, Module<T>& discriminator, std::vector<Conditioning<T>*> g_labels,
             std::vector<Conditioning<T>*> d_labels, GanOptions options)
      : g_(generator),
        d_(discriminator),
        g_labels_(std::move(g_labels)),
        d_labels_(std::move(d_labels)),
        o_(check(options)),
        rng_(options.seed ^ 0x6A11EA5EEDULL),
        sample_rng_(options.seed ^ 0x5A3B1E5EEDULL),
        opt_g_(generator.params(), options.adam_g),
        opt_d_(discriminator.params(), options.adam_d) {
    check_unique_names(generator);  // two tensors of one name would share one checkpoint entry
    check_unique_names(discriminator);
    g_.set_needs_input_grad(false);
    d_.set_needs_input_grad(false);
    opt_g_.set_schedule(o_.schedule_g);
    opt_d_.set_schedule(o_.schedule_d);
    if (o_.precision != Precision::fp32) {
      set_precision(generator, o_.precision);
      set_precision(discriminator, o_.precision);
    }
    if (o_.spectral_norm_d) apply_spectral_norm(discriminator);
    if (o_.spectral_norm_g) apply_spectral_norm(generator);
    spectral_norm_ = spectral_norm_layers(generator);
    for (SpectralNormalizable<T>* l : spectral_norm_layers(discriminator))
      spectral_norm_.push_back(l);
    if (o_.ema) ema_.emplace(generator, o_.ema_options);
    if (o_.diffaugment || o_.ada) {
      augment_.emplace(augment_shape(generator), options.seed ^ 0xA46E5EEDULL, o_.augment);
      augment_->set_probability(o_.ada ? 0.0 : 1.0);
    }
    fixed_z_.resize(o_.fixed_samples, o_.latent);
    Rng fixed(options.seed ^ 0xF1CED5EEDULL);
    fixed.fill_normal(fixed_z_);
    if (g_labels_.empty() != d_labels_.empty()) {
      throw ArgumentError("CganTrainer: G and D need a Conditioning layer each");
    }
    for (const auto* list : {&g_labels_, &d_labels_}) {
      for (const Conditioning<T>* c : *list) {
        if (c->num_classes() != num_classes()) {
          throw ArgumentError("CganTrainer: conditioning layer '" + c->name() + "' has " +
                              std::to_string(c->num_classes()) + " classes, '" +
                              g_labels_[0]->name() + "' " + std::to_string(num_classes()));
        }
      }
    }
    set_fake_label_distribution();
    if (conditional()) {
      fixed_labels_.resize(static_cast<std::size_t>(o_.fixed_samples));
      for (Index i = 0; i < o_.fixed_samples; ++i) {  // in order: one grid row per class
        fixed_labels_[static_cast<std::size_t>(i)] =
            static_cast<int>(i * num_classes() / o_.fixed_samples);
      }
    }
  }

 private:
  /// Checks class_frequencies and keeps their running sums (none when uniform).
  void set_fake_label_distribution() {
    const std::vector<double>& f = o_.class_frequencies;
    if (f.empty()) return;
    if (!conditional()) {
      throw ArgumentError("GanTrainer: class_frequencies are for a conditional GAN (CganTrainer)");
    }
    if (f.size() != static_cast<std::size_t>(num_classes())) {
      throw ArgumentError("CganTrainer: class_frequencies has " + std::to_string(f.size()) +
                          " values for " + std::to_string(num_classes()) + " classes");
    }
    double total = 0.0;
    for (std::size_t c = 0; c < f.size(); ++c) {
      if (!std::isfinite(f[c]) || f[c] < 0.0) {
        throw ArgumentError("CganTrainer: class_frequencies[" + std::to_string(c) + "] is " +
                            std::to_string(f[c]) + " (frequencies are finite and >= 0)");
      }
      total += f[c];
    }
    if (!(total > 0.0)) throw ArgumentError("CganTrainer: class_frequencies are all 0");
    if (std::all_of(f.begin(), f.end(), [&](double v) { return v == f[0]; })) return;
    fake_label_sums_.resize(f.size());
    std::partial_sum(f.begin(), f.end(), fake_label_sums_.begin());
  }

  /// One fake label: uniform, or by class_frequencies (inverse transform of one uniform draw).
  int draw_fake_label() {
    if (fake_label_sums_.empty()) return static_cast<int>(rng_.below(num_classes()));
    const auto first = fake_label_sums_.begin(), last = fake_label_sums_.end();
    const double total = fake_label_sums_.back(), u = rng_.uniform() * total;
    // The first class whose running sum passes u: a class of frequency 0 never does (its sum
    // equals the one before it). A u rounded up to the total goes to the last class that has a
    // frequency, the first whose sum is the total.
    auto it = std::upper_bound(first, last, u);
    if (it == last) it = std::lower_bound(first, last, total);
    return static_cast<int>(it - first);
  }

  GanStepStats train_step(const Tensor<T>& global, const std::vector<int>* global_labels) {
    GanStepStats s;
    global_rows_ = global.rows();
    shard_ = {0, global.rows()};
    const Tensor<T>* real = &global;
    const std::vector<int>* labels = global_labels;
    if (group_) {
      shard_ = shard_rows(global.rows(), group_->rank(), group_->size(), "GanTrainer::step");
      shard_real_ = global.middleRows(shard_.begin, shard_.rows);
      real = &shard_real_;
      if (global_labels && static_cast<Index>(global_labels->size()) == global.rows()) {
        shard_labels_.assign(global_labels->begin() + shard_.begin,
                             global_labels->begin() + shard_.begin + shard_.rows);
        labels = &shard_labels_;
      }
    }
    for (SpectralNormalizable<T>* l : spectral_norm_) l->spectral_norm_power_iteration();
    d_step(*real, labels, s);
    if (o_.ada && (d_count_ + 1) % o_.ada_interval == 0) adjust_ada();
    if (++d_count_ % o_.d_steps == 0) {
      g_step(s);
      s.g_step = true;
    }
    if (group_) detail::broadcast_buffers(*group_, buffers(), pieces_);
    return s;
  }

  void require_conditional(const char* what) const {
    if (!conditional()) {
      throw ArgumentError(std::string("GanTrainer::") + what +
                          ": labels given to an unconditional GAN (no conditioning layer)");
    }
  }

  Tensor<T> draw_z(Index n) {
    Tensor<T> z(n, o_.latent);
    sample_rng_.fill_normal(z);
    return z;
  }

  Tensor<T> forward_g(const Tensor<T>& z, const std::vector<int>* labels) {
    check_cols(z, o_.latent, "GanTrainer::generate (z)");
    return with_sampling_weights([&] {
      set_labels(g_labels_, labels, z.rows(), "GanTrainer::generate");
      g_.set_training(false);
      Tensor<T> out = g_.forward(z);
      g_.set_training(true);
      return out;
    });
  }

  static bool has_batch_norm(Module<T>& m) {
    bool found = false;
    for_each_module<T>(m, [&](Module<T>& x) { found = found || dynamic_cast<BatchNorm<T>*>(&x); });
    return found;
  }

  /// G's BatchNorm statistics for the weights in G now (the averages): ema_batchnorm_codes codes
  /// (whole batches of the training batch's size) from their own generator, seeded by the
  /// options alone, so that every call and every process draws the same; a conditional G's
  /// labels cycle through the classes.
  void recompute_ema_batchnorm() {
    const Index rows = z_.rows() > 0 ? (group_ ? shard_.rows : z_.rows()) : o_.fixed_samples;
    const Index batches = (o_.ema_batchnorm_codes + rows - 1) / rows;
    Rng rng(o_.seed ^ 0xB47C4E5EEDULL);
    Tensor<T> z(rows, o_.latent);
    std::vector<int> labels(static_cast<std::size_t>(rows));
    update_batchnorm(g_, batches, [&](Index k) {
      rng.fill_normal(z);
      if (conditional()) {
        for (Index i = 0; i < rows; ++i)
          labels[static_cast<std::size_t>(i)] = static_cast<int>((k * rows + i) % num_classes());
        set_labels(g_labels_, &labels, rows, "GanTrainer (BatchNorm statistics)");
      }
      g_.forward(z);
    });
  }

  std::vector<Buffer<T>*> buffers() {
    std::vector<Buffer<T>*> b = g_.buffers();
    for (Buffer<T>* q : d_.buffers()) b.push_back(q);
    return b;
  }

  std::vector<NamedRng> rngs() {
    std::vector<NamedRng> r = g_.rngs();
    for (const NamedRng& q : d_.rngs()) r.push_back(q);
    return r;
  }

  /// p += sign(r_t - target) * images / (ada_kimg * 1000), r_t = the mean sign of D(real).
  void adjust_ada() {
    if (ada_count_ == 0.0) return;
    const double r = ada_sum_ / ada_count_;
    const double sign = r > o_.ada_target ? 1.0 : (r < o_.ada_target ? -1.0 : 0.0);
    augment_->set_probability(augment_->probability() + sign * ada_count_ / (o_.ada_kimg * 1000.0));
    ada_sum_ = ada_count_ = 0.0;
  }

  /// The {C, H, W} the augmentation takes (see GanOptions::image_shape).
  SampleShape augment_shape(Module<T>& generator) const {
    if (!o_.image_shape.empty()) return o_.image_shape;
    SampleShape shape = generator.output_shape();
    if (shape.size() == 3) return shape;
    const Index n = sample_size(shape);
    const auto side = static_cast<Index>(std::llround(std::sqrt(static_cast<double>(n))));
    if (n > 0 && side * side == n) return {1, side, side};
    throw ArgumentError(
        "GanTrainer: augmentation needs the image shape {C, H, W} (GanOptions::"
        "image_shape); the generator's output shape is " +
        sample_shape_string(shape));
  }

  static GanOptions check(const GanOptions& o) {
    if (o.latent <= 0) throw ArgumentError("GanTrainer: latent size must be positive");
    if (o.d_steps <= 0) {
      throw ArgumentError("GanTrainer: d_steps must be positive, got " + std::to_string(o.d_steps));
    }
    if (o.objective == GanObjective::wasserstein && !(o.clip > 0.0)) {
      throw ArgumentError("GanTrainer: clip must be > 0 for the wasserstein objective, got " +
                          std::to_string(o.clip));
    }
    if (o.fixed_samples <= 0) throw ArgumentError("GanTrainer: fixed_samples must be positive");
    if (o.ema_batchnorm_codes < 0) {
      throw ArgumentError("GanTrainer: ema_batchnorm_codes must be >= 0, got " +
                          std::to_string(o.ema_batchnorm_codes));
    }
    if (o.ada && !(o.ada_target >= -1.0 && o.ada_target <= 1.0)) {
      throw ArgumentError(
          "GanTrainer: ada_target must be in [-1, 1] (r_t is a mean of signs), got " +
          std::to_string(o.ada_target));
    }
    if (o.ada && (o.ada_interval <= 0 || !(o.ada_kimg > 0.0))) {
      throw ArgumentError("GanTrainer: ada_interval and ada_kimg must be positive");
    }
    if (!(o.r1_gamma >= 0.0) || !(o.r1_step > 0.0) || o.r1_interval <= 0) {
      throw ArgumentError(
          "GanTrainer: r1_gamma must be >= 0, r1_step > 0 and r1_interval > 0, got " +
          std::to_string(o.r1_gamma) + ", " + std::to_string(o.r1_step) + ", " +
          std::to_string(o.r1_interval));
    }
    gan_loss<T>(o.objective, GanTerm::d_real, Tensor<T>::Zero(1, 1), nullptr, o.label_smoothing);
    return o;
  }

  static void set_labels(const std::vector<Conditioning<T>*>& layers,
                         const std::vector<int>* labels, Index rows, const char* where) {
    if (layers.empty()) return;
    if (!labels || static_cast<Index>(labels->size()) != rows) {
      throw ArgumentError(std::string(where) + ": a conditional GAN needs one label per row (" +
                          std::to_string(rows) + "), got " +
                          (labels ? std::to_string(labels->size()) : std::string("none")));
    }
    for (Conditioning<T>* c : layers) c->set_labels(*labels);
  }

  void set_fake_labels(const std::vector<Conditioning<T>*>& layers) {
    for (Conditioning<T>* c : layers) c->set_labels(group_ ? shard_fake_labels_ : fake_labels_);
  }

  /// D's mean output on a batch: sigmoid(logit) for bce, the raw logit otherwise.
  double mean_output(const Tensor<T>& logits) const {
    return o_.objective == GanObjective::bce ? mean_sigmoid(logits)
                                             : logits.template cast<double>().mean();
  }

  void check_logits(const Tensor<T>& logits, Index rows) const {
    if (logits.rows() != rows || logits.cols() != 1) {
      throw ShapeError("GanTrainer: the discriminator must output [" + std::to_string(rows) +
                       " x 1] logits, got " + shape_string(logits));
    }
  }

  static void check_finite(double v, const char* what, std::int64_t step) {
    if (!std::isfinite(v)) {
      throw NumericError(std::string("GanTrainer: ") + what + " is " + std::to_string(v) +
                         " at D step " + std::to_string(step));
    }
  }

  /// D's loss on the real batch and on G(z) for fresh noise z (and labels); D updated.
  void d_step(const Tensor<T>& real, const std::vector<int>* labels, GanStepStats& s) {
    const Index n = real.rows();
    z_.resize(global_rows_, o_.latent);  // the global batch's noise and fake labels
    rng_.fill_normal(z_);
    if (conditional()) {
      fake_labels_.resize(static_cast<std::size_t>(global_rows_));
      for (int& l : fake_labels_) l = draw_fake_label();
      if (group_) {
        shard_fake_labels_.assign(fake_labels_.begin() + shard_.begin,
                                  fake_labels_.begin() + shard_.begin + shard_.rows);
      }
      set_fake_labels(g_labels_);
    }
    if (group_) shard_z_ = z_.middleRows(shard_.begin, shard_.rows);
    g_.set_training(true);
    d_.set_training(true);
    fake_ = &g_.forward(group_ ? shard_z_ : z_);  // G's output: kept (with its caches) for G's step
    check_same_shape(*fake_, real, "GanTrainer: generator output vs real batch");

    opt_d_.zero_grad();
    d_.set_needs_input_grad(false);
    d_.set_needs_param_grads(true);
    set_labels(d_labels_, labels, n, "GanTrainer::step");
    const Tensor<T>& real_in = augment_ ? augment_->forward(real) : real;
    const Tensor<T>& real_logits = d_.forward(real_in);
    check_logits(real_logits, n);
    const double loss_real =
        gan_loss(o_.objective, GanTerm::d_real, real_logits, &dlogits_, o_.label_smoothing);
    const double ada_before[2] = {ada_sum_, ada_count_};
    s.d_real = mean_output(real_logits);
    if (o_.ada) {
      for (Index i = 0; i < n; ++i) {
        const T z = real_logits(i, 0);
        ada_sum_ += z > T(0) ? 1.0 : (z < T(0) ? -1.0 : 0.0);
      }
      ada_count_ += static_cast<double>(n);
    }
    d_.backward(dlogits_);
    // The penalty's value, with its gradient weighted by the interval (lazy R1) in the steps
    // that compute it.
    const double r1 = o_.r1_gamma > 0.0 && d_count_ % o_.r1_interval == 0
                          ? r1_penalty(d_, real_in, o_.r1_gamma * o_.r1_interval, r1_, o_.r1_step) /
                                o_.r1_interval
                          : 0.0;

    if (conditional()) set_fake_labels(d_labels_);
    const Tensor<T>& fake_logits = d_.forward(augment_ ? augment_->forward(*fake_) : *fake_);
    const double loss_fake = gan_loss(o_.objective, GanTerm::d_fake, fake_logits, &dlogits_);
    s.d_fake = mean_output(fake_logits);
    d_.backward(dlogits_);
    s.d_loss = loss_real + loss_fake + r1;
    // With a group, the global batch's means (each process's weighted by its rows).
    const double w = group_ ? static_cast<double>(n) / static_cast<double>(global_rows_) : 1.0;
    double v[5] = {s.d_loss * w, s.d_real * w, s.d_fake * w, ada_sum_ - ada_before[0],
                   ada_count_ - ada_before[1]};
    update_d_.sum(group_, opt_d_, static_cast<T>(w), v, shard_update_, true);
    if (group_) {
      s.d_loss = v[0];
      s.d_real = v[1];
      s.d_fake = v[2];
      ada_sum_ = ada_before[0] + v[3];
      ada_count_ = ada_before[1] + v[4];
    }
    check_finite(s.d_loss, "the discriminator loss", d_count_);
    update_d_.check_finite_grads(opt_d_, "GanTrainer (discriminator)", d_count_);
    update_d_.update(opt_d_);
    if (o_.objective == GanObjective::wasserstein) {
      const T c = static_cast<T>(o_.clip);
      for (Param<T>* p : opt_d_.params()) kernels::clamp(p->value.data(), p->value.size(), -c, c);
    }
  }

  /// G's loss on the last D step's fake batch through the updated D; dX of D (its parameter
  /// gradients untouched) feeds G's backward; G updated.
  void g_step(GanStepStats& s) {
    opt_g_.zero_grad();
    d_.set_needs_input_grad(true);
    d_.set_needs_param_grads(false);
    if (conditional()) set_fake_labels(d_labels_);
    const Tensor<T>& logits = d_.forward(augment_ ? augment_->forward(*fake_) : *fake_);
    s.g_loss = gan_loss(o_.objective, GanTerm::g, logits, &dlogits_);
    const Tensor<T>& dfake_in = d_.backward(dlogits_);
    const Tensor<T>& dfake = augment_ ? augment_->backward(dfake_in) : dfake_in;
    d_.set_needs_param_grads(true);
    d_.set_needs_input_grad(false);
    g_.backward(dfake);
    // With a group, G's gradients and the global batch's loss, at once.
    const double w =
        group_ ? static_cast<double>(fake_->rows()) / static_cast<double>(global_rows_) : 1.0;
    s.g_loss *= w;
    update_g_.sum(group_, opt_g_, static_cast<T>(w), std::span<double>(&s.g_loss, 1), shard_update_,
                  true);
    // Checked after the exchange (every process the same sums); nothing is applied before.
    check_finite(s.g_loss, "the generator loss", d_count_);
    update_g_.check_finite_grads(opt_g_, "GanTrainer (generator)", d_count_);
    update_g_.update(opt_g_);
    if (ema_) ema_->update();
  }

  Module<T>& g_;
  Module<T>& d_;
  std::vector<Conditioning<T>*> g_labels_, d_labels_;
  GanOptions o_;
  Rng rng_, sample_rng_;
  Adam<T> opt_g_, opt_d_;
  bool shard_update_ = true;  ///< data parallel: each process updates its own values
  detail::DataParallelUpdate<T> update_g_, update_d_;
  std::optional<ExponentialMovingAverage<T>> ema_;
  std::vector<Tensor<T>> ema_batchnorm_;     ///< G's buffers recomputed for the averages
  std::int64_t ema_batchnorm_updates_ = -1;  ///< the EMA update they belong to (-1: none)
  std::vector<SpectralNormalizable<T>*> spectral_norm_;  ///< G's and D's normalised layers
  std::optional<DiffAugment<T>> augment_;
  double ada_sum_ = 0.0, ada_count_ = 0.0;  ///< sum of sign(D(real)) and images since adjusting
  R1Workspace<T> r1_;
  std::int64_t d_count_ = 0;
  const Tensor<T>* fake_ = nullptr;
  Tensor<T> z_, dlogits_, fixed_z_, batch_;
  std::vector<int> labels_, fake_labels_, fixed_labels_;
  std::vector<double> fake_label_sums_;  ///< running sums of class_frequencies (empty: uniform)
  ProcessGroup* group_ = nullptr;        ///< data parallel over these processes (null: alone)
  Index global_rows_ = 0;                ///< rows of the step's global batch
  RowShard shard_{};                     ///< this process's rows of it
  Tensor<T> shard_real_, shard_z_;
  std::vector<int> shard_labels_, shard_fake_labels_;
  std::vector<std::span<T>> pieces_;  ///< the exchanges' scratch
};

/// Trains a conditional GAN: GanTrainer whose G's and D's conditioning layers receive labels:
/// step(x, labels), sample(n, labels), generate(z, labels); train_epoch reads the labels from the
/// loader, and sample_fixed() renders class i * classes / fixed_samples in row i.
template <class T>
class CganTrainer : public GanTrainer<T> {
 public:
  /// A trainer of `generator` and `discriminator` (which must outlive it) whose conditioning
  /// layers `g_labels` and `d_labels` receive the labels.
  CganTrainer(Module<T>& generator, Module<T>& discriminator,
              std::vector<Conditioning<T>*> g_labels, std::vector<Conditioning<T>*> d_labels,
              GanOptions options)
      : GanTrainer<T>(generator, discriminator, std::move(g_labels), std::move(d_labels), options) {
    if (!this->conditional())
      throw ArgumentError("CganTrainer: G and D need a Conditioning layer each");
  }
  /// A trainer whose every Conditioning layer of `generator` and `discriminator` receives the
  /// labels.
  CganTrainer(Sequential<T>& generator, Sequential<T>& discriminator, GanOptions options)
      : CganTrainer(generator, discriminator, conditioning_layers(generator),
                    conditioning_layers(discriminator), options) {}
};

}  // namespace aigc
