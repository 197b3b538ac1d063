// The conditional VAE: the MLP VAE of examples/vae with a one-hot label appended to the encoder's
// input and before each of the decoder's layers (models/cvae.hpp), trained on BCE + 3 KL: with
// beta 1 the encoder keeps the class in z and a grid of prior draws follows z rather than the
// label (docs/evaluation.md). Each epoch writes a 10 x 10 grid, one row per class (the same z
// down a column), so the label alone sets the garment.
#include <CLI/CLI.hpp>
#include <aigc/aigc.hpp>
#include <aigc/io/idx_writer.hpp>
#include <aigc/io/training_checkpoints.hpp>
#include <aigc/io/training_log.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "common/checkpoint_flags.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Train the conditional MLP VAE; writes a 10x10 grid (one row per class) per epoch"};
  std::string data = aigc::default_fashion_mnist_dir();
  std::string out = "out/cvae";
  int epochs = 10, threads = 0;
  long batch = 128, latent = 20, hidden = 400;
  double lr = 1e-3, kl_weight = 3.0;
  std::uint64_t seed = 0;
  long fid_samples = 10000;
  CheckpointFlags checkpoint;
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
  checkpoint.add_to(app, "steps");
  CLI11_PARSE(app, argc, argv);

  std::string last_checkpoint = "(none)";
  try {
    aigc::set_num_threads(threads);
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
    aigc::EpochSums sums(2);  // BCE and KL per image
    aigc::TrainingCheckpoints checkpoints(
        checkpoint.options(out, "cvae"), trainer.vae(), loader, &sums,
        [&] { return trainer.vae().steps(); }, last_checkpoint);
    const std::optional<aigc::LogResume> log_resume = checkpoints.resume(checkpoint.resume);

    // The class grid: row c decodes the ten fixed codes with label c (the same z down a column).
    aigc::Rng fixed(seed + 1);
    aigc::Tensor<float> z10(10, latent), z(10 * classes, latent);
    fixed.fill_normal(z10);
    for (aigc::Index i = 0; i < z.rows(); ++i) z.row(i) = z10.row(i % 10);
    const std::vector<int> labels = aigc::class_grid_labels(classes, 10);
    // Interpolation: one path between two codes, decoded with every label (a row per class).
    const aigc::Tensor<float> one_path =
        aigc::latent_interpolation_grid<float>(1, 10, latent, fixed);
    aigc::Tensor<float> path(10 * classes, latent);
    for (aigc::Index i = 0; i < path.rows(); ++i) path.row(i) = one_path.row(i % 10);
    // Reconstructions of fixed test images with their labels.
    const aigc::Index shown = std::min<aigc::Index>(32, test.size());  // test sets may be small
    const aigc::Tensor<float> originals = test.images.topRows(shown);
    const std::vector<int> original_labels(test.labels.begin(), test.labels.begin() + shown);

    std::printf("aigc CVAE: %ld train / %ld test images of %d classes from %s, %d thread(s)\n",
                static_cast<long>(train.size()), static_cast<long>(test.size()), classes,
                data.c_str(), aigc::num_threads());
    // A resumed run continues the CSV logs from its checkpoint (rows past it are dropped).
    aigc::TrainingLog log(out, {"loss", "bce", "kl"}, {"train_loss", "test_loss", "bce", "kl"},
                          "CVAE loss per image (BCE + KL)", log_resume);
    const auto h = train.height, w = train.width;
    const auto per_epoch = loader.batches_per_epoch();
    aigc::Tensor<float> x;
    std::vector<int> y;
    while (loader.epoch() < epochs) {
      const int epoch = static_cast<int>(loader.epoch()) + 1;
      aigc::Progress progress("epoch " + std::to_string(epoch), per_epoch - loader.batch_index());
      while (loader.next(x, &y)) {
        const auto [bce, kl] = trainer.step(x, y);
        const double n = static_cast<double>(x.rows());
        const auto step = trainer.vae().steps();
        sums.add(0, bce, n);
        sums.add(1, kl, n);
        progress.update(x.rows(), {{"loss", (bce + kl) / n}, {"bce", bce / n}, {"kl", kl / n}});
        log.step(epoch, step, epoch - 1 + static_cast<double>(loader.batch_index()) / per_epoch,
                 {(bce + kl) / n, bce / n, kl / n});
        checkpoints.save_every(checkpoint.every);
      }
      progress.finish();
      const auto step = trainer.vae().steps();
      const double bce = sums.mean(0), kl = sums.mean(1), test_loss = trainer.evaluate(test);
      sums.reset();
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
      checkpoints.save();
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
        "reconstructions: originals above), samples.idx.gz (%ld samples for examples/evaluate; "
        "samples-labels.idx.gz: the classes "
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
