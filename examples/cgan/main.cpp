// The conditional GAN: the MLP GAN of examples/gan with a one-hot label appended to G's noise
// and to D's image; or, with --arch dcgan, the DCGAN of examples/dcgan with the label appended to
// G's noise and to D's image as constant channels. Each epoch writes a grid of the fixed noise
// batch, one row per class.
#include "common/gan.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Train the conditional MLP GAN; writes a 10x10 grid (one row per class) per epoch"};
  example::TrainerFlags f(app, "cgan", 20, 64, "D steps");
  example::GanFlags gan(app, 64);
  std::string arch = "mlp";
  app.add_option("--arch", arch,
                 "mlp (the MLP GAN's layers) or dcgan (the DCGAN's convolutions: 28x28 IDX images, "
                 "or --image-size 16 to 128 on an image folder)")
      ->check(CLI::IsMember({"mlp", "dcgan"}));
  aigc::Index features = 64;
  example::add_count(app, "--features", features, "--arch dcgan: width of G and D (ngf, ndf)");
  std::string fake_labels = "data";
  app.add_option("--fake-labels", fake_labels,
                 "classes of the fake images: data (as often as in the training set) or uniform")
      ->check(CLI::IsMember({"data", "uniform"}));
  f.add_export(app, "generator.aigc");
  f.add_truncation(app);
  CLI11_PARSE(app, argc, argv);

  return example::run("cgan", [&] {
    const auto sym = aigc::PixelScale::symmetric;
    const aigc::Dataset<float> train = f.load(aigc::Split::train, sym);
    const int classes = train.num_classes;
    aigc::Rng init(f.seed);
    aigc::GanOptions options = gan(f.seed, train, f.products());
    options.fixed_samples = 10 * classes;  // row i of the grid: class i
    // As often as the real images carry each class (equal counts, as Fashion-MNIST's: uniform)
    if (fake_labels == "data") options.class_frequencies = aigc::class_counts(train);
    std::unique_ptr<aigc::Sequential<float>> generator, discriminator;
    if (arch == "dcgan") {
      const aigc::DcganOptions dc{.features = features, .num_classes = classes};
      const bool mnist = train.channels == 1 && train.height == 28 && train.width == 28;
      generator = mnist ? aigc::make_dcgan_generator<float>(options.latent, init, dc)
                        : aigc::make_dcgan_generator<float>(options.latent, train.channels,
                                                            train.height, init, dc);
      discriminator =
          mnist ? aigc::make_dcgan_discriminator<float>(init, dc)
                : aigc::make_dcgan_discriminator<float>(train.channels, train.height, init, dc);
    } else {
      generator = aigc::make_mlp_generator<float>(options.latent, train.features(), init, classes);
      discriminator = aigc::make_mlp_discriminator<float>(train.features(), init, classes);
    }
    aigc::CganTrainer<float> trainer(*generator, *discriminator, options);
    aigc::BatchLoader<float> loader = f.make_loader(train);
    gan.schedule_run(trainer, loader.batches_per_epoch() * f.fit.epochs);
    std::printf("aigc cGAN (%s, %s): %ld images of %d classes from %s, %d thread(s)\n",
                arch.c_str(), gan.objective.c_str(), static_cast<long>(train.size()), classes,
                f.data.c_str(), aigc::num_threads());
    // One row per fixed code, one column per class: the same z across the classes.
    aigc::Rng fixed(f.seed + 2);
    aigc::Tensor<float> z(10, options.latent), class_z(10 * classes, options.latent);
    fixed.fill_normal(z);
    for (aigc::Index i = 0; i < class_z.rows(); ++i) class_z.row(i) = z.row(i / classes);
    std::vector<int> class_labels(static_cast<std::size_t>(10 * classes));
    for (std::size_t i = 0; i < class_labels.size(); ++i) class_labels[i] = int(i) % classes;
    const auto c = train.channels, h = train.height, w = train.width;
    f.fit.on_epoch_end = [&](aigc::FitEpoch& e) {
      example::epoch_grids(e, aigc::make_grid(trainer.sample_fixed(), c, h, w, 10, sym));
      e.image("classes",
              aigc::make_grid(trainer.generate(class_z, class_labels), c, h, w, classes, sym));
    };
    example::distribute(trainer);
    const aigc::FitResult run = aigc::fit(trainer, loader, f.fit);
    example::write_samples(f, run, train, options.latent, classes, sym,
                           [&](const aigc::Tensor<float>& zs, const std::vector<int>& labels) {
                             return trainer.generate(zs, labels);
                           });
    f.write_export([&](const std::string& path, const std::vector<std::string>& names) {
      trainer.with_sampling_weights([&] {
        aigc::export_generator(path, *generator, options.latent, {c, h, w}, names);
      });
    });
  });
}
