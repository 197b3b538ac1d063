// A user's sampling program, with no model-building code: it loads generator.aigc (written by
// aigc_consumer_dcgan) with load_model_file and draws the images for the same codes
// (sampler-samples.f32 and .png), which must equal the trainer's bit for bit.
#include <aigc/aigc.hpp>
#include <cstdio>

int main() {
  try {
    aigc::ModelFile<float> file = aigc::load_model_file<float>("generator.aigc");
    const auto latent = file.metadata.get_int("latent", 1, 4096);
    const auto shape = file.metadata.get_ints("image_shape", 1, 4096);
    aigc::Tensor<float> z(6, latent);
    aigc::Rng(123).fill_normal(z);
    const aigc::Tensor<float> images = file.module->forward(z);
    std::FILE* f = std::fopen("sampler-samples.f32", "wb");
    if (!f ||
        std::fwrite(images.data(), sizeof(float), images.size(), f) !=
            static_cast<std::size_t>(images.size()) ||
        std::fclose(f) != 0) {
      std::fprintf(stderr, "cannot write sampler-samples.f32\n");
      return 1;
    }
    aigc::write_png_grid("sampler-samples.png", images, shape[0], shape[1], shape[2], 3,
                         aigc::PixelScale::symmetric);
    std::printf("loaded generator.aigc (%zu tensors), drew %ld samples\n",
                file.module->params().size() + file.module->buffers().size(),
                static_cast<long>(images.rows()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sample: %s\n", e.what());
    return 1;
  }
  return 0;
}
