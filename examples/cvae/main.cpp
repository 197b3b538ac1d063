// The conditional VAE: the MLP VAE of examples/vae with a one-hot label appended to the encoder's
// input and before each of the decoder's layers (models/cvae.hpp), trained on BCE + 3 KL: with
// beta 1 the encoder keeps the class in z and a grid of prior draws follows z rather than the
// label (docs/evaluation.md). Each epoch writes a 10 x 10 grid, one row per class (the same z
// down a column), so the label alone sets the garment.
#include "common/trainer.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Train the conditional MLP VAE; writes a 10x10 grid (one row per class) per epoch"};
  example::TrainerFlags f(app, "cvae", 10, 128);
  long latent = 20, hidden = 400;
  double lr = 1e-3, kl_weight = 3.0;
  example::add_number(app, "--lr", lr, "Adam learning rate");
  example::add_count(app, "--latent", latent, "latent size");
  example::add_count(app, "--hidden", hidden, "hidden layer width");
  example::add_number(app, "--kl-weight", kl_weight,
                      "beta of BCE + beta KL: > 1 keeps the class out of z, so the label sets it",
                      true);
  f.add_export(app, "decoder.aigc");
  CLI11_PARSE(app, argc, argv);

  return example::run("cvae", [&] {
    const aigc::Dataset<float> train = f.load(aigc::Split::train), test = f.load(aigc::Split::test);
    const int classes = train.num_classes;
    const long n = train.features();
    aigc::Rng init(f.seed);
    auto encoder = aigc::make_cvae_encoder<float>(n, hidden, latent, classes, init);
    auto decoder = aigc::make_cvae_decoder<float>(latent, hidden, n, classes, init);
    const aigc::VaeOptions options{
        .latent = latent, .adam = {.lr = lr}, .seed = f.seed, .kl_weight = kl_weight};
    aigc::CvaeTrainer<float> trainer(*encoder, *decoder, f.with_precision(options));
    aigc::BatchLoader<float> loader = f.make_loader(train);
    std::printf("aigc CVAE: %ld train / %ld test images of %d classes from %s, %d thread(s)\n",
                static_cast<long>(train.size()), static_cast<long>(test.size()), classes,
                f.data.c_str(), aigc::num_threads());
    // Row c of the class grid decodes ten fixed codes with label c (the same z down a column); the
    // interpolation decodes one path between two codes with every label; reconstructions of fixed
    // test images with their labels.
    aigc::Rng fixed(f.seed + 1);
    aigc::Tensor<float> z10(10, latent), z(10 * classes, latent), path(10 * classes, latent);
    fixed.fill_normal(z10);
    const aigc::Tensor<float> one_path =
        aigc::latent_interpolation_grid<float>(1, 10, latent, fixed);
    for (aigc::Index i = 0; i < z.rows(); ++i) {
      z.row(i) = z10.row(i % 10);
      path.row(i) = one_path.row(i % 10);
    }
    const std::vector<int> labels = aigc::class_grid_labels(classes, 10);
    const aigc::Index shown = std::min<aigc::Index>(32, test.size());  // test sets may be small
    const aigc::Tensor<float> originals = test.images.topRows(shown);
    const std::vector<int> original_labels(test.labels.begin(), test.labels.begin() + shown);
    const auto c = train.channels, h = train.height, w = train.width;
    f.fit.epoch_metrics = {{"test_loss", [&] { return trainer.evaluate(test); }}};
    f.fit.on_epoch_end = [&](aigc::FitEpoch& e) {
      example::epoch_grids(e, aigc::make_grid(trainer.decode(z, labels), c, h, w, 10), "classes");
      e.image("interpolation", aigc::make_grid(trainer.decode(path, labels), c, h, w, 10));
      e.image("reconstructions",
              aigc::make_grid(aigc::reconstruction_rows(
                                  originals, trainer.reconstruct(originals, original_labels), 8),
                              c, h, w, 8));
    };
    example::distribute(trainer);
    const aigc::FitResult run = aigc::fit(trainer, loader, f.fit);
    example::write_samples(f, run, train, latent, classes, aigc::PixelScale::unit,
                           [&](const aigc::Tensor<float>& zs, const std::vector<int>& asked) {
                             return trainer.decode(zs, asked);
                           });
    f.write_export([&](const std::string& path, const std::vector<std::string>& names) {
      aigc::export_decoder(path, *decoder, latent, {c, h, w}, names);
    });
  });
}
