// The MLP GAN on Fashion-MNIST by default: G z(64)->256->512->784 tanh, D 784->512->256->1,
// LeakyReLU(0.2), Adam 2e-4 betas (0.5, 0.999), batch 64, images in [-1, 1]. examples/cgan is the
// same with class labels.
#include "common/gan.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Train the MLP GAN; writes a grid of the fixed noise batch's samples per epoch"};
  example::TrainerFlags f(app, "gan", 20, 64, "D steps");
  example::GanFlags gan(app, 64);
  f.add_verify(app);
  f.add_export(app, "generator.aigc");
  f.add_truncation(app);
  CLI11_PARSE(app, argc, argv);

  return example::run("gan", [&] {
    const auto sym = aigc::PixelScale::symmetric;
    const aigc::Dataset<float> train = f.load(aigc::Split::train, sym);
    const long features = f.features(train, "param/discriminator.fc1.weight");
    aigc::Rng init(f.seed);
    const aigc::GanOptions options = gan(f.seed, train, f.products());
    auto generator = aigc::make_mlp_generator<float>(options.latent, features, init);
    auto discriminator = aigc::make_mlp_discriminator<float>(features, init);
    aigc::GanTrainer<float> trainer(*generator, *discriminator, options);
    if (f.verified(trainer)) return;
    example::fit_gan(f, gan, "MLP GAN", trainer, *generator, train);
  });
}
