// The variational auto-encoder of PyTorch's examples (vae/main.py), on Fashion-MNIST by default.
#include <CLI/CLI.hpp>
#include <aigc/aigc.hpp>
#include <cstdio>
#include <filesystem>

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
  std::string resume, checkpoint_dir, verify;
  long checkpoint_every = 0;
  int keep = 3;
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
  app.add_option("--checkpoint-every", checkpoint_every,
                 "write a checkpoint every N steps (0: at the end of each epoch only)")
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
    aigc::CheckpointManager checkpoints(
        {.folder = checkpoint_dir, .prefix = "vae", .keep_last = keep});
    auto state = [&] {
      aigc::StateDict s;
      trainer.save_state(s);
      aigc::save_loader(s, loader);
      return s;
    };
    auto save = [&] { last_checkpoint = checkpoints.save(state(), trainer.steps()); };

    if (!resume.empty()) {
      // A folder: its newest checkpoint that verifies (a damaged one is reported and skipped).
      std::vector<std::string> candidates = {resume};
      if (std::filesystem::is_directory(resume)) {
        candidates = aigc::CheckpointManager({.folder = resume, .prefix = "vae"}).list();
        std::reverse(candidates.begin(), candidates.end());
        if (candidates.empty())
          throw aigc::FileError(resume + ": no vae-*.aigc checkpoint to resume");
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
          std::fprintf(stderr, "vae: skipping %s: %s\n", candidates[i].c_str(), e.what());
        }
      }
      if (loader.batch_index() == loader.batches_per_epoch()) loader.seek(loader.epoch() + 1, 0);
      std::printf("resumed from %s at step %lld (epoch %lld, batch %lld)\n",
                  last_checkpoint.c_str(), static_cast<long long>(trainer.steps()),
                  static_cast<long long>(loader.epoch() + 1),
                  static_cast<long long>(loader.batch_index()));
    }

    // Fixed noise and fixed test images so that the grids are comparable across epochs.
    aigc::Rng fixed(seed + 1);
    aigc::Tensor<float> z(64, latent);
    fixed.fill_normal(z);
    const aigc::Tensor<float> originals = test.images.topRows(32);
    // Eight rows of ten steps along the great circle between two random codes.
    const aigc::Tensor<float> path = aigc::latent_interpolation_grid<float>(8, 10, latent, fixed);

    std::printf("aigc VAE: %ld train / %ld test images from %s, %d thread(s)\n",
                static_cast<long>(train.size()), static_cast<long>(test.size()), data.c_str(),
                aigc::num_threads());
    const auto h = train.height, w = train.width;
    // The logs cover this run (a resumed run starts them anew); the checkpoints cover training.
    aigc::CsvLog epochs_csv(out + "/metrics.csv",
                            {"epoch", "train_loss", "test_loss", "bce", "kl", "seconds"});
    aigc::CsvLog steps_csv(out + "/steps.csv", {"epoch", "step", "loss", "bce", "kl"});
    aigc::TensorBoardWriter tb(out + "/tensorboard");
    aigc::PlotSeries step_loss{"train loss (batch)", {}, {}}, train_loss{"train loss", {}, {}},
        test_loss{"test loss", {}, {}};
    aigc::Tensor<float> batch;
    const auto per_epoch = loader.batches_per_epoch();
    while (loader.epoch() < epochs) {
      const long long epoch = loader.epoch() + 1;
      aigc::Progress progress("epoch " + std::to_string(epoch), per_epoch - loader.batch_index());
      double bce_sum = 0, kl_sum = 0;
      long seen = 0;
      while (loader.next(batch)) {
        const auto [bce, kl] = trainer.step(batch);
        const double n = static_cast<double>(batch.rows());
        const auto step = trainer.steps();
        bce_sum += bce;
        kl_sum += kl;
        seen += batch.rows();
        progress.update(batch.rows(), {{"loss", (bce + kl) / n}, {"bce", bce / n}, {"kl", kl / n}});
        steps_csv.row({double(epoch), double(step), (bce + kl) / n, bce / n, kl / n});
        tb.add_scalar("batch/loss", (bce + kl) / n, step);
        step_loss.x.push_back(epoch - 1 + static_cast<double>(loader.batch_index()) / per_epoch);
        step_loss.y.push_back((bce + kl) / n);
        if (checkpoint_every > 0 && step % checkpoint_every == 0) save();
      }
      progress.finish();
      const auto step = trainer.steps();
      const double seconds = progress.seconds();
      const double bce = bce_sum / seen, kl = kl_sum / seen;
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
      save();
    }
    std::printf(
        "wrote %s/: samples.png, reconstructions.png (originals above reconstructions), "
        "interpolation.png (slerp between two z per row), loss.png, metrics.csv (per "
        "epoch), steps.csv (per batch), %s; last checkpoint %s\n",
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
