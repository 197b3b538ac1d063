// The tutorial of docs/tutorial.md: a custom layer with its own backward and its gradient check,
// then a user-defined encoder and decoder trained by the library's VaeTrainer, and a user-defined
// generator and discriminator trained by its GanTrainer.
// Usage: tutorial [epochs = 5] [train images = 60000] [output folder = out/tutorial]
#include <aigc/aigc.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

// [custom-layer]
// A learnable per-feature scale and shift: y = x * gamma + beta (gamma, beta: 1 x features).
template <class T>
class ScaleShift : public aigc::Module<T> {
 public:
  explicit ScaleShift(aigc::Index features)
      : gamma_("gamma", 1, features), beta_("beta", 1, features) {
    gamma_.value.setOnes();
  }

  // y = x * gamma + beta, caching x for the backward pass.
  const aigc::Tensor<T>& forward(const aigc::Tensor<T>& x) override {
    aigc::check_cols(x, gamma_.value.cols(), "ScaleShift forward");
    x_ = x;
    y_ = (x.array().rowwise() * gamma_.value.row(0).array()).rowwise() + beta_.value.row(0).array();
    return y_;
  }

  // dgamma += sum_rows(dy * x); dbeta += sum_rows(dy); dx = dy * gamma.
  const aigc::Tensor<T>& backward(const aigc::Tensor<T>& dy) override {
    aigc::check_same_shape(dy, y_, "ScaleShift backward (dY vs Y)");
    if (this->needs_param_grads()) {  // off while a GAN's generator step runs through D
      gamma_.grad += (dy.array() * x_.array()).colwise().sum().matrix();
      beta_.grad += dy.colwise().sum();
    }
    dx_ = dy.array().rowwise() * gamma_.value.row(0).array();
    return dx_;
  }

  std::vector<aigc::Param<T>*> params() override { return {&gamma_, &beta_}; }

  // Parameter names follow the module's path: "encoder.scale.gamma".
  void set_name(const std::string& name) override {
    aigc::Module<T>::set_name(name);
    gamma_.name = this->child_name("gamma");
    beta_.name = this->child_name("beta");
  }

 private:
  aigc::Param<T> gamma_, beta_;
  aigc::Tensor<T> x_, y_, dx_;
};
// [custom-layer]

// [gradient-check]
// The custom layer's backward against central differences of L = sum(R * m(x)), in double, for
// dX and every parameter: aigc's public checker, the one its own layers pass.
double gradient_check(aigc::Module<double>& m, const aigc::Tensor<double>& x) {
  const aigc::GradCheckResult r = aigc::check_module_gradients(m, x);
  return r.worst();  // the largest relative error, ||analytic - numeric|| / (||a|| + ||n||)
}
// [gradient-check]

// [models]
// The encoder: x -> Dense+LeakyReLU -> ScaleShift -> Dense -> [mu | logvar].
template <class T>
std::unique_ptr<aigc::Sequential<T>> make_encoder(aigc::Index in, aigc::Index hidden,
                                                  aigc::Index latent, aigc::Rng& rng) {
  auto m = std::make_unique<aigc::Sequential<T>>();
  m->set_name("encoder");
  m->template emplace<aigc::Dense<T>>(
      "fc1", in, hidden, rng, aigc::DenseOptions{.activation = aigc::Activation::leaky_relu});
  m->template emplace<ScaleShift<T>>("scale", hidden);
  m->template emplace<aigc::Dense<T>>("fc2", hidden, 2 * latent, rng);
  return m;
}

// The decoder: z -> Dense -> ScaleShift -> LeakyReLU -> Dense -> logits of the pixels.
template <class T>
std::unique_ptr<aigc::Sequential<T>> make_decoder(aigc::Index latent, aigc::Index hidden,
                                                  aigc::Index out, aigc::Rng& rng) {
  auto m = std::make_unique<aigc::Sequential<T>>();
  m->set_name("decoder");
  m->template emplace<aigc::Dense<T>>("fc1", latent, hidden, rng);
  m->template emplace<ScaleShift<T>>("scale", hidden);
  m->template emplace<aigc::LeakyReLU<T>>("act", 0.2);
  m->template emplace<aigc::Dense<T>>("fc2", hidden, out, rng);
  return m;
}
// [models]

// [gan-models]
// The generator: z -> Dense+LeakyReLU -> ScaleShift -> Dense+tanh -> pixels in [-1, 1].
template <class T>
std::unique_ptr<aigc::Sequential<T>> make_generator(aigc::Index latent, aigc::Index hidden,
                                                    aigc::Index out, aigc::Rng& rng) {
  const aigc::DenseOptions leaky{.activation = aigc::Activation::leaky_relu, .negative_slope = 0.2};
  auto m = std::make_unique<aigc::Sequential<T>>();
  m->set_name("generator");
  m->template emplace<aigc::Dense<T>>("fc1", latent, hidden, rng, leaky);
  m->template emplace<ScaleShift<T>>("scale", hidden);
  m->template emplace<aigc::Dense<T>>("fc2", hidden, out, rng,
                                      aigc::DenseOptions{.activation = aigc::Activation::tanh});
  return m;
}

// The discriminator: image -> Dense+LeakyReLU -> ScaleShift -> Dense -> one logit per image.
template <class T>
std::unique_ptr<aigc::Sequential<T>> make_discriminator(aigc::Index in, aigc::Index hidden,
                                                        aigc::Rng& rng) {
  const aigc::DenseOptions leaky{.activation = aigc::Activation::leaky_relu, .negative_slope = 0.2};
  auto m = std::make_unique<aigc::Sequential<T>>();
  m->set_name("discriminator");
  m->template emplace<aigc::Dense<T>>("fc1", in, hidden, rng, leaky);
  m->template emplace<ScaleShift<T>>("scale", hidden);
  m->template emplace<aigc::Dense<T>>("fc2", hidden, 1, rng);
  return m;
}
// [gan-models]

int main(int argc, char** argv) {
  const int epochs = argc > 1 ? std::atoi(argv[1]) : 5;
  const long limit = argc > 2 ? std::atol(argv[2]) : 60000;
  const std::string out = argc > 3 ? argv[3] : "out/tutorial";
  try {
    // [check]
    // 1. The custom layer's backward agrees with finite differences.
    ScaleShift<double> layer(5);
    aigc::Rng init(3);
    init.fill_normal(layer.params()[0]->value);
    init.fill_normal(layer.params()[1]->value);
    aigc::Tensor<double> x(4, 5);
    init.fill_normal(x);
    const double err = gradient_check(layer, x);
    std::printf("ScaleShift gradient check: relative error %.2e\n", err);
    if (!(err < 1e-6)) return 1;
    // [check]

    // [train]
    // 2. A VAE built from the user's modules, trained by the library's VaeTrainer.
    auto train =
        aigc::load_mnist_format<float>(aigc::default_fashion_mnist_dir(), aigc::Split::train);
    if (limit < train.size()) {  // a shorter run: the first `limit` images
      train.images.conservativeResize(limit, Eigen::NoChange);
      train.labels.resize(static_cast<std::size_t>(limit));
    }
    aigc::Rng rng(0);
    auto encoder = make_encoder<float>(train.features(), 256, 16, rng);
    auto decoder = make_decoder<float>(16, 256, train.features(), rng);
    aigc::VaeTrainer<float> trainer(*encoder, *decoder, {.latent = 16});
    aigc::BatchLoader<float> loader(train, {.batch_size = 128});
    std::filesystem::create_directories(out);
    double first = 0.0, last = 0.0;
    for (int epoch = 1; epoch <= epochs; ++epoch) {
      const aigc::VaeEpochStats s = trainer.train_epoch(loader);
      (epoch == 1 ? first : last) = s.train_loss;
      std::printf("epoch %d: loss %.2f per image (%.1f s)\n", epoch, s.train_loss, s.seconds);
      aigc::write_png_grid(out + "/samples.png", trainer.sample(64), 1, 28, 28, 8);
    }
    std::printf("wrote %s/samples.png\n", out.c_str());
    // [train]
    if (epochs > 1 && !(last < first)) return 1;

    // [gan-train]
    // 3. A GAN built from the user's modules, trained by the library's GanTrainer. The generator
    // ends in tanh, so the images are scaled to [-1, 1].
    auto images = aigc::load_mnist_format<float>(aigc::default_fashion_mnist_dir(),
                                                 aigc::Split::train, aigc::PixelScale::symmetric);
    images.images.conservativeResize(train.size(), Eigen::NoChange);  // as many as the VAE's
    images.labels.resize(static_cast<std::size_t>(train.size()));
    auto generator = make_generator<float>(64, 256, images.features(), rng);
    auto discriminator = make_discriminator<float>(images.features(), 256, rng);
    aigc::GanTrainer<float> gan(*generator, *discriminator, {.latent = 64});
    aigc::BatchLoader<float> gan_loader(images, {.batch_size = 64});
    for (int epoch = 1; epoch <= epochs; ++epoch) {
      const aigc::GanEpochStats s = gan.train_epoch(gan_loader);
      std::printf("GAN epoch %d: D loss %.3f, G loss %.3f, D(real) %.2f, D(fake) %.2f\n", epoch,
                  s.d_loss, s.g_loss, s.d_real, s.d_fake);
      aigc::write_png_grid(out + "/gan-samples.png", gan.sample_fixed(), 1, 28, 28, 8,
                           aigc::PixelScale::symmetric);
    }
    std::printf("wrote %s/gan-samples.png\n", out.c_str());
    // [gan-train]
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tutorial: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
