// The DCGAN of issue 4 on Fashion-MNIST by default (models/dcgan.hpp): G z(100) -> ConvT to 4x4,
// 7x7, 14x14 with BatchNorm and ReLU, then 28x28 tanh; D Conv to 14x14, 7x7, 3x3 with BatchNorm
// and LeakyReLU(0.2), then one logit. Adam 2e-4 betas (0.5, 0.999), batch 64, images in [-1, 1].
#include <CLI/CLI.hpp>
#include <aigc/aigc.hpp>
#include <aigc/io/idx_writer.hpp>
#include <aigc/io/training_checkpoints.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "common/checkpoint_flags.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Train the DCGAN; writes a grid of the fixed noise batch's samples per epoch"};
  std::string data = aigc::default_fashion_mnist_dir();
  std::string out = "out/dcgan";
  std::string objective = "bce";
  int epochs = 5, d_steps = 1, threads = 0;
  long batch = 64, latent = 100;
  double lr = 2e-4, smoothing = 0.0, clip = 0.01;
  std::uint64_t seed = 0;
  CheckpointFlags checkpoint;
  long fid_samples = 10000;
  app.add_option("--data", data, "folder of MNIST-format IDX files (raw or .gz)");
  app.add_option("--out", out, "output folder");
  app.add_option("--epochs", epochs, "epochs to train")->check(CLI::PositiveNumber);
  app.add_option("--batch-size", batch, "mini-batch size")->check(CLI::PositiveNumber);
  app.add_option("--lr", lr, "Adam learning rate of G and D")->check(CLI::PositiveNumber);
  app.add_option("--latent", latent, "noise size")->check(CLI::PositiveNumber);
  app.add_option("--objective", objective, "bce (non-saturating), lsgan, hinge or wasserstein");
  app.add_option("--d-steps", d_steps, "discriminator steps per generator step")
      ->check(CLI::PositiveNumber);
  app.add_option("--label-smoothing", smoothing, "one-sided: real targets 1 - s (bce, lsgan)");
  app.add_option("--clip", clip, "wasserstein: D's weights clipped to [-clip, clip]");
  app.add_option("--seed", seed, "random seed");
  app.add_option("--fid-samples", fid_samples, "samples written to samples.idx.gz at the end")
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "threads (0: OMP_NUM_THREADS or all cores)")
      ->check(CLI::NonNegativeNumber);
  checkpoint.add_to(app, "D steps");
  CLI11_PARSE(app, argc, argv);

  std::string last_checkpoint = "(none)";
  try {
    aigc::set_num_threads(threads);
    const auto train =
        aigc::load_mnist_format<float>(data, aigc::Split::train, aigc::PixelScale::symmetric);
    std::filesystem::create_directories(out);

    aigc::Rng init(seed);
    auto generator = aigc::make_dcgan_generator<float>(latent, init);
    auto discriminator = aigc::make_dcgan_discriminator<float>(init);
    aigc::GanOptions options;
    options.latent = latent;
    options.objective = aigc::parse_gan_objective(objective);
    options.d_steps = d_steps;
    options.label_smoothing = smoothing;
    options.clip = clip;
    options.adam_g.lr = options.adam_d.lr = lr;
    options.seed = seed;
    aigc::GanTrainer<float> trainer(*generator, *discriminator, options);
    aigc::BatchLoader<float> loader(train, {.batch_size = batch, .shuffle = true, .seed = seed});
    // A checkpoint holds G's and D's parameters and BatchNorm statistics, both Adams, the RNGs
    // and the loader's position: a resumed run is bitwise the uninterrupted one.
    aigc::TrainingCheckpoints checkpoints(
        checkpoint.options(out, "dcgan"), trainer, loader, nullptr,
        [&] { return trainer.d_step_count(); }, last_checkpoint);
    checkpoints.resume(checkpoint.resume);

    std::printf("aigc DCGAN (%s): %ld images from %s, %d thread(s)\n", objective.c_str(),
                static_cast<long>(train.size()), data.c_str(), aigc::num_threads());
    while (loader.epoch() < epochs) {
      const int epoch = static_cast<int>(loader.epoch()) + 1;
      // A resumed epoch's means cover the steps after the checkpoint.
      const auto s = trainer.train_epoch(loader, [&] { checkpoints.save_every(checkpoint.every); });
      char name[64];
      std::snprintf(name, sizeof name, "/samples_epoch_%03d.png", epoch);
      aigc::write_png_grid(out + name, trainer.sample_fixed(), 1, train.height, train.width, 8,
                           aigc::PixelScale::symmetric);
      std::printf(
          "epoch %2d  D loss %.4f  G loss %.4f  D(x) %.3f  D(G(z)) %.3f  (%.2f s)  -> %s%s\n",
          epoch, s.d_loss, s.g_loss, s.d_real, s.d_fake, s.seconds, out.c_str(), name);
      std::fflush(stdout);
      checkpoints.save();
    }
    // Samples for scoring (examples/evaluate): IDX bytes.
    aigc::Rng sampler(seed + 3);
    aigc::Tensor<float> all(fid_samples, train.features()), z;
    for (long begin = 0; begin < fid_samples; begin += 1000) {
      z.resize(std::min(1000L, fid_samples - begin), latent);
      sampler.fill_normal(z);
      all.middleRows(begin, z.rows()) = trainer.generate(z);
    }
    aigc::write_idx_images(out + "/samples.idx.gz", all, train.height, train.width,
                           aigc::PixelScale::symmetric);
    std::printf("wrote %s/samples.idx.gz (%ld samples for examples/evaluate)\n", out.c_str(),
                fid_samples);
  } catch (const aigc::NumericError& e) {
    std::fprintf(stderr, "dcgan: error: %s; the last good checkpoint is %s\n", e.what(),
                 last_checkpoint.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dcgan: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
