// The variational auto-encoder of PyTorch's examples (vae/main.py), on Fashion-MNIST by default.
#include <CLI/CLI.hpp>
#include <aigc/aigc.hpp>
#include <aigc/io/idx_writer.hpp>
#include <cstdio>
#include <filesystem>

int main(int argc, char** argv) {
  CLI::App app{
      "Train the MLP VAE of PyTorch's example; writes sample, reconstruction and "
      "interpolation grids, loss curves, CSV and TensorBoard logs"};
  std::string data = aigc::default_fashion_mnist_dir();
  std::string out = "out/vae";
  int epochs = 10;
  long batch = 128, latent = 20, hidden = 400;
  double lr = 1e-3;
  std::uint64_t seed = 0;
  int threads = 0;
  app.add_option("--data", data, "folder of MNIST-format IDX files (raw or .gz)");
  app.add_option("--out", out, "output folder");
  app.add_option("--epochs", epochs, "epochs to train")->check(CLI::PositiveNumber);
  app.add_option("--batch-size", batch, "mini-batch size")->check(CLI::PositiveNumber);
  app.add_option("--lr", lr, "Adam learning rate")->check(CLI::PositiveNumber);
  app.add_option("--latent", latent, "latent size")->check(CLI::PositiveNumber);
  app.add_option("--hidden", hidden, "hidden layer width")->check(CLI::PositiveNumber);
  app.add_option("--seed", seed, "random seed");
  app.add_option("--threads", threads, "threads (0: OMP_NUM_THREADS or all cores)")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  try {
    aigc::set_num_threads(threads);
    const auto train = aigc::load_mnist_format<float>(data, aigc::Split::train);
    const auto test = aigc::load_mnist_format<float>(data, aigc::Split::test);
    std::filesystem::create_directories(out);

    aigc::Rng init(seed);
    const long features = train.features();
    auto encoder = aigc::make_vae_encoder<float>(features, hidden, latent, init);
    auto decoder = aigc::make_vae_decoder<float>(latent, hidden, features, init);
    aigc::VaeOptions options;
    options.latent = latent;
    options.adam.lr = lr;
    options.seed = seed;
    aigc::VaeTrainer<float> trainer(*encoder, *decoder, options);
    aigc::BatchLoader<float> loader(train, {.batch_size = batch, .shuffle = true, .seed = seed});

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
    aigc::CsvLog epochs_csv(out + "/metrics.csv",
                            {"epoch", "train_loss", "test_loss", "bce", "kl", "seconds"});
    aigc::CsvLog steps_csv(out + "/steps.csv", {"epoch", "step", "loss", "bce", "kl"});
    aigc::TensorBoardWriter tb(out + "/tensorboard");
    aigc::PlotSeries step_loss{"train loss (batch)", {}, {}}, train_loss{"train loss", {}, {}},
        test_loss{"test loss", {}, {}};
    aigc::Tensor<float> batch;
    std::int64_t step = 0;
    const auto per_epoch = loader.batches_per_epoch();
    for (int epoch = 1; epoch <= epochs; ++epoch) {
      aigc::Progress progress("epoch " + std::to_string(epoch), per_epoch);
      double bce_sum = 0, kl_sum = 0;
      long seen = 0;
      while (loader.next(batch)) {
        const auto [bce, kl] = trainer.step(batch);
        const double n = static_cast<double>(batch.rows());
        bce_sum += bce;
        kl_sum += kl;
        seen += batch.rows();
        ++step;
        progress.update(batch.rows(), {{"loss", (bce + kl) / n}, {"bce", bce / n}, {"kl", kl / n}});
        steps_csv.row({double(epoch), double(step), (bce + kl) / n, bce / n, kl / n});
        tb.add_scalar("batch/loss", (bce + kl) / n, step);
        step_loss.x.push_back(epoch - 1 + static_cast<double>(loader.batch_index()) / per_epoch);
        step_loss.y.push_back((bce + kl) / n);
      }
      progress.finish();
      const double seconds = progress.seconds();
      const double bce = bce_sum / seen, kl = kl_sum / seen;
      const double test_l = trainer.evaluate(test);
      std::printf("epoch %2d  train loss %.2f  test loss %.2f  (%.2f s)\n", epoch, bce + kl, test_l,
                  seconds);
      std::fflush(stdout);
      epochs_csv.row({double(epoch), bce + kl, test_l, bce, kl, seconds});
      tb.add_scalar("epoch/train_loss", bce + kl, step);
      tb.add_scalar("epoch/test_loss", test_l, step);
      tb.add_scalar("epoch/bce", bce, step);
      tb.add_scalar("epoch/kl", kl, step);
      train_loss.x.push_back(epoch);
      train_loss.y.push_back(bce + kl);
      test_loss.x.push_back(epoch);
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
        "epoch), steps.csv (per batch), samples.idx.gz (10000 samples for examples/evaluate), %s\n",
        out.c_str(), tb.path().substr(out.size() + 1).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vae: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
