// A user's training program: a small DCGAN with BatchNorm trained a few steps by GanTrainer on
// random images; it exports the generator (generator.aigc) and writes the images the trainer
// draws for fixed codes (trainer-samples.f32 and .png), for aigc_consumer_sample to reproduce; the
// trainer with lazy R1; then a conditional DCGAN of the library's builders (DcganOptions) trained
// a step by CganTrainer and exported with its classes; then a colour FID classifier saved and
// loaded with its shape and classes.
#include <aigc/aigc.hpp>
#include <cmath>
#include <cstdio>
#include <vector>

int main() {
  try {
    const aigc::Index latent = 8;
    aigc::Rng rng(1);
    // G: z -> 4x4 -> 8x8 -> 16x16; the chain infers every height and width.
    aigc::Sequential<float> g({latent});
    g.set_name("generator");
    using TOpt = aigc::ConvTranspose2dOptions;
    g.emplace<aigc::Reshape<float>>("reshape", std::vector<aigc::Index>{latent, 1, 1});
    g.emplace<aigc::ConvTranspose2d<float>>("conv1", latent, 16, 4, rng, TOpt{.bias = false});
    g.emplace<aigc::BatchNorm2d<float>>("bn1", 16);
    g.emplace<aigc::ReLU<float>>("relu1");
    g.emplace<aigc::ConvTranspose2d<float>>("conv2", 16, 8, 4, rng,
                                            TOpt{.stride = 2, .padding = 1, .bias = false});
    // BatchNorm with its ReLU fused (the model file keeps the option)
    g.emplace<aigc::BatchNorm2d<float>>(
        "bn2", 8, aigc::BatchNormOptions{.activation = aigc::Activation::relu});
    g.emplace<aigc::ConvTranspose2d<float>>(
        "conv3", 8, 1, 4, rng,
        TOpt{.stride = 2, .padding = 1, .activation = aigc::Activation::tanh});
    // D: 16x16 -> 8x8 -> 4x4 -> one logit.
    aigc::Sequential<float> d({1, 16, 16});
    d.set_name("discriminator");
    using Opt = aigc::Conv2dOptions;
    d.emplace<aigc::Conv2d<float>>("conv1", 1, 8, 4, rng,
                                   Opt{.stride = 2,
                                       .padding = 1,
                                       .activation = aigc::Activation::leaky_relu,
                                       .negative_slope = 0.2});
    d.emplace<aigc::Conv2d<float>>("conv2", 8, 16, 4, rng,
                                   Opt{.stride = 2, .padding = 1, .bias = false});
    d.emplace<aigc::BatchNorm2d<float>>(
        "bn2", 16,
        aigc::BatchNormOptions{.activation = aigc::Activation::leaky_relu, .negative_slope = 0.2});
    d.emplace<aigc::Conv2d<float>>("conv3", 16, 1, 4, rng);

    aigc::GanTrainer<float> trainer(
        g, d, {.latent = latent, .fixed_samples = 4, .seed = 1, .r1_gamma = 1.0, .r1_interval = 2});
    aigc::Tensor<float> real(8, 16 * 16);
    for (int step = 0; step < 4; ++step) {
      rng.fill_uniform(real, -1, 1);
      trainer.step(real);
    }
    aigc::export_generator("generator.aigc", g, latent, {1, 16, 16});

    aigc::Tensor<float> z(6, latent);
    aigc::Rng(123).fill_normal(z);
    const aigc::Tensor<float> images = trainer.generate(z);
    std::FILE* f = std::fopen("trainer-samples.f32", "wb");
    if (!f ||
        std::fwrite(images.data(), sizeof(float), images.size(), f) !=
            static_cast<std::size_t>(images.size()) ||
        std::fclose(f) != 0) {
      std::fprintf(stderr, "cannot write trainer-samples.f32\n");
      return 1;
    }
    aigc::write_png_grid("trainer-samples.png", images, 1, 16, 16, 3, aigc::PixelScale::symmetric);
    std::printf("trained 4 steps, exported generator.aigc, wrote %ld samples\n",
                static_cast<long>(images.rows()));

    // A conditional DCGAN for 3x16x16 images of two classes, from the library's builders.
    const aigc::DcganOptions dc{.features = 4, .num_classes = 2};
    auto cg = aigc::make_dcgan_generator<float>(latent, 3, 16, rng, dc);
    auto cd = aigc::make_dcgan_discriminator<float>(3, 16, rng, dc);
    aigc::Dataset<float> pets;  // 3 cats and a dog: the fake labels drawn as often
    pets.images.resize(4, 3 * 16 * 16);
    rng.fill_uniform(pets.images, -1, 1);
    pets.labels = {0, 1, 0, 0};
    pets.num_classes = 2;
    aigc::CganTrainer<float> cgan(
        *cg, *cd,
        {.latent = latent, .fixed_samples = 2, .class_frequencies = aigc::class_counts(pets)});
    const auto cs = cgan.step(pets.images, pets.labels);
    aigc::export_generator("cdcgan.aigc", *cg, latent, {3, 16, 16}, {"cats", "dogs"});
    auto model = aigc::GenerativeModel<float>::load("cdcgan.aigc");
    const std::vector<int> dogs{model.class_index("dogs")};
    if (!std::isfinite(cs.d_loss) || model.generate(z.topRows(1), &dogs).cols() != 3 * 16 * 16) {
      std::fprintf(stderr, "train_dcgan: the conditional DCGAN did not train or load\n");
      return 1;
    }
    std::printf("trained a conditional DCGAN step, sampled class %d of cdcgan.aigc\n", dogs[0]);

    // A feature network for FID on the user's own colour images: its shape and classes go into
    // the weights file and come back with it.
    aigc::ClassifierData shape;
    shape.channels = 3;
    shape.height = shape.width = 16;
    shape.classes = 2;
    shape.class_names = {"cats", "dogs"};
    aigc::ImageClassifier<float> classifier(7, shape);
    classifier.save("classifier.bin");
    const auto loaded = aigc::ImageClassifier<float>::load("classifier.bin");
    aigc::Tensor<float> colour(3, 3 * 16 * 16);
    rng.fill_uniform(colour, 0, 1);
    if (loaded->data().shape() != "3x16x16" || loaded->data().class_names != shape.class_names ||
        loaded->logits(colour) != classifier.logits(colour)) {
      std::fprintf(stderr, "train_dcgan: the classifier did not come back as saved\n");
      return 1;
    }
    std::printf("saved and loaded a %s classifier of %d classes\n", loaded->data().shape().c_str(),
                loaded->data().classes);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_dcgan: %s\n", e.what());
    return 1;
  }
  return 0;
}
