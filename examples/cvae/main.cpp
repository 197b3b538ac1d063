// The conditional VAE: the MLP VAE of examples/vae with a one-hot label appended to the encoder's
// input and to the decoder's z. Each epoch writes a 10 x 10 grid, one row per class (the same z
// across a column), so the label alone changes the garment.
#include <CLI/CLI.hpp>
#include <aigc/aigc.hpp>
#include <cstdio>
#include <filesystem>

int main(int argc, char** argv) {
  CLI::App app{"Train the conditional MLP VAE; writes a 10x10 grid (one row per class) per epoch"};
  std::string data = aigc::default_fashion_mnist_dir();
  std::string out = "out/cvae";
  int epochs = 10, threads = 0;
  long batch = 128, latent = 20, hidden = 400;
  double lr = 1e-3;
  std::uint64_t seed = 0;
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
    const int classes = train.num_classes;

    aigc::Rng init(seed);
    auto encoder = aigc::make_cvae_encoder<float>(train.features(), hidden, latent, classes, init);
    auto decoder = aigc::make_cvae_decoder<float>(latent, hidden, train.features(), classes, init);
    aigc::VaeOptions options;
    options.latent = latent;
    options.adam.lr = lr;
    options.seed = seed;
    aigc::CvaeTrainer<float> trainer(*encoder, *decoder, aigc::conditioning_layer(*encoder),
                                     aigc::conditioning_layer(*decoder), options);
    aigc::BatchLoader<float> loader(train, {.batch_size = batch, .shuffle = true, .seed = seed});

    // Fixed codes: 10 z's, each repeated down a column; row i carries class i.
    aigc::Rng fixed(seed + 1);
    aigc::Tensor<float> z10(10, latent), z(10 * classes, latent);
    fixed.fill_normal(z10);
    std::vector<int> labels(static_cast<std::size_t>(10 * classes));
    for (int i = 0; i < 10 * classes; ++i) {
      z.row(i) = z10.row(i % 10);
      labels[static_cast<std::size_t>(i)] = i / 10;
    }

    std::printf("aigc CVAE: %ld train / %ld test images of %d classes from %s, %d thread(s)\n",
                static_cast<long>(train.size()), static_cast<long>(test.size()), classes,
                data.c_str(), aigc::num_threads());
    for (int epoch = 1; epoch <= epochs; ++epoch) {
      const auto s = trainer.train_epoch(loader);
      const double test_loss = trainer.evaluate(test);
      char name[64];
      std::snprintf(name, sizeof name, "/samples_epoch_%03d.png", epoch);
      aigc::write_png_grid(out + name, trainer.decode(z, labels), 1, train.height, train.width, 10);
      std::printf("epoch %2d  train loss %.2f  test loss %.2f  (%.2f s)  -> %s%s\n", epoch,
                  s.train_loss, test_loss, s.seconds, out.c_str(), name);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cvae: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
