// What the GAN examples (gan, cgan, dcgan) share: the flags of the objective and the optimiser,
// and the pictures of an epoch.
#pragma once

#include <algorithm>
#include <string>

#include "common/trainer.hpp"

namespace example {

// --lr, --latent, --objective, --d-steps, --label-smoothing, --clip, the tools (--lr-g/--lr-d,
// --schedule, --warmup, --ema, --spectral-norm, --diffaugment, --augment-policy, --ada, --r1,
// --r1-every), and the GanOptions they set. Every tool is off by default.
struct GanFlags {
  aigc::GanOptions options;
  std::string objective = "bce", schedule = "constant", spectral_norm = "none";
  std::string augment_policy = "color,translation,cutout";
  double lr = 2e-4, lr_g = 0.0, lr_d = 0.0;
  long warmup = 0;

  GanFlags(CLI::App& app, long latent) {
    options.latent = latent;
    add_number(app, "--lr", lr, "Adam learning rate of G and D");
    add_number(app, "--lr-g", lr_g, "G's learning rate (0: --lr)", true);
    add_number(app, "--lr-d", lr_d, "D's learning rate (0: --lr)", true);
    app.add_option("--schedule", schedule, "learning rates: constant, linear or cosine decay to 0")
        ->check(CLI::IsMember({"constant", "linear", "cosine"}));
    add_count(app, "--warmup", warmup, "learning-rate warm-up steps of each optimiser", true);
    add_count(app, "--latent", options.latent, "noise size");
    app.add_option("--objective", objective, "bce (non-saturating), lsgan, hinge or wasserstein");
    add_count(app, "--d-steps", options.d_steps, "discriminator steps per generator step");
    app.add_option("--label-smoothing", options.label_smoothing,
                   "one-sided: real targets 1 - s (bce, lsgan)");
    app.add_option("--clip", options.clip, "wasserstein: D's weights clipped to [-clip, clip]");
    app.add_flag("--ema", options.ema, "sample and export a moving average of G's weights");
    add_number(app, "--ema-decay", options.ema_options.decay, "decay of --ema");
    add_count(app, "--ema-bn-codes", options.ema_batchnorm_codes,
              "--ema: codes G's BatchNorm statistics are recomputed from for the averaged weights "
              "(0: the averaged statistics)",
              true);
    app.add_option("--spectral-norm", spectral_norm, "spectral normalisation of d, g or both")
        ->check(CLI::IsMember({"none", "d", "g", "both"}));
    app.add_flag("--diffaugment", options.diffaugment,
                 "DiffAugment (colour, translation, cutout) of real and fake images before D");
    app.add_option("--augment-policy", augment_policy,
                   "transforms of --diffaugment and --ada: a comma-separated list of color, "
                   "translation, cutout (DiffAugment's policy)")
        ->check(CLI::Validator(
            [](std::string& v) -> std::string {
              try {
                parse_policy(v);
              } catch (const aigc::ArgumentError& e) {
                return e.what();
              }
              return {};
            },
            "POLICY"));
    app.add_flag("--ada", options.ada, "adaptive augmentation probability (target 0.6)");
    add_number(app, "--ada-target", options.ada_target,
               "--ada: the target of r_t = E[sign(D(real))] (higher: less augmentation)");
    add_number(app, "--ada-kimg", options.ada_kimg,
               "--ada: thousands of images for the probability to move from 0 to 1");
    add_number(app, "--r1", options.r1_gamma, "R1 penalty weight gamma on real images (0: off)",
               true);
    add_count(app, "--r1-every", options.r1_interval,
              "lazy R1: the penalty every N D steps, weighted by N (StyleGAN2 uses 16)");
  }

  // DiffAugment's policy string ("color,translation,cutout", any of the three, in any order) as
  // the augmentation's options; unknown or repeated names and an empty list are refused.
  static aigc::DiffAugmentOptions parse_policy(const std::string& policy) {
    aigc::DiffAugmentOptions o;
    o.colour = o.translation = o.cutout = false;
    for (std::size_t p = 0; p <= policy.size();) {
      const std::size_t q = std::min(policy.find(',', p), policy.size());
      const std::string name = policy.substr(p, q - p);
      bool* on = name == "color" || name == "colour" ? &o.colour
                 : name == "translation"             ? &o.translation
                 : name == "cutout"                  ? &o.cutout
                                                     : nullptr;
      if (on == nullptr || *on) {
        throw aigc::ArgumentError(
            "'" + name + (on ? "' is named twice" : "' is not one of color, translation, cutout"));
      }
      *on = true;
      p = q + 1;
    }
    return o;
  }

  // The options, with the objective parsed, the seed, the images' shape and the precision set.
  aigc::GanOptions operator()(std::uint64_t seed, const aigc::Dataset<float>& data,
                              aigc::Precision precision) {
    options.precision = precision;
    if (data.channels > 0 && data.height > 0)
      options.image_shape = {data.channels, data.height, data.width};
    options.objective = aigc::parse_gan_objective(objective);
    options.adam_g.lr = lr_g > 0 ? lr_g : lr;
    options.adam_d.lr = lr_d > 0 ? lr_d : lr;
    options.augment = parse_policy(augment_policy);
    options.spectral_norm_d = spectral_norm == "d" || spectral_norm == "both";
    options.spectral_norm_g = spectral_norm == "g" || spectral_norm == "both";
    options.seed = seed;
    return options;
  }

  // Sets both optimisers' --schedule and --warmup over a run of `d_steps` D steps.
  void schedule_run(aigc::GanTrainer<float>& trainer, std::int64_t d_steps) const {
    const aigc::LrDecay decay = aigc::parse_lr_decay(schedule);
    trainer.discriminator_optimizer().set_schedule(
        {.decay = decay, .warmup_steps = warmup, .total_steps = d_steps});
    trainer.generator_optimizer().set_schedule(
        {.decay = decay, .warmup_steps = warmup, .total_steps = d_steps / options.d_steps});
  }
};

// Each epoch: the fixed noise batch's grid (samples_epoch_<epoch>.png, samples.png) and the
// interpolation grid: 8 rows of 10 steps along the great circle between two codes drawn from
// seed + 2.
inline std::function<void(aigc::FitEpoch&)> gan_pictures(aigc::GanTrainer<float>& trainer,
                                                         const aigc::Dataset<float>& data,
                                                         std::uint64_t seed) {
  aigc::Rng fixed(seed + 2);
  const aigc::Tensor<float> path =
      aigc::latent_interpolation_grid<float>(8, 10, trainer.options().latent, fixed);
  return [&trainer, path, c = data.channels, h = data.height, w = data.width](aigc::FitEpoch& e) {
    const auto sym = aigc::PixelScale::symmetric;
    epoch_grids(e, aigc::make_grid(trainer.sample_fixed(), c, h, w, 8, sym));
    e.image("interpolation", aigc::make_grid(trainer.generate(path), c, h, w, 10, sym));
  };
}

// Trains an unconditional GAN on `train` with fit (the pictures of gan_pictures each epoch), then
// writes the samples file.
inline void fit_gan(TrainerFlags& f, const GanFlags& gan, const std::string& title,
                    aigc::GanTrainer<float>& trainer, aigc::Module<float>& generator,
                    const aigc::Dataset<float>& train) {
  aigc::BatchLoader<float> loader = f.make_loader(train);
  distribute(trainer);
  gan.schedule_run(trainer, loader.batches_per_epoch() * f.fit.epochs);
  std::printf("aigc %s (%s): %ld images from %s, %d thread(s)\n", title.c_str(),
              aigc::to_string(trainer.options().objective), static_cast<long>(train.size()),
              f.data.c_str(), aigc::num_threads());
  f.fit.on_epoch_end = gan_pictures(trainer, train, f.seed);
  const aigc::FitResult run = aigc::fit(trainer, loader, f.fit);
  write_samples(
      f, run, train, trainer.options().latent, 0, aigc::PixelScale::symmetric,
      [&](const aigc::Tensor<float>& z, const std::vector<int>&) { return trainer.generate(z); });
  f.write_export([&](const std::string& path, const std::vector<std::string>&) {
    trainer.with_sampling_weights([&] {  // the moving average with --ema
      aigc::export_generator(path, generator, trainer.options().latent,
                             {train.channels, train.height, train.width});
    });
  });
}

}  // namespace example
