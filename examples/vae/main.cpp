// The variational auto-encoder of PyTorch's examples (vae/main.py), on Fashion-MNIST by default.
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
  CLI::App app{
      "Train the MLP VAE of PyTorch's example; writes sample, reconstruction and "
      "interpolation grids, loss curves, CSV and TensorBoard logs, checkpoints"};
  std::string data = aigc::default_fashion_mnist_dir();
  std::string out = "out/vae";
  int epochs = 10;
  long batch = 128, latent = 20, hidden = 400, limit = 0;
  double lr = 1e-3, clip = 0.0;
  std::uint64_t seed = 0;
  int threads = 0;
  std::string verify;
  CheckpointFlags checkpoint;
  app.add_option("--data", data, "folder of MNIST-format IDX files (raw or .gz)");
  app.add_option("--out", out, "output folder");
  app.add_option("--epochs", epochs, "epochs to train (in all, counting resumed ones)")
      ->check(CLI::PositiveNumber);
  app.add_option("--batch-size", batch, "mini-batch size")->check(CLI::PositiveNumber);
  app.add_option("--lr", lr, "Adam learning rate")->check(CLI::PositiveNumber);
  app.add_option("--latent", latent, "latent size")->check(CLI::PositiveNumber);
  app.add_option("--hidden", hidden, "hidden layer width")->check(CLI::PositiveNumber);
  app.add_option("--limit", limit, "train on the first N images only (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--clip-grad-norm", clip, "clip the gradients' joint L2 norm (0: off)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", seed, "random seed");
  app.add_option("--threads", threads, "threads (0: OMP_NUM_THREADS or all cores)")
      ->check(CLI::NonNegativeNumber);
  checkpoint.add_to(app, "steps");
  app.add_option("--verify", verify,
                 "load a checkpoint into this model (names, shapes, CRC) and exit");
  CLI11_PARSE(app, argc, argv);

  std::string last_checkpoint = "(none)";
  try {
    aigc::set_num_threads(threads);
    // The data fix the image size; --verify needs no data and takes it from the checkpoint.
    aigc::Dataset<float> train, test;
    aigc::StateDict verified;
    long features = 0;
    if (verify.empty()) {
      train = aigc::load_mnist_format<float>(data, aigc::Split::train);
      test = aigc::load_mnist_format<float>(data, aigc::Split::test);
      features = train.features();
    } else {
      verified = aigc::read_checkpoint(verify);
      features = static_cast<long>(verified.at("param/encoder.fc1.weight").cols);
    }
    aigc::Rng init(seed);
    auto encoder = aigc::make_vae_encoder<float>(features, hidden, latent, init);
    auto decoder = aigc::make_vae_decoder<float>(latent, hidden, features, init);
    aigc::VaeOptions options;
    options.latent = latent;
    options.adam.lr = lr;
    options.seed = seed;
    options.clip_grad_norm = clip;
    aigc::VaeTrainer<float> trainer(*encoder, *decoder, options);
    if (!verify.empty()) {
      trainer.load_state(verified);
      verified.get_int("loader/epoch");
      verified.get_int("loader/batch");
      std::printf("%s: ok, step %lld, %zu entries\n", verify.c_str(),
                  static_cast<long long>(trainer.steps()), verified.size());
      return 0;
    }

    if (limit > 0 && limit < train.size()) train.images.conservativeResize(limit, Eigen::NoChange);
    std::filesystem::create_directories(out);
    aigc::BatchLoader<float> loader(train, {.batch_size = batch, .shuffle = true, .seed = seed});
    aigc::EpochSums sums(2);  // BCE and KL per image
    aigc::TrainingCheckpoints checkpoints(
        checkpoint.options(out, "vae"), trainer, loader, &sums, [&] { return trainer.steps(); },
        last_checkpoint);
    const std::optional<aigc::LogResume> log_resume = checkpoints.resume(checkpoint.resume);

    // Fixed noise and fixed test images so that the grids are comparable across epochs.
    aigc::Rng fixed(seed + 1);
    aigc::Tensor<float> z(64, latent);
    fixed.fill_normal(z);
    const aigc::Tensor<float> originals =
        test.images.topRows(std::min<aigc::Index>(32, test.size()));
    // Eight rows of ten steps along the great circle between two random codes.
    const aigc::Tensor<float> path = aigc::latent_interpolation_grid<float>(8, 10, latent, fixed);

    std::printf("aigc VAE: %ld train / %ld test images from %s, %d thread(s)\n",
                static_cast<long>(train.size()), static_cast<long>(test.size()), data.c_str(),
                aigc::num_threads());
    const auto h = train.height, w = train.width;
    // A resumed run continues the CSV logs from its checkpoint (rows past it are dropped).
    aigc::CsvLog epochs_csv(out + "/metrics.csv",
                            {"epoch", "train_loss", "test_loss", "bce", "kl", "seconds"},
                            log_resume ? std::optional(log_resume->epochs()) : std::nullopt);
    aigc::CsvLog steps_csv(out + "/steps.csv", {"epoch", "step", "loss", "bce", "kl"},
                           log_resume ? std::optional(log_resume->steps()) : std::nullopt);
    aigc::TensorBoardWriter tb(out + "/tensorboard");
    aigc::PlotSeries step_loss{"train loss (batch)", {}, {}}, train_loss{"train loss", {}, {}},
        test_loss{"test loss", {}, {}};
    aigc::Tensor<float> batch;
    const auto per_epoch = loader.batches_per_epoch();
    while (loader.epoch() < epochs) {
      const long long epoch = loader.epoch() + 1;
      aigc::Progress progress("epoch " + std::to_string(epoch), per_epoch - loader.batch_index());
      while (loader.next(batch)) {
        const auto [bce, kl] = trainer.step(batch);
        const double n = static_cast<double>(batch.rows());
        const auto step = trainer.steps();
        sums.add(0, bce, n);
        sums.add(1, kl, n);
        progress.update(batch.rows(), {{"loss", (bce + kl) / n}, {"bce", bce / n}, {"kl", kl / n}});
        steps_csv.row({double(epoch), double(step), (bce + kl) / n, bce / n, kl / n});
        tb.add_scalar("batch/loss", (bce + kl) / n, step);
        step_loss.x.push_back(epoch - 1 + static_cast<double>(loader.batch_index()) / per_epoch);
        step_loss.y.push_back((bce + kl) / n);
        checkpoints.save_every(checkpoint.every);
      }
      progress.finish();
      const auto step = trainer.steps();
      const double seconds = progress.seconds();
      const double bce = sums.mean(0), kl = sums.mean(1);
      sums.reset();
      const double test_l = trainer.evaluate(test);
      std::printf("epoch %2lld  train loss %.2f  test loss %.2f  (%.2f s)\n", epoch, bce + kl,
                  test_l, seconds);
      std::fflush(stdout);
      epochs_csv.row({double(epoch), bce + kl, test_l, bce, kl, seconds});
      tb.add_scalar("epoch/train_loss", bce + kl, step);
      tb.add_scalar("epoch/test_loss", test_l, step);
      tb.add_scalar("epoch/bce", bce, step);
      tb.add_scalar("epoch/kl", kl, step);
      train_loss.x.push_back(static_cast<double>(epoch));
      train_loss.y.push_back(bce + kl);
      test_loss.x.push_back(static_cast<double>(epoch));
      test_loss.y.push_back(test_l);
      aigc::write_plot_png(out + "/loss.png", {step_loss, train_loss, test_loss},
                           {.title = "VAE loss per image (BCE + KL)"});

      const aigc::Image samples = aigc::make_grid(trainer.decode(z), 1, h, w, 8);
      aigc::write_png(out + "/samples.png", samples);
      tb.add_image("samples", samples, step);
      const aigc::Image recon = aigc::make_grid(
          aigc::reconstruction_rows(originals, trainer.reconstruct(originals), 8), 1, h, w, 8);
      aigc::write_png(out + "/reconstructions.png", recon);
      tb.add_image("reconstructions", recon, step);
      const aigc::Image interp = aigc::make_grid(trainer.decode(path), 1, h, w, 10);
      aigc::write_png(out + "/interpolation.png", interp);
      tb.add_image("interpolation", interp, step);
      checkpoints.save();
    }
    // Samples for scoring (examples/evaluate): 10000 decoded draws of z ~ N(0, I), IDX bytes.
    aigc::Rng sampler(seed + 3);
    aigc::Tensor<float> all(10000, features), zs(1000, latent);
    for (long begin = 0; begin < 10000; begin += 1000) {
      sampler.fill_normal(zs);
      all.middleRows(begin, 1000) = trainer.decode(zs);
    }
    aigc::write_idx_images(out + "/samples.idx.gz", all, h, w);
    std::printf(
        "wrote %s/: samples.png, reconstructions.png (originals above reconstructions), "
        "interpolation.png (slerp between two z per row), loss.png, metrics.csv (per "
        "epoch), steps.csv (per batch), samples.idx.gz (10000 samples for "
        "examples/evaluate), %s; last checkpoint %s\n",
        out.c_str(), tb.path().substr(out.size() + 1).c_str(), last_checkpoint.c_str());
  } catch (const aigc::NumericError& e) {
    std::fprintf(stderr, "vae: error: %s; the last good checkpoint is %s\n", e.what(),
                 last_checkpoint.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vae: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
