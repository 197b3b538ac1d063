#include <aigc/io/model_file.hpp>
#include <aigc/models/dcgan.hpp>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "support/idx_files.hpp"

using namespace aigc;

namespace {

// A custom layer for the registration tests: y = x * scale, scale a parameter per feature.
template <class T>
class ModelFileScale : public Module<T> {
 public:
  explicit ModelFileScale(Index features) : scale_("scale", 1, features) {
    scale_.value.setConstant(T(2));
  }
  const Tensor<T>& forward(const Tensor<T>& x) override {
    y_ = x.array().rowwise() * scale_.value.row(0).array();
    return y_;
  }
  const Tensor<T>& backward(const Tensor<T>& dy) override { return dy; }
  std::vector<Param<T>*> params() override { return {&scale_}; }
  void set_name(const std::string& name) override {
    Module<T>::set_name(name);
    scale_.name = this->child_name("scale");
  }
  Index features() const { return scale_.value.cols(); }

 private:
  Param<T> scale_;
  Tensor<T> y_;
};

void model_file_register_scale() {
  register_layer<ModelFileScale<float>>(
      "ModelFileScale",
      [](const Config& c) {
        return std::make_unique<ModelFileScale<float>>(c.get_int("features", 1, config_max_size));
      },
      [](const ModelFileScale<float>& m, Config& c) { c.set_int("features", m.features()); });
}

// Every library layer, nested: Conditioning (embedding), Conv2d, BatchNorm2d, LeakyReLU, an
// inner Sequential (ConvTranspose2d, ReLU), Flatten, Dropout, Dense, BatchNorm1d, Sigmoid,
// Activation (tanh), Reshape, Tanh.
std::unique_ptr<Sequential<float>> model_file_zoo(Rng& rng) {
  auto net = std::make_unique<Sequential<float>>(SampleShape{2, 6, 6});
  net->set_name("zoo");
  net->emplace<Conditioning<float>>(
      "cond", 2, 3, rng,
      ConditioningOptions{
          .code = LabelCode::embedding, .embedding_dim = 2, .height = 6, .width = 6});
  net->emplace<Conv2d<float>>("conv", 4, 5, 3, rng, Conv2dOptions{.stride = 2, .padding = 1});
  net->emplace<BatchNorm2d<float>>("bn2", 5);
  net->emplace<LeakyReLU<float>>("lrelu", 0.2);
  auto& inner = net->add("inner", std::make_unique<Sequential<float>>());
  inner.emplace<ConvTranspose2d<float>>("convt", 5, 3, 2, 3, 3, rng,
                                        ConvTranspose2dOptions{.stride = 1, .bias = false});
  inner.emplace<ReLU<float>>("relu");
  net->emplace<Flatten<float>>("flat");
  net->emplace<Dropout<float>>("drop", 0.25, 9);
  net->emplace<Dense<float>>("fc", 7, rng, DenseOptions{.activation = Activation::relu});
  net->emplace<BatchNorm1d<float>>("bn1", 7);
  net->emplace<Sigmoid<float>>("sig");
  net->emplace<ActivationLayer<float>>("act", Activation::tanh);
  net->emplace<Reshape<float>>("reshape", std::vector<Index>{7, 1, 1});
  net->emplace<Tanh<float>>("tanh");
  return net;
}

std::vector<std::uint8_t> model_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void model_file_write_bytes(const std::string& path, const std::vector<std::uint8_t>& b) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// The model state of a small generator, edited by `edit`, written to `path`.
template <class Edit>
void model_file_edited(const std::string& path, Edit edit) {
  Rng rng(3);
  Sequential<float> g;
  g.set_name("g");
  g.emplace<Dense<float>>("fc", 4, 12, rng);
  g.emplace<Conv2d<float>>("conv", 1, 2, 3, 3, 4, rng);
  StateDict s = model_state(g);
  StateDict edited;
  for (const StateEntry& e : s.entries()) edited.put(edit(e));
  write_checkpoint(path, edited);
}

StateEntry model_file_text(const std::string& name, const std::string& text) {
  return {name, DType::u8, 1, text.size(), std::vector<std::uint8_t>(text.begin(), text.end())};
}

StateEntry model_file_int(const std::string& name, std::int64_t v) {
  StateEntry e{name, DType::i64, 1, 1, std::vector<std::uint8_t>(8)};
  std::memcpy(e.bytes.data(), &v, 8);
  return e;
}

}  // namespace

TEST_CASE("A DCGAN generator with BatchNorm saved and loaded draws the same images",
          "[model_file]") {
  test::TempDir dir("model-dcgan");
  Rng rng(5);
  auto g = make_dcgan_generator<float>(8, rng);
  Tensor<float> z(6, 8);
  rng.fill_normal(z);
  for (int i = 0; i < 3; ++i) g->forward(z);  // train mode: the running statistics move
  g->set_training(false);
  const Tensor<float> want = g->forward(z);

  Config meta;
  meta.set_int("latent", 8);
  meta.set_ints("image_shape", {1, 28, 28});
  meta.set_strings("class_names", {"T-shirt/top", "", "Ankle boot"});
  meta.set_double("pixel_scale", -1.5);
  const std::string path = dir / "g.aigc";
  save_model(path, *g, meta);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

  ModelFile<float> file = load_model_file<float>(path);
  REQUIRE(file.module);
  CHECK_FALSE(file.module->training());
  CHECK(file.module->name() == "generator");
  const Tensor<float> got = file.module->forward(z);
  REQUIRE(got.rows() == want.rows());
  CHECK(std::memcmp(got.data(), want.data(), sizeof(float) * want.size()) == 0);
  CHECK(file.metadata.get_int("latent", 1, 1000) == 8);
  CHECK(file.metadata.get_ints("image_shape", 1, 100) == std::vector<std::int64_t>{1, 28, 28});
  CHECK(file.metadata.get_strings("class_names") ==
        std::vector<std::string>{"T-shirt/top", "", "Ankle boot"});
  CHECK(file.metadata.get_double("pixel_scale", -2, 2) == -1.5);

  // The same module saved again gives the same bytes.
  const std::string again = dir / "again.aigc";
  save_model(again, *file.module, file.metadata);
  CHECK(model_file_bytes(again) == model_file_bytes(path));

  // load_model gives the module alone; a double model from the float file computes the same.
  auto only = load_model<float>(path);
  CHECK(only->params().size() == g->params().size());
  auto wide = load_model<double>(path);
  const Tensor<double> got64 = wide->forward(z.cast<double>());
  CHECK((got64 - want.cast<double>()).cwiseAbs().maxCoeff() < 1e-4);
}

TEST_CASE("Every library layer, nested, round-trips through a model file", "[model_file]") {
  test::TempDir dir("model-zoo");
  Rng rng(11);
  auto net = model_file_zoo(rng);
  Tensor<float> x(4, 2 * 6 * 6);
  rng.fill_normal(x);
  const std::vector<int> labels = {0, 2, 1, 2};
  for (Conditioning<float>* c : conditioning_layers(*net)) c->set_labels(labels);
  net->forward(x);
  net->forward(x);
  net->set_training(false);
  const Tensor<float> want = net->forward(x);
  CHECK(net->output_shape() == SampleShape{7, 1, 1});

  save_model(dir / "zoo.aigc", *net);
  auto back = load_model<float>(dir / "zoo.aigc");
  auto& seq = dynamic_cast<Sequential<float>&>(*back);
  REQUIRE(seq.size() == net->size());
  for (std::size_t i = 0; i < seq.size(); ++i) {
    CHECK(seq.child_key(i) == net->child_key(i));
    CHECK(typeid(seq[i]) == typeid((*net)[i]));
  }
  CHECK(seq.input_shape() == SampleShape{2, 6, 6});
  conditioning_layer(seq).set_labels(labels);
  const Tensor<float> got = back->forward(x);
  REQUIRE(got.cols() == want.cols());
  CHECK(std::memcmp(got.data(), want.data(), sizeof(float) * want.size()) == 0);
  CHECK(dynamic_cast<Dropout<float>&>(seq[6]).p() == 0.25);
}

TEST_CASE("A custom layer joins model files through register_layer", "[model_file]") {
  test::TempDir dir("model-custom");
  Rng rng(2);
  Sequential<float> net;
  net.set_name("net");
  net.emplace<Dense<float>>("fc", 3, 4, rng);
  net.emplace<ModelFileScale<float>>("scale", 4);
  const std::string path = dir / "custom.aigc";
  // Registration is process-wide: the unregistered case runs on a type never registered.
  Sequential<double> unknown;
  unknown.emplace<ModelFileScale<double>>("mystery", 4);
  CHECK_THROWS_WITH(save_model(dir / "x.aigc", unknown),
                    Catch::Contains("layer 'mystery'") && Catch::Contains("register_layer"));

  model_file_register_scale();
  net.params()[2]->value.setConstant(3.0f);
  save_model(path, net);
  auto back = load_model<float>(path);
  Tensor<float> x = Tensor<float>::Ones(2, 3);
  CHECK(back->forward(x) == net.forward(x));
  CHECK(dynamic_cast<Sequential<float>&>(*back)[1].params()[0]->name == "net.scale.scale");

  // A file naming a type this program does not know is refused, naming the type and the layer.
  model_file_edited(dir / "unknown.aigc", [](const StateEntry& e) {
    return e.name == "layer/2/type" ? model_file_text(e.name, "Conv9d") : e;
  });
  CHECK_THROWS_AS(load_model<float>(dir / "unknown.aigc"), FileError);
  CHECK_THROWS_WITH(load_model<float>(dir / "unknown.aigc"),
                    Catch::Contains("layer 'g.conv'") &&
                        Catch::Contains("unknown layer type 'Conv9d'") &&
                        Catch::Contains("register_layer"));
}

TEST_CASE("Bad model files are refused with a message naming what is wrong", "[model_file]") {
  test::TempDir dir("model-bad");
  const std::string good = dir / "good.aigc";
  model_file_edited(good, [](const StateEntry& e) { return e; });
  REQUIRE(load_model<float>(good));
  const std::vector<std::uint8_t> bytes = model_file_bytes(good);

  SECTION("truncated") {
    std::vector<std::uint8_t> b(bytes.begin(), bytes.end() - 7);
    model_file_write_bytes(dir / "t.aigc", b);
    CHECK_THROWS_WITH(load_model<float>(dir / "t.aigc"), Catch::Contains("truncated or corrupt"));
  }
  SECTION("CRC flipped") {
    std::vector<std::uint8_t> b = bytes;
    b[24] ^= 0x01;
    model_file_write_bytes(dir / "c.aigc", b);
    CHECK_THROWS_WITH(load_model<float>(dir / "c.aigc"), Catch::Contains("CRC-32 mismatch"));
  }
  SECTION("an option out of range") {
    model_file_edited(dir / "o.aigc", [](const StateEntry& e) {
      return e.name == "layer/2/option/kernel" ? model_file_int(e.name, 0) : e;
    });
    CHECK_THROWS_WITH(load_model<float>(dir / "o.aigc"),
                      Catch::Contains("layer 'g.conv' (Conv2d)") &&
                          Catch::Contains("option 'kernel' = 0 is out of range [1, 1024]"));
  }
  SECTION("an option missing, an unknown option") {
    model_file_edited(dir / "m.aigc", [](const StateEntry& e) {
      return e.name == "layer/1/option/bias" ? model_file_int("layer/1/option/biass", 1) : e;
    });
    CHECK_THROWS_WITH(
        load_model<float>(dir / "m.aigc"),
        Catch::Contains("layer 'g.fc' (Dense)") && Catch::Contains("option 'bias' is missing"));
  }
  SECTION("a tensor whose shape differs from its layer's options") {
    model_file_edited(dir / "s.aigc", [](const StateEntry& e) {
      return e.name == "layer/1/option/in_features" ? model_file_int(e.name, 5) : e;
    });
    CHECK_THROWS_AS(load_model<float>(dir / "s.aigc"), ShapeError);
    CHECK_THROWS_WITH(
        load_model<float>(dir / "s.aigc"),
        Catch::Contains("'param/g.fc.weight' has shape [12 x 4]") && Catch::Contains("[12 x 5]"));
  }
  SECTION("options asking for more values than the file holds") {
    model_file_edited(dir / "h.aigc", [](const StateEntry& e) {
      return e.name == "layer/1/option/in_features" ? model_file_int(e.name, 1 << 24) : e;
    });
    CHECK_THROWS_WITH(load_model<float>(dir / "h.aigc"),
                      Catch::Contains("layer 'g.fc' (Dense)") &&
                          Catch::Contains("the weight and bias would hold 201326604 values"));
  }
  SECTION("a tensor header of 2^40 values") {
    // The weight entry's header claims 2^20 x 2^20 values: refused before any allocation.
    StateDict s = read_checkpoint(good);
    std::vector<std::uint8_t> b = serialize_checkpoint(s);
    const std::string name = "param/g.fc.weight";
    auto at = std::search(b.begin(), b.end(), name.begin(), name.end());
    REQUIRE(at != b.end());
    const std::size_t rows_at = static_cast<std::size_t>(at - b.begin()) + name.size() + 1;
    const std::uint64_t huge = std::uint64_t{1} << 20;
    std::memcpy(&b[rows_at], &huge, 8);
    std::memcpy(&b[rows_at + 8], &huge, 8);
    const std::uint32_t crc =
        detail::crc32_of(b.data() + checkpoint_header_size, b.size() - checkpoint_header_size);
    std::memcpy(&b[24], &crc, 4);
    model_file_write_bytes(dir / "e.aigc", b);
    CHECK_THROWS_WITH(load_model<float>(dir / "e.aigc"),
                      Catch::Contains("'param/g.fc.weight' [1048576 x 1048576] of f32 needs more"));
  }
  SECTION("a training checkpoint is not a model file") {
    StateDict s;
    s.put_tensor("param/fc.weight", Tensor<float>(Tensor<float>::Zero(2, 2)));
    write_checkpoint(dir / "ckpt.aigc", s);
    CHECK_THROWS_WITH(load_model<float>(dir / "ckpt.aigc"),
                      Catch::Contains("not a model file") && Catch::Contains("load_parameters"));
  }
  SECTION("a layer inside a layer that is not a container") {
    model_file_edited(dir / "p.aigc", [](const StateEntry& e) {
      return e.name == "layer/2/parent" ? model_file_int(e.name, 1) : e;
    });
    CHECK_THROWS_WITH(load_model<float>(dir / "p.aigc"),
                      Catch::Contains("layer 'conv' is placed inside layer 'g.fc'"));
  }
  SECTION("a tensor the architecture does not have") {
    model_file_edited(dir / "x.aigc", [](const StateEntry& e) {
      return e.name == "param/g.conv.bias"
                 ? StateEntry{"param/g.conv.gain", e.dtype, e.rows, e.cols, e.bytes}
                 : e;
    });
    CHECK_THROWS_WITH(load_model<float>(dir / "x.aigc"),
                      Catch::Contains("parameter 'g.conv.bias' [1 x 2] is missing"));
  }
}

TEST_CASE("save_model refuses a tree with two parameters of one name", "[model_file]") {
  test::TempDir dir("model-dup");
  model_file_register_scale();
  Sequential<float> net;
  net.set_name("net");
  // A custom layer that forgets to name its parameter after itself: both are called "w".
  struct Forgetful : Module<float> {
    Param<float> w{"w", 1, 2};
    const Tensor<float>& forward(const Tensor<float>& x) override { return x; }
    const Tensor<float>& backward(const Tensor<float>& dy) override { return dy; }
    std::vector<Param<float>*> params() override { return {&w}; }
  };
  net.add("a", std::make_unique<Forgetful>());
  net.add("b", std::make_unique<Forgetful>());
  CHECK_THROWS_WITH(save_model(dir / "dup.aigc", net),
                    Catch::Contains("two parameters are named 'w'") &&
                        Catch::Contains("layer 'net.a'") && Catch::Contains("layer 'net.b'"));
  CHECK_FALSE(std::filesystem::exists(dir / "dup.aigc"));
}
