// What the GAN examples (gan, cgan, dcgan) share: the flags of the objective and the optimiser,
// and the pictures of an epoch.
#pragma once

#include <string>

#include "common/trainer.hpp"

namespace example {

// --lr, --latent, --objective, --d-steps, --label-smoothing, --clip, and the GanOptions they set.
struct GanFlags {
  aigc::GanOptions options;
  std::string objective = "bce";
  double lr = 2e-4;

  GanFlags(CLI::App& app, long latent) {
    options.latent = latent;
    add_number(app, "--lr", lr, "Adam learning rate of G and D");
    add_count(app, "--latent", options.latent, "noise size");
    app.add_option("--objective", objective, "bce (non-saturating), lsgan, hinge or wasserstein");
    add_count(app, "--d-steps", options.d_steps, "discriminator steps per generator step");
    app.add_option("--label-smoothing", options.label_smoothing,
                   "one-sided: real targets 1 - s (bce, lsgan)");
    app.add_option("--clip", options.clip, "wasserstein: D's weights clipped to [-clip, clip]");
  }

  // The options, with the objective parsed and the seed set.
  aigc::GanOptions operator()(std::uint64_t seed) {
    options.objective = aigc::parse_gan_objective(objective);
    options.adam_g.lr = options.adam_d.lr = lr;
    options.seed = seed;
    return options;
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
inline void fit_gan(TrainerFlags& f, const std::string& title, aigc::GanTrainer<float>& trainer,
                    aigc::Module<float>& generator, const aigc::Dataset<float>& train) {
  aigc::BatchLoader<float> loader = f.make_loader(train);
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
