// The conditional VAE: the MLP VAE of examples/vae with a one-hot label appended to the encoder's
// input and before each of the decoder's layers (models/cvae.hpp), trained on BCE + 3 KL: with
// beta 1 the encoder keeps the class in z and a grid of prior draws follows z rather than the
// label (docs/evaluation.md). Each epoch writes a 10 x 10 grid, one row per class (the same z
// down a column), so the label alone sets the garment.
#include <CLI/CLI.hpp>
#include <aigc/aigc.hpp>
#include <aigc/io/idx_writer.hpp>
#include <aigc/io/training_log.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>

int main(int argc, char** argv) {
  CLI::App app{"Train the conditional MLP VAE; writes a 10x10 grid (one row per class) per epoch"};
  std::string data = aigc::default_fashion_mnist_dir();
  std::string out = "out/cvae";
  int epochs = 10, threads = 0;
  long batch = 128, latent = 20, hidden = 400;
  double lr = 1e-3, kl_weight = 3.0;
  std::uint64_t seed = 0;
  std::string resume, checkpoint_dir;
  long checkpoint_every = 0, fid_samples = 10000;
  int keep = 3;
  app.add_option("--data", data, "folder of MNIST-format IDX files (raw or .gz)");
  app.add_option("--out", out, "output folder");
  app.add_option("--epochs", epochs, "epochs to train (in all, counting resumed ones)")
      ->check(CLI::PositiveNumber);
  app.add_option("--batch-size", batch, "mini-batch size")->check(CLI::PositiveNumber);
  app.add_option("--lr", lr, "Adam learning rate")->check(CLI::PositiveNumber);
  app.add_option("--latent", latent, "latent size")->check(CLI::PositiveNumber);
  app.add_option("--hidden", hidden, "hidden layer width")->check(CLI::PositiveNumber);
  app.add_option("--kl-weight", kl_weight,
                 "beta of BCE + beta KL: > 1 keeps the class out of z, so the label sets it")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", seed, "random seed");
  app.add_option("--fid-samples", fid_samples, "samples written to samples.idx.gz at the end")
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "threads (0: OMP_NUM_THREADS or all cores)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--checkpoint-every", checkpoint_every,
                 "write a checkpoint every N steps (0: at the end of each epoch only)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--checkpoint-dir", checkpoint_dir,
                 "checkpoint folder (default: <out>/checkpoints)");
  app.add_option("--keep", keep, "checkpoints kept (0: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--resume", resume,
                 "checkpoint file, or folder whose newest valid checkpoint is resumed");
  CLI11_PARSE(app, argc, argv);

  std::string last_checkpoint = "(none)";
  try {
    aigc::set_num_threads(threads);
    if (checkpoint_dir.empty()) checkpoint_dir = out + "/checkpoints";
    const auto train = aigc::load_mnist_format<float>(data, aigc::Split::train);
    const auto test = aigc::load_mnist_format<float>(data, aigc::Split::test);
    std::filesystem::create_directories(out);
    const int classes = train.num_classes;

    aigc::Rng init(seed);
    auto encoder = aigc::make_cvae_encoder<float>(train.features(), hidden, latent, classes, init);
    auto decoder = aigc::make_cvae_decoder<float>(latent, hidden, train.features(), classes, init);
    aigc::VaeOptions options;
    options.latent = latent;
    options.adam.lr = lr;
    options.seed = seed;
    options.kl_weight = kl_weight;
    aigc::CvaeTrainer<float> trainer(*encoder, *decoder, options);
    aigc::BatchLoader<float> loader(train, {.batch_size = batch, .shuffle = true, .seed = seed});
    aigc::CheckpointManager checkpoints(
        {.folder = checkpoint_dir, .prefix = "cvae", .keep_last = keep});
    auto save = [&] {
      aigc::StateDict s;
      trainer.vae().save_state(s);
      aigc::save_loader(s, loader);
      last_checkpoint = checkpoints.save(s, trainer.vae().steps());
    };

    if (!resume.empty()) {
      // A folder: its newest checkpoint that verifies (a damaged one is reported and skipped).
      std::vector<std::string> candidates = {resume};
      if (std::filesystem::is_directory(resume)) {
        candidates = aigc::CheckpointManager({.folder = resume, .prefix = "cvae"}).list();
        std::reverse(candidates.begin(), candidates.end());
        if (candidates.empty())
          throw aigc::FileError(resume + ": no cvae-*.aigc checkpoint to resume");
      }
      for (std::size_t i = 0; i < candidates.size(); ++i) {
        try {
          const aigc::StateDict s = aigc::read_checkpoint(candidates[i]);
          trainer.vae().load_state(s);
          aigc::load_loader(s, loader);
          last_checkpoint = candidates[i];
          break;
        } catch (const aigc::FileError& e) {
          if (i + 1 == candidates.size()) throw;
          std::fprintf(stderr, "cvae: skipping %s: %s\n", candidates[i].c_str(), e.what());
        }
      }
      if (loader.batch_index() == loader.batches_per_epoch()) loader.seek(loader.epoch() + 1, 0);
      std::printf("resumed from %s at step %lld (epoch %lld, batch %lld)\n",
                  last_checkpoint.c_str(), static_cast<long long>(trainer.vae().steps()),
                  static_cast<long long>(loader.epoch() + 1),
                  static_cast<long long>(loader.batch_index()));
    }

    // The class grid: row c decodes the ten fixed codes with label c (the same z down a column).
    aigc::Rng fixed(seed + 1);
    aigc::Tensor<float> z10(10, latent), z(10 * classes, latent);
    fixed.fill_normal(z10);
    for (aigc::Index i = 0; i < z.rows(); ++i) z.row(i) = z10.row(i % 10);
    const std::vector<int> labels = aigc::class_grid_labels(classes, 10);
    // Interpolation: one path between two codes, decoded with every label (a row per class).
    const aigc::Tensor<float> one_path = aigc::latent_interpolation_grid<float>(1, 10, latent, fixed);
    aigc::Tensor<float> path(10 * classes, latent);
    for (aigc::Index i = 0; i < path.rows(); ++i) path.row(i) = one_path.row(i % 10);
    // Reconstructions of fixed test images with their labels.
    const aigc::Tensor<float> originals = test.images.topRows(32);
    const std::vector<int> original_labels(test.labels.begin(), test.labels.begin() + 32);

    std::printf("aigc CVAE: %ld train / %ld test images of %d classes from %s, %d thread(s)\n",
                static_cast<long>(train.size()), static_cast<long>(test.size()), classes,
                data.c_str(), aigc::num_threads());
    // The logs cover this run (a resumed run starts them anew); the checkpoints cover training.
    aigc::TrainingLog log(out, {"loss", "bce", "kl"}, {"train_loss", "test_loss", "bce", "kl"},
                          "CVAE loss per image (BCE + KL)");
    const auto h = train.height, w = train.width;
    const auto per_epoch = loader.batches_per_epoch();
    aigc::Tensor<float> x;
    std::vector<int> y;
    while (loader.epoch() < epochs) {
      const int epoch = static_cast<int>(loader.epoch()) + 1;
      aigc::Progress progress("epoch " + std::to_string(epoch), per_epoch - loader.batch_index());
      double bce_sum = 0, kl_sum = 0;
      long seen = 0;
      while (loader.next(x, &y)) {
        const auto [bce, kl] = trainer.step(x, y);
        const double n = static_cast<double>(x.rows());
        const auto step = trainer.vae().steps();
        bce_sum += bce;
        kl_sum += kl;
        seen += x.rows();
        progress.update(x.rows(), {{"loss", (bce + kl) / n}, {"bce", bce / n}, {"kl", kl / n}});
        log.step(epoch, step, epoch - 1 + static_cast<double>(loader.batch_index()) / per_epoch,
                 {(bce + kl) / n, bce / n, kl / n});
        if (checkpoint_every > 0 && step % checkpoint_every == 0) save();
      }
      progress.finish();
      const auto step = trainer.vae().steps();
      const double bce = bce_sum / seen, kl = kl_sum / seen, test_loss = trainer.evaluate(test);
      log.epoch(epoch, step, {bce + kl, test_loss, bce, kl});
      const aigc::Image grid = aigc::make_grid(trainer.decode(z, labels), 1, h, w, 10);
      char name[64];
      std::snprintf(name, sizeof name, "samples_epoch_%03d", epoch);
      log.image(name, grid, step);
      log.image("classes", grid, step);
      log.image("interpolation", aigc::make_grid(trainer.decode(path, labels), 1, h, w, 10), step);
      log.image("reconstructions",
                aigc::make_grid(aigc::reconstruction_rows(
                                    originals, trainer.reconstruct(originals, original_labels), 8),
                                1, h, w, 8),
                step);
      std::printf("epoch %2d  train loss %.2f  test loss %.2f  (%.2f s)\n", epoch, bce + kl,
                  test_loss, progress.seconds());
      std::fflush(stdout);
      save();
    }
    // Samples for scoring (examples/evaluate): IDX bytes, with the classes asked for.
    aigc::Rng sampler(seed + 3);
    aigc::Tensor<float> all(fid_samples, train.features()), zs;
    std::vector<int> asked(static_cast<std::size_t>(fid_samples)), part;
    for (long begin = 0; begin < fid_samples; begin += 1000) {
      zs.resize(std::min(1000L, fid_samples - begin), latent);
      sampler.fill_normal(zs);
      part.resize(static_cast<std::size_t>(zs.rows()));
      for (std::size_t i = 0; i < part.size(); ++i)
        part[i] = asked[static_cast<std::size_t>(begin) + i] =
            static_cast<int>((begin + static_cast<long>(i)) % classes);
      all.middleRows(begin, zs.rows()) = trainer.decode(zs, part);
    }
    aigc::write_idx_images(out + "/samples.idx.gz", all, h, w);
    aigc::write_idx_labels(out + "/samples-labels.idx.gz", asked);
    std::printf(
        "%s (class grids: row = class, column = z; interpolation: row = class, one path in z; "
        "reconstructions: originals above), samples.idx.gz (%ld samples for examples/evaluate; samples-labels.idx.gz: the classes "
        "asked for); last checkpoint %s\n",
        log.summary().c_str(), fid_samples, last_checkpoint.c_str());
  } catch (const aigc::NumericError& e) {
    std::fprintf(stderr, "cvae: error: %s; the last good checkpoint is %s\n", e.what(),
                 last_checkpoint.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cvae: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
