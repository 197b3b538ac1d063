#include <onnx/shape_inference/implementation.h>

#include <aigc/export/onnx.hpp>
#include <aigc/models/conv_vae.hpp>
#include <aigc/models/cvae.hpp>
#include <aigc/models/dcgan.hpp>
#include <aigc/models/gan.hpp>
#include <aigc/models/vae.hpp>
#include <catch2/catch.hpp>

#include "support/idx_files.hpp"

using namespace aigc;

namespace {

// Gives every BatchNorm running statistics away from (0, 1), so that the export's use of them
// shows.
void move_running_statistics(Module<float>& m, Rng& rng) {
  for (Buffer<float>* b : m.buffers()) {
    const bool var = b->name.find("running_var") != std::string::npos;
    rng.fill_uniform(b->value, var ? 0.5f : -0.5f, var ? 2.0f : 0.5f);
  }
}

// The dims of a value's tensor type: -1 for a symbolic dimension.
std::vector<std::int64_t> dims_of(const onnx::ValueInfoProto& v) {
  std::vector<std::int64_t> out;
  for (const auto& d : v.type().tensor_type().shape().dim())
    out.push_back(d.has_dim_value() ? d.dim_value() : -1);
  return out;
}

std::string metadata(const onnx::ModelProto& m, const std::string& key) {
  for (const auto& e : m.metadata_props())
    if (e.key() == key) return e.value();
  return "<missing>";
}

// Exports `module`, then checks the file: onnx::checker on the file, strict shape inference
// giving image [N, C, H, W], the inputs, the metadata, and a load-and-save round trip that the
// checker passes again.
void check_export(Module<float>& module, const GenerativeModelInfo& info, const std::string& tag) {
  INFO(tag);
  test::TempDir dir("onnx-" + tag);
  export_onnx(dir / "model.onnx", module, info);
  REQUIRE_NOTHROW(onnx::checker::check_model(dir / "model.onnx"));

  onnx::ModelProto m = load_onnx(dir / "model.onnx");
  CHECK(m.opset_import(0).version() >= 13);
  REQUIRE(m.graph().input_size() == (info.num_classes > 0 ? 2 : 1));
  CHECK(m.graph().input(0).name() == "z");
  CHECK(dims_of(m.graph().input(0)) == std::vector<std::int64_t>{-1, info.latent});
  if (info.num_classes > 0) {
    CHECK(m.graph().input(1).name() == "label");
    CHECK(m.graph().input(1).type().tensor_type().elem_type() == onnx::TensorProto::INT64);
    CHECK(dims_of(m.graph().input(1)) == std::vector<std::int64_t>{-1});
  }
  const std::vector<std::int64_t> image{-1, info.image_shape[0], info.image_shape[1],
                                        info.image_shape[2]};
  CHECK(dims_of(m.graph().output(0)) == image);
  CHECK(metadata(m, "latent") == std::to_string(info.latent));
  CHECK(metadata(m, "num_classes") == std::to_string(info.num_classes));
  CHECK(metadata(m, "kind") == info.kind);
  CHECK(metadata(m, "pixel_range") ==
        (info.output == ModelOutput::symmetric ? "[-1, 1]" : "[0, 1]"));

  // Every node's shapes agree with the declared output (strict: node errors throw).
  onnx::ModelProto inferred = m;
  REQUIRE_NOTHROW(onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(),
                                                     onnx::ShapeInferenceOptions(true, 1)));
  CHECK(dims_of(inferred.graph().output(0)) == image);

  save_onnx(dir / "again.onnx", m);
  CHECK_NOTHROW(onnx::checker::check_model(dir / "again.onnx"));
}

GenerativeModelInfo generator_info(Index latent, SampleShape shape, int classes = 0) {
  GenerativeModelInfo i;
  i.latent = latent;
  i.image_shape = std::move(shape);
  i.num_classes = classes;
  return i;
}

GenerativeModelInfo decoder_info(Index latent, SampleShape shape, int classes = 0) {
  GenerativeModelInfo i = generator_info(latent, std::move(shape), classes);
  i.kind = "decoder";
  i.output = ModelOutput::logits;
  return i;
}

}  // namespace

TEST_CASE("onnx::checker passes the exports of the library's generators and decoders", "[onnx]") {
  Rng rng(11);
  SECTION("VAE decoder") {
    auto dec = make_vae_decoder<float>(20, 400, 784, rng);
    check_export(*dec, decoder_info(20, {1, 28, 28}), "vae");
  }
  SECTION("MLP generator") {
    auto g = make_mlp_generator<float>(64, 784, rng);
    check_export(*g, generator_info(64, {1, 28, 28}), "mlp");
  }
  SECTION("DCGAN generator, 28x28") {
    auto g = make_dcgan_generator<float>(100, rng);
    move_running_statistics(*g, rng);
    g->set_training(false);
    check_export(*g, generator_info(100, {1, 28, 28}), "dcgan28");
  }
  SECTION("DCGAN generator, 64x64 colour") {
    auto g = make_dcgan_generator<float>(100, 3, 64, rng);
    move_running_statistics(*g, rng);
    check_export(*g, generator_info(100, {3, 64, 64}), "dcgan64");
  }
  SECTION("cGAN generator") {
    auto g = make_mlp_generator<float>(64, 784, rng, 10);
    GenerativeModelInfo info = generator_info(64, {1, 28, 28}, 10);
    info.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle \"boot\""};
    check_export(*g, info, "cgan");
  }
  SECTION("CVAE decoder") {
    auto dec = make_cvae_decoder<float>(20, 400, 784, 10, rng);
    check_export(*dec, decoder_info(20, {1, 28, 28}, 10), "cvae");
  }
  SECTION("conv VAE decoder") {
    auto dec = make_conv_vae_decoder<float>(16, 3, 32, rng);
    check_export(*dec, decoder_info(16, {3, 32, 32}), "convvae");
  }
}

TEST_CASE("Every layer type of the library exports", "[onnx]") {
  Rng rng(12);
  // z -> Dense, BN1d, LeakyReLU, Dropout -> Reshape 4x4x4 -> embedding conditioning on the image
  // -> Conv2d (padding 1), BN2d, Sigmoid -> Flatten -> one-hot conditioning -> Dense, Tanh.
  Sequential<float> g(SampleShape{6});
  g.set_name("g");
  g.emplace<Dense<float>>("fc1", 6, 64, rng);
  g.emplace<BatchNorm1d<float>>("bn1", 64);
  g.emplace<LeakyReLU<float>>("leaky", 0.1);
  g.emplace<Dropout<float>>("drop", 0.5);
  g.emplace<Reshape<float>>("reshape", std::vector<Index>{4, 4, 4});
  g.emplace<Conditioning<float>>(
      "cond_image", 4, 3, rng,
      ConditioningOptions{
          .code = LabelCode::embedding, .embedding_dim = 2, .height = 4, .width = 4});
  g.emplace<Conv2d<float>>("conv", 6, 5, 3, 4, 4, rng, Conv2dOptions{.padding = 1});
  g.emplace<BatchNorm2d<float>>("bn2", 5);
  g.emplace<Sigmoid<float>>("sigmoid");
  g.emplace<Flatten<float>>("flatten");
  g.emplace<Conditioning<float>>("cond", 80, 3, rng);
  g.emplace<Dense<float>>("fc2", 83, 12, rng, DenseOptions{.bias = false});
  g.emplace<Tanh<float>>("tanh");
  move_running_statistics(g, rng);
  g.set_training(false);
  check_export(g, generator_info(6, {3, 2, 2}, 3), "layers");
}

namespace {

// A layer of the user's: y = 2 x.
struct Double : Module<float> {
  static constexpr const char* type_name = "Double";
  Tensor<float> y;
  const Tensor<float>& forward(const Tensor<float>& x) override { return y = 2 * x; }
  const Tensor<float>& backward(const Tensor<float>& dy) override { return y = 2 * dy; }
};

}  // namespace

TEST_CASE("A layer without an ONNX form is refused by name and type; exporters can be registered",
          "[onnx]") {
  Rng rng(13);
  Sequential<float> g(SampleShape{4});
  g.set_name("g");
  g.emplace<Dense<float>>("fc", 4, 12, rng);
  g.add("twice", std::make_unique<Double>());
  test::TempDir dir("onnx-refused");
  CHECK_THROWS_WITH(export_onnx(dir / "g.onnx", g, generator_info(4, {3, 2, 2})),
                    Catch::Contains("layer 'g.twice'") && Catch::Contains("has no ONNX form") &&
                        Catch::Contains("Double"));
  CHECK_FALSE(std::filesystem::exists(dir / "g.onnx"));

  register_onnx_exporter<Double>([](Double& d, const OnnxValue& in, OnnxGraph& graph) {
    const float two = 2.0f;
    const std::string k = graph.initializer(d.name() + ".two", {}, &two);
    return OnnxValue{OnnxGraph::output(graph.node("Mul", {in.name, k}, d.name())), in.shape};
  });
  check_export(g, generator_info(4, {3, 2, 2}), "registered");
}

TEST_CASE("Malformed models and files give clear errors", "[onnx]") {
  Rng rng(14);
  test::TempDir dir("onnx-malformed");
  auto g = make_mlp_generator<float>(8, 784, rng);
  // The image shape does not match the output.
  CHECK_THROWS_WITH(export_onnx(dir / "g.onnx", *g, generator_info(8, {1, 20, 20})),
                    Catch::Contains("outputs {784}") && Catch::Contains("{1, 20, 20}"));
  // Labels for a model without a Conditioning layer, and a conditional model without classes.
  CHECK_THROWS_WITH(export_onnx(dir / "g.onnx", *g, generator_info(8, {1, 28, 28}, 10)),
                    Catch::Contains("no Conditioning layer"));
  auto c = make_mlp_generator<float>(8, 784, rng, 10);
  GenerativeModelInfo info = generator_info(8, {1, 28, 28});
  info.class_names = {"a", "b"};
  CHECK_THROWS_WITH(export_onnx(dir / "g.onnx", *c, info),
                    Catch::Contains("2 class names for 10 classes"));
  // A latent size that is not the first layer's.
  CHECK_THROWS_WITH(export_onnx(dir / "g.onnx", *g, generator_info(9, {1, 28, 28})),
                    Catch::Contains("Dense 'generator.fc1' takes 8 features, is given 9"));
  // Files that are not ONNX models.
  CHECK_THROWS_WITH(load_onnx(dir / "missing.onnx"), Catch::Contains("cannot open"));
  {
    std::ofstream junk(dir / "junk.onnx", std::ios::binary);
    junk << "\xff\xff\xff\xff not a protobuf";
  }
  CHECK_THROWS_WITH(load_onnx(dir / "junk.onnx"), Catch::Contains("not an ONNX model"));
  CHECK_THROWS_WITH(export_onnx(dir / "no/such/folder/g.onnx", *g, generator_info(8, {1, 28, 28})),
                    Catch::Contains("cannot write"));
}

TEST_CASE("A model file exports as its GenerativeModel", "[onnx]") {
  Rng rng(15);
  test::TempDir dir("onnx-model-file");
  auto dec = make_cvae_decoder<float>(4, 16, 12, 3, rng);
  export_decoder(dir / "d.aigc", *dec, 4, {1, 3, 4}, {"a", "b", "c"});
  auto model = GenerativeModel<float>::load(dir / "d.aigc");
  export_onnx(dir / "d.onnx", model);
  CHECK_NOTHROW(onnx::checker::check_model(dir / "d.onnx"));
  const onnx::ModelProto m = load_onnx(dir / "d.onnx");
  CHECK(metadata(m, "class_names") == "[\"a\", \"b\", \"c\"]");
  CHECK(metadata(m, "image_shape") == "[1, 3, 4]");
  CHECK(metadata(m, "pixel_range") == "[0, 1]");
}
