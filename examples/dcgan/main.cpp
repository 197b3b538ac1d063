// The DCGAN on Fashion-MNIST by default (models/dcgan.hpp): G z(100) -> ConvT to 4x4, 7x7, 14x14
// with BatchNorm and ReLU, then 28x28 tanh; D Conv to 14x14, 7x7, 3x3 with BatchNorm and
// LeakyReLU(0.2), then one logit. Adam 2e-4 betas (0.5, 0.999), batch 64, images in [-1, 1].
// On an image folder, PyTorch's DCGAN for --channels x --image-size x --image-size (16 to 128).
#include "common/gan.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Train the DCGAN; writes a grid of the fixed noise batch's samples per epoch"};
  example::TrainerFlags f(app, "dcgan", 5, 64, "D steps");
  example::GanFlags gan(app, 100);
  aigc::Index features = 64;
  example::add_count(app, "--features", features,
                     "width of G and D: their first and last convolutions' channels (ngf, ndf)");
  std::string d_norm = "batch";
  app.add_option("--d-norm", d_norm,
                 "D's normalisation: batch (PyTorch's DCGAN) or none (no BatchNorm in D; pair with "
                 "--spectral-norm d)")
      ->check(CLI::IsMember({"batch", "none"}));
  f.add_export(app, "generator.aigc");
  f.add_truncation(app);
  CLI11_PARSE(app, argc, argv);

  return example::run("dcgan", [&] {
    const auto sym = aigc::PixelScale::symmetric;
    const aigc::Dataset<float> train = f.load(aigc::Split::train, sym);
    aigc::Rng init(f.seed);
    const aigc::GanOptions options = gan(f.seed, train, f.products());
    const bool mnist = train.channels == 1 && train.height == 28 && train.width == 28;
    auto generator = mnist ? aigc::make_dcgan_generator<float>(options.latent, init, features)
                           : aigc::make_dcgan_generator<float>(options.latent, train.channels,
                                                               train.height, init, features);
    auto discriminator =
        mnist ? aigc::make_dcgan_discriminator<float>(init, features, d_norm == "batch")
              : aigc::make_dcgan_discriminator<float>(train.channels, train.height, init, features,
                                                      d_norm == "batch");
    aigc::GanTrainer<float> trainer(*generator, *discriminator, options);
    example::fit_gan(f, gan, "DCGAN", trainer, *generator, train);
  });
}
