// The variational auto-encoder of PyTorch's examples (vae/main.py), on Fashion-MNIST by default.
#include "common/trainer.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "Train the MLP VAE of PyTorch's example; writes sample, reconstruction and "
      "interpolation grids, loss curves, CSV and TensorBoard logs, checkpoints"};
  example::TrainerFlags f(app, "vae", 10, 128);
  long latent = 20, hidden = 400, limit = 0;
  double lr = 1e-3, clip = 0.0;
  example::add_number(app, "--lr", lr, "Adam learning rate");
  example::add_count(app, "--latent", latent, "latent size");
  example::add_count(app, "--hidden", hidden, "hidden layer width");
  example::add_count(app, "--limit", limit, "train on the first N images only (0: all)", true);
  example::add_number(app, "--clip-grad-norm", clip, "clip the gradients' joint L2 norm (0: off)",
                      true);
  std::string arch = "mlp";
  app.add_option("--arch", arch, "mlp (PyTorch's example) or conv (for image folders)")
      ->check(CLI::IsMember({"mlp", "conv"}));
  std::vector<int> direction;
  double scale = 1.0;
  app.add_option("--direction", direction,
                 "FROM,TO classes: move FROM's test images along mean code(TO) - mean code(FROM)")
      ->expected(2)
      ->delimiter(',');
  example::add_number(app, "--direction-scale", scale,
                      "how far --direction moves: times the direction");
  f.add_verify(app);
  f.add_export(app, "decoder.aigc");
  CLI11_PARSE(app, argc, argv);

  return example::run("vae", [&] {
    aigc::Dataset<float> train = f.load(aigc::Split::train), test = f.load(aigc::Split::test);
    const long features = f.features(train, "param/encoder.fc1.weight");
    aigc::Rng init(f.seed);
    const bool conv = arch == "conv";
    auto encoder =
        conv ? aigc::make_conv_vae_encoder<float>(train.channels, train.height, latent, init)
             : aigc::make_vae_encoder<float>(features, hidden, latent, init);
    auto decoder =
        conv ? aigc::make_conv_vae_decoder<float>(latent, train.channels, train.height, init)
             : aigc::make_vae_decoder<float>(latent, hidden, features, init);
    const aigc::VaeOptions options{
        .latent = latent, .adam = {.lr = lr}, .seed = f.seed, .clip_grad_norm = clip};
    aigc::VaeTrainer<float> trainer(*encoder, *decoder, f.with_precision(options));
    if (f.verified(trainer)) return;
    if (limit > 0 && limit < train.size()) train.images.conservativeResize(limit, Eigen::NoChange);
    aigc::BatchLoader<float> loader = f.make_loader(train);
    std::printf("aigc VAE: %ld train / %ld test images from %s, %d thread(s)\n",
                static_cast<long>(train.size()), static_cast<long>(test.size()), f.data.c_str(),
                aigc::num_threads());

    // Fixed noise, a slerp path (8 rows of 10 steps) and test images: comparable across epochs.
    aigc::Rng fixed(f.seed + 1);
    aigc::Tensor<float> z(64, latent);
    fixed.fill_normal(z);
    const aigc::Tensor<float> path = aigc::latent_interpolation_grid<float>(8, 10, latent, fixed);
    const aigc::Tensor<float> originals = test.images.topRows(std::min<long>(32, test.size()));
    const auto c = train.channels, h = train.height, w = train.width;
    f.fit.epoch_metrics = {{"test_loss", [&] { return trainer.evaluate(test); }}};
    f.fit.on_epoch_end = [&](aigc::FitEpoch& e) {
      e.image("samples", aigc::make_grid(trainer.decode(z), c, h, w, 8));
      e.image("reconstructions", aigc::make_grid(aigc::reconstruction_rows(
                                                     originals, trainer.reconstruct(originals), 8),
                                                 c, h, w, 8));
      e.image("interpolation", aigc::make_grid(trainer.decode(path), c, h, w, 10));
    };
    example::distribute(trainer);
    const aigc::FitResult run = aigc::fit(trainer, loader, f.fit);
    example::write_samples(
        f, run, train, latent, 0, aigc::PixelScale::unit,
        [&](const aigc::Tensor<float>& zs, const std::vector<int>&) { return trainer.decode(zs); });
    f.write_export([&](const std::string& path, const std::vector<std::string>&) {
      aigc::export_decoder(path, *decoder, latent, {c, h, w});
    });
    if (!direction.empty())
      example::write_direction(f, trainer, train, test, direction[0], direction[1], scale);
  });
}
