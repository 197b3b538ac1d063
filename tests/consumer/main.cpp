// A user's program: builds a tiny VAE with aigc, trains it a few steps on random binary images,
// and checks that the loss falls and that the version macros match the CMake package.
#include <aigc/aigc.hpp>
#include <cstdio>
#include <cstring>

int main() {
  if (std::strcmp(AIGC_VERSION_STRING, AIGC_CONSUMER_EXPECTED_VERSION) != 0) {
    std::fprintf(stderr, "aigc/version.hpp says %s, the build system says %s\n",
                 AIGC_VERSION_STRING, AIGC_CONSUMER_EXPECTED_VERSION);
    return 1;
  }
  aigc::Rng rng(1);
  aigc::Tensor<float> x(32, 16);
  rng.fill_uniform(x, 0.0, 1.0);
  x = (x.array() > 0.5f).cast<float>();

  auto encoder = aigc::make_vae_encoder<float>(16, 8, 2, rng);
  auto decoder = aigc::make_vae_decoder<float>(2, 8, 16, rng);
  aigc::VaeOptions options;
  options.latent = 2;
  options.adam.lr = 1e-2;
  aigc::VaeTrainer<float> trainer(*encoder, *decoder, options);
  double first = 0.0, last = 0.0;
  for (int step = 0; step < 50; ++step) {
    (step == 0 ? first : last) = trainer.step(x).loss;
  }
  std::printf("aigc %s: loss %.3f -> %.3f\n", AIGC_VERSION_STRING, first, last);
  return last < first ? 0 : 1;
}
