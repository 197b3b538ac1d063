// The first trainer of docs/getting-started.md: the VAE of PyTorch's example on Fashion-MNIST,
// in a page. Usage: getting_started [epochs = 10]
// [first-trainer]
#include <aigc/aigc.hpp>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  const int epochs = argc > 1 ? std::atoi(argv[1]) : 10;
  try {
    // Fashion-MNIST from Debian's dataset-fashion-mnist; pixels scaled to [0, 1].
    const auto train =
        aigc::load_mnist_format<float>(aigc::default_fashion_mnist_dir(), aigc::Split::train);
    // Encoder 784 -> 400 -> [mu | logvar] (2 x 20), decoder 20 -> 400 -> 784 logits.
    aigc::Rng init(0);
    auto encoder = aigc::make_vae_encoder<float>(784, 400, 20, init);
    auto decoder = aigc::make_vae_decoder<float>(20, 400, 784, init);
    aigc::VaeTrainer<float> trainer(*encoder, *decoder, {.latent = 20});
    aigc::BatchLoader<float> loader(train, {.batch_size = 128});

    // fit runs the epochs: a progress line, logs, loss.png and checkpoints in out/first.
    aigc::FitOptions options{.epochs = epochs, .out = "out/first", .name = "vae"};
    options.on_epoch_end = [&](aigc::FitEpoch& e) {
      // 64 samples decoded from z ~ N(0, I), as an 8 x 8 grid of 28 x 28 grey images.
      e.image("samples", aigc::make_grid(trainer.sample(64), 1, 28, 28, 8));
    };
    aigc::fit(trainer, loader, options);
  } catch (const std::exception& e) {  // aigc::Error says which file, tensor or flag is at fault
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
// [first-trainer]
