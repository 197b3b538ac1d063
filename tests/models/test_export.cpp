#include <aigc/models/cvae.hpp>
#include <aigc/models/dcgan.hpp>
#include <aigc/models/export.hpp>
#include <aigc/models/gan.hpp>
#include <catch2/catch.hpp>
#include <cstring>

#include "support/idx_files.hpp"

using namespace aigc;

namespace {

bool export_same_bits(const Tensor<float>& a, const Tensor<float>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0;
}

}  // namespace

TEST_CASE("An exported DCGAN generator draws the trainer's images bit for bit", "[export]") {
  test::TempDir dir("export-dcgan");
  Rng rng(1);
  auto g = make_dcgan_generator<float>(8, rng);
  auto d = make_dcgan_discriminator<float>(rng);
  GanTrainer<float> trainer(*g, *d, {.latent = 8, .fixed_samples = 4});
  Tensor<float> real(4, 28 * 28);
  rng.fill_uniform(real, -1, 1);
  trainer.step(real);
  trainer.step(real);  // BatchNorm's running statistics have moved

  export_generator(dir / "generator.aigc", *g, 8, {1, 28, 28});
  auto model = GenerativeModel<float>::load(dir / "generator.aigc");
  CHECK(model.info().kind == "generator");
  CHECK(model.info().latent == 8);
  CHECK(model.info().pixel_scale() == PixelScale::symmetric);
  CHECK_FALSE(model.conditional());
  Tensor<float> z(5, 8);
  Rng(42).fill_normal(z);
  CHECK(export_same_bits(model.generate(z), trainer.generate(z)));
  CHECK(export_same_bits(model.generate(trainer.fixed_noise()), trainer.sample_fixed()));
}

TEST_CASE("An exported CVAE decoder carries its classes and decodes as the trainer does",
          "[export]") {
  test::TempDir dir("export-cvae");
  Rng rng(2);
  auto enc = make_cvae_encoder<float>(12, 8, 3, 4, rng);
  auto dec = make_cvae_decoder<float>(3, 8, 12, 4, rng);
  CvaeTrainer<float> trainer(*enc, *dec, VaeOptions{.latent = 3});
  Tensor<float> x(6, 12);
  rng.fill_uniform(x, 0, 1);
  trainer.step(x, {0, 1, 2, 3, 0, 1});
  const std::vector<std::string> names = {"zero", "one", "two", "three"};
  export_decoder(dir / "decoder.aigc", *dec, 3, {1, 3, 4}, names);

  auto model = GenerativeModel<float>::load(dir / "decoder.aigc");
  CHECK(model.info().kind == "decoder");
  CHECK(model.info().num_classes == 4);
  CHECK(model.info().class_names == names);
  CHECK(model.info().pixel_scale() == PixelScale::unit);
  CHECK(model.class_index("two") == 2);
  CHECK(model.class_index("3") == 3);
  CHECK_THROWS_WITH(model.class_index("four"),
                    Catch::Contains("class 'four'") && Catch::Contains("zero, one, two, three"));
  Tensor<float> z(3, 3);
  Rng(7).fill_normal(z);
  const std::vector<int> labels = {3, 0, 2};
  CHECK(export_same_bits(model.generate(z, &labels), trainer.decode(z, labels)));
  CHECK_THROWS_WITH(model.generate(z), Catch::Contains("needs one label per row"));
  // Between classes: both conditioning layers get the mixed code; the ends are the plain labels.
  const std::vector<int> to = {1, 1, 0};
  const Tensor<float> ends = model.generate_between(z, labels, to, {0.0, 1.0, 0.5});
  CHECK(ends.row(0) == trainer.decode(z, labels).row(0));
  CHECK(ends.row(1) == trainer.decode(z, to).row(1));
  CHECK(ends.row(2) != trainer.decode(z, labels).row(2));
  CHECK(ends.row(2) != trainer.decode(z, to).row(2));
  CHECK(export_same_bits(model.generate(z, &labels), trainer.decode(z, labels)));  // mix ended
  CHECK_THROWS_WITH(model.generate_between(z, {0}, {1}, {0.5}),
                    Catch::Contains("one label per row, got 1 for 3"));

  // Class names that do not match the conditioning layers are refused at export.
  CHECK_THROWS_WITH(export_decoder(dir / "bad.aigc", *dec, 3, {1, 3, 4}, {"a", "b"}),
                    Catch::Contains("takes 4 classes, not 2"));
  // A model file without the metadata of an export is not a generative model.
  save_model(dir / "plain.aigc", *dec);
  CHECK_THROWS_WITH(GenerativeModel<float>::load(dir / "plain.aigc"),
                    Catch::Contains("not an exported generator or decoder") &&
                        Catch::Contains("'kind' is missing"));
}

TEST_CASE("An exported cGAN generator samples a class by index or name", "[export]") {
  test::TempDir dir("export-cgan");
  Rng rng(3);
  auto g = make_mlp_generator<float>(6, 16, rng, 3);
  auto d = make_mlp_discriminator<float>(16, rng, 3);
  CganTrainer<float> trainer(*g, *d, {.latent = 6, .fixed_samples = 6});
  Tensor<float> real(4, 16);
  rng.fill_uniform(real, -1, 1);
  const std::vector<int> real_labels = {0, 1, 2, 1};
  trainer.step(real, real_labels);
  export_generator(dir / "cgan.aigc", *g, 6, {1, 4, 4}, {"cat", "dog", "owl"});

  auto model = GenerativeModel<float>::load(dir / "cgan.aigc");
  CHECK(model.conditional());
  CHECK(model.info().num_classes == 3);
  const std::vector<int> owls(6, model.class_index("owl"));
  CHECK(export_same_bits(model.generate(trainer.fixed_noise(), &owls),
                         trainer.generate(trainer.fixed_noise(), owls)));
  CHECK(export_same_bits(model.generate(trainer.fixed_noise(), &trainer.fixed_labels()),
                         trainer.sample_fixed()));
  // An unconditional export of a conditional generator would lose its classes: the layers say 3.
  CHECK_THROWS_WITH(export_generator(dir / "x.aigc", *g, 6, {1, 4, 4}, {"cat"}),
                    Catch::Contains("conditioning layer 'generator.cond' takes 3 classes, not 1"));
}
