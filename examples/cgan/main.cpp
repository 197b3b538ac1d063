// The conditional MLP GAN: the MLP GAN of examples/gan with a one-hot label appended to G's noise
// and to D's image. Each epoch writes a 10 x 10 grid of the fixed noise batch, one row per class.
#include <CLI/CLI.hpp>
#include <aigc/aigc.hpp>
#include <aigc/io/idx_writer.hpp>
#include <aigc/io/training_checkpoints.hpp>
#include <aigc/io/training_log.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "common/checkpoint_flags.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Train the conditional MLP GAN; writes a 10x10 grid (one row per class) per epoch"};
  std::string data = aigc::default_fashion_mnist_dir();
  std::string out = "out/cgan";
  std::string objective = "bce";
  int epochs = 20, d_steps = 1, threads = 0;
  long batch = 64, latent = 64;
  double lr = 2e-4, smoothing = 0.0, clip = 0.01;
  std::uint64_t seed = 0;
  long fid_samples = 10000;
  CheckpointFlags checkpoint;
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
    const int classes = train.num_classes;

    aigc::Rng init(seed);
    auto generator = aigc::make_mlp_generator<float>(latent, train.features(), init, classes);
    auto discriminator = aigc::make_mlp_discriminator<float>(train.features(), init, classes);
    aigc::GanOptions options;
    options.latent = latent;
    options.objective = aigc::parse_gan_objective(objective);
    options.d_steps = d_steps;
    options.label_smoothing = smoothing;
    options.clip = clip;
    options.adam_g.lr = options.adam_d.lr = lr;
    options.fixed_samples = 10 * classes;  // row i of the grid: class i
    options.seed = seed;
    aigc::GanTrainer<float> trainer(*generator, *discriminator,
                                    aigc::conditioning_layer(*generator),
                                    aigc::conditioning_layer(*discriminator), options);
    aigc::BatchLoader<float> loader(train, {.batch_size = batch, .shuffle = true, .seed = seed});
    aigc::EpochSums sums(2);  // D loss, G loss
    aigc::TrainingCheckpoints checkpoints(
        checkpoint.options(out, "cgan"), trainer, loader, &sums,
        [&] { return trainer.d_step_count(); }, last_checkpoint);
    const std::optional<aigc::LogResume> log_resume = checkpoints.resume(checkpoint.resume);

    std::printf("aigc cGAN (%s): %ld images of %d classes from %s, %d thread(s)\n",
                objective.c_str(), static_cast<long>(train.size()), classes, data.c_str(),
                aigc::num_threads());
    // One row per fixed code, one column per class: the same z across the classes.
    aigc::Tensor<float> class_z(10 * classes, latent);
    {
      aigc::Rng fixed(seed + 2);
      aigc::Tensor<float> z(10, latent);
      fixed.fill_normal(z);
      for (aigc::Index i = 0; i < class_z.rows(); ++i) class_z.row(i) = z.row(i / classes);
    }
    std::vector<int> class_labels(static_cast<std::size_t>(10 * classes));
    for (std::size_t i = 0; i < class_labels.size(); ++i)
      class_labels[i] = static_cast<int>(i) % classes;
    aigc::TrainingLog log(out, {"d_loss", "g_loss", "d_real", "d_fake"}, {"d_loss", "g_loss"},
                          "cGAN losses (" + objective + ")", log_resume);
    aigc::Tensor<float> x;
    std::vector<int> labels;
    const auto h = train.height, w = train.width;
    const auto sym = aigc::PixelScale::symmetric;
    const auto per_epoch = loader.batches_per_epoch();
    while (loader.epoch() < epochs) {
      const int epoch = static_cast<int>(loader.epoch()) + 1;
      aigc::Progress progress("epoch " + std::to_string(epoch), per_epoch - loader.batch_index());
      while (loader.next(x, &labels)) {
        const auto s = trainer.step(x, &labels);
        const auto step = trainer.d_step_count();
        sums.add(0, s.d_loss);
        if (s.g_step) sums.add(1, s.g_loss);
        const double g = s.g_step ? s.g_loss : NAN;
        progress.update(x.rows(), {{"D", s.d_loss},
                                   {"G", s.g_step ? s.g_loss : 0.0},
                                   {"D(x)", s.d_real},
                                   {"D(G(z))", s.d_fake}});
        log.step(epoch, step, epoch - 1 + static_cast<double>(loader.batch_index()) / per_epoch,
                 {s.d_loss, g, s.d_real, s.d_fake});
        checkpoints.save_every(checkpoint.every);
      }
      progress.finish();
      const auto step = trainer.d_step_count();
      const double d_mean = sums.mean(0), g_mean = sums.mean(1);
      sums.reset();
      log.epoch(epoch, step, {d_mean, g_mean});
      const aigc::Image samples = aigc::make_grid(trainer.sample_fixed(), 1, h, w, 10, sym);
      char name[64];
      std::snprintf(name, sizeof name, "samples_epoch_%03d", epoch);
      log.image(name, samples, step);
      log.image("samples", samples, step);
      log.image("classes",
                aigc::make_grid(trainer.generate(class_z, &class_labels), 1, h, w, classes, sym),
                step);
      std::printf("epoch %2d  D loss %.4f  G loss %.4f  (%.2f s)\n", epoch, d_mean, g_mean,
                  progress.seconds());
      std::fflush(stdout);
      checkpoints.save();
    }
    // Samples for scoring (examples/evaluate): IDX bytes, with the classes asked for.
    aigc::Rng sampler(seed + 3);
    aigc::Tensor<float> all(fid_samples, train.features()), z(1, latent);
    std::vector<int> asked(static_cast<std::size_t>(fid_samples));
    for (long begin = 0; begin < fid_samples; begin += 1000) {
      const long rows = std::min(1000L, fid_samples - begin);
      z.resize(rows, latent);
      sampler.fill_normal(z);
      std::vector<int> part(static_cast<std::size_t>(rows));
      for (long i = 0; i < rows; ++i)
        part[static_cast<std::size_t>(i)] = asked[static_cast<std::size_t>(begin + i)] =
            static_cast<int>((begin + i) % classes);
      all.middleRows(begin, rows) = trainer.generate(z, &part);
    }
    aigc::write_idx_images(out + "/samples.idx.gz", all, h, w, sym);
    aigc::write_idx_labels(out + "/samples-labels.idx.gz", asked);
    std::printf(
        "%s, samples.idx.gz (%ld samples for examples/evaluate; samples-labels.idx.gz: the classes "
        "asked for)\n",
        log.summary().c_str(), fid_samples);
  } catch (const aigc::NumericError& e) {
    std::fprintf(stderr, "cgan: error: %s; the last good checkpoint is %s\n", e.what(),
                 last_checkpoint.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cgan: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
