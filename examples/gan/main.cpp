// The MLP GAN of issue 4 on Fashion-MNIST by default: G z(64)->256->512->784 tanh, D
// 784->512->256->1, LeakyReLU(0.2), Adam 2e-4 betas (0.5, 0.999), batch 64, images in [-1, 1].
// examples/cgan is the same with class labels.
#include <CLI/CLI.hpp>
#include <aigc/aigc.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>

int main(int argc, char** argv) {
  CLI::App app{"Train the MLP GAN; writes a grid of the fixed noise batch's samples per epoch"};
  std::string data = aigc::default_fashion_mnist_dir();
  std::string out = "out/gan";
  std::string objective = "bce";
  int epochs = 20, d_steps = 1, threads = 0;
  long batch = 64, latent = 64;
  double lr = 2e-4, smoothing = 0.0, clip = 0.01;
  std::uint64_t seed = 0;
  std::string resume, checkpoint_dir, verify;
  long checkpoint_every = 0;
  int keep = 3;
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
  app.add_option("--threads", threads, "threads (0: OMP_NUM_THREADS or all cores)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--checkpoint-every", checkpoint_every,
                 "write a checkpoint every N D steps (0: at the end of each epoch only)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--checkpoint-dir", checkpoint_dir,
                 "checkpoint folder (default: <out>/checkpoints)");
  app.add_option("--keep", keep, "checkpoints kept (0: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--resume", resume,
                 "checkpoint file, or folder whose newest valid checkpoint is resumed");
  app.add_option("--verify", verify,
                 "load a checkpoint into this model (names, shapes, CRC) and exit");
  CLI11_PARSE(app, argc, argv);

  std::string last_checkpoint = "(none)";
  try {
    aigc::set_num_threads(threads);
    if (checkpoint_dir.empty()) checkpoint_dir = out + "/checkpoints";
    // The data fix the image size; --verify needs no data and takes it from the checkpoint.
    aigc::Dataset<float> train;
    aigc::StateDict verified;
    long features = 0;
    if (verify.empty()) {
      train = aigc::load_mnist_format<float>(data, aigc::Split::train, aigc::PixelScale::symmetric);
      features = train.features();
    } else {
      verified = aigc::read_checkpoint(verify);
      features = static_cast<long>(verified.at("param/discriminator.fc1.weight").cols);
    }

    aigc::Rng init(seed);
    auto generator = aigc::make_mlp_generator<float>(latent, features, init);
    auto discriminator = aigc::make_mlp_discriminator<float>(features, init);
    aigc::GanOptions options;
    options.latent = latent;
    options.objective = aigc::parse_gan_objective(objective);
    options.d_steps = d_steps;
    options.label_smoothing = smoothing;
    options.clip = clip;
    options.adam_g.lr = options.adam_d.lr = lr;
    options.seed = seed;
    aigc::GanTrainer<float> trainer(*generator, *discriminator, options);
    if (!verify.empty()) {
      trainer.load_state(verified);
      verified.get_int("loader/epoch");
      verified.get_int("loader/batch");
      std::printf("%s: ok, D step %lld, %zu entries\n", verify.c_str(),
                  static_cast<long long>(trainer.d_step_count()), verified.size());
      return 0;
    }
    std::filesystem::create_directories(out);
    aigc::BatchLoader<float> loader(train, {.batch_size = batch, .shuffle = true, .seed = seed});
    aigc::CheckpointManager checkpoints(
        {.folder = checkpoint_dir, .prefix = "gan", .keep_last = keep});
    auto save = [&] {
      aigc::StateDict s;
      trainer.save_state(s);
      aigc::save_loader(s, loader);
      last_checkpoint = checkpoints.save(s, trainer.d_step_count());
    };
    if (!resume.empty()) {
      // A folder: its newest checkpoint that verifies (a damaged one is reported and skipped).
      std::vector<std::string> candidates = {resume};
      if (std::filesystem::is_directory(resume)) {
        candidates = aigc::CheckpointManager({.folder = resume, .prefix = "gan"}).list();
        std::reverse(candidates.begin(), candidates.end());
        if (candidates.empty())
          throw aigc::FileError(resume + ": no gan-*.aigc checkpoint to resume");
      }
      for (std::size_t i = 0; i < candidates.size(); ++i) {
        try {
          const aigc::StateDict s = aigc::read_checkpoint(candidates[i]);
          trainer.load_state(s);
          aigc::load_loader(s, loader);
          last_checkpoint = candidates[i];
          break;
        } catch (const aigc::FileError& e) {
          if (i + 1 == candidates.size()) throw;
          std::fprintf(stderr, "gan: skipping %s: %s\n", candidates[i].c_str(), e.what());
        }
      }
      if (loader.batch_index() == loader.batches_per_epoch()) loader.seek(loader.epoch() + 1, 0);
      std::printf("resumed from %s at D step %lld (epoch %lld, batch %lld)\n",
                  last_checkpoint.c_str(), static_cast<long long>(trainer.d_step_count()),
                  static_cast<long long>(loader.epoch() + 1),
                  static_cast<long long>(loader.batch_index()));
    }

    std::printf("aigc MLP GAN (%s): %ld images from %s, %d thread(s)\n", objective.c_str(),
                static_cast<long>(train.size()), data.c_str(), aigc::num_threads());
    auto after_step = [&] {
      if (checkpoint_every > 0 && trainer.d_step_count() % checkpoint_every == 0) save();
    };
    while (loader.epoch() < epochs) {
      const int epoch = static_cast<int>(loader.epoch()) + 1;
      const auto s = trainer.train_epoch(loader, after_step);
      char name[64];
      std::snprintf(name, sizeof name, "/samples_epoch_%03d.png", epoch);
      aigc::write_png_grid(out + name, trainer.sample_fixed(), 1, train.height, train.width, 8,
                           aigc::PixelScale::symmetric);
      std::printf(
          "epoch %2d  D loss %.4f  G loss %.4f  D(x) %.3f  D(G(z)) %.3f  (%.2f s)  -> %s%s\n",
          epoch, s.d_loss, s.g_loss, s.d_real, s.d_fake, s.seconds, out.c_str(), name);
      std::fflush(stdout);
      save();
    }
  } catch (const aigc::NumericError& e) {
    std::fprintf(stderr, "gan: error: %s; the last good checkpoint is %s\n", e.what(),
                 last_checkpoint.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gan: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
