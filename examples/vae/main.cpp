// The variational auto-encoder of PyTorch's examples (vae/main.py), on Fashion-MNIST by default.
#include <CLI/CLI.hpp>
#include <aigc/aigc.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

int main(int argc, char** argv) {
  CLI::App app{"Train the MLP VAE of PyTorch's example; writes samples.png and reconstructions.png"};
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

    std::printf("aigc VAE: %ld train / %ld test images from %s, %d thread(s)\n",
                static_cast<long>(train.size()), static_cast<long>(test.size()), data.c_str(),
                aigc::num_threads());
    std::ofstream csv(out + "/metrics.csv");
    csv << "epoch,train_loss,test_loss,bce,kl,seconds\n";
    for (int epoch = 1; epoch <= epochs; ++epoch) {
      const auto s = trainer.train_epoch(loader);
      const double test_loss = trainer.evaluate(test);
      std::printf("epoch %2d  train loss %.2f  test loss %.2f  (%.2f s)\n", epoch, s.train_loss,
                  test_loss, s.seconds);
      std::fflush(stdout);
      csv << epoch << ',' << s.train_loss << ',' << test_loss << ',' << s.bce << ',' << s.kl << ','
          << s.seconds << '\n';
      csv.flush();

      const auto h = train.height, w = train.width;
      aigc::write_png_grid(out + "/samples.png", trainer.decode(z), 1, h, w, 8);
      aigc::Tensor<float> pairs(64, features);  // rows of 8: originals above reconstructions
      const aigc::Tensor<float> recon = trainer.reconstruct(originals);
      for (int i = 0; i < 32; ++i) {
        pairs.row((i / 8) * 16 + i % 8) = originals.row(i);
        pairs.row((i / 8) * 16 + 8 + i % 8) = recon.row(i);
      }
      aigc::write_png_grid(out + "/reconstructions.png", pairs, 1, h, w, 8);
    }
    std::printf("wrote %s/samples.png, %s/reconstructions.png and %s/metrics.csv\n", out.c_str(),
                out.c_str(), out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vae: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
