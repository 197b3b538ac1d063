// aigc's side of scripts/check_onnx.sh: exports generators and decoders as model files and ONNX
// files and writes fixed inputs with aigc's outputs and sampling times, for ONNX Runtime to
// match (scripts/check_onnx.js).
//   onnx_reference <folder>                     the six models of the acceptance list, randomly
//                                               initialised (BatchNorm statistics of a few
//                                               training-mode batches), batches 1 and 64
//   onnx_reference --model <file.aigc> --n <n> <folder>
//                                               one trained model file, n codes, labels i % classes
//                                               (also written as an IDX label file)
//   onnx_reference --to-idx <in.f32> <shape C,H,W> <symmetric|unit> <out.idx>
//                                               raw float images to an IDX file for evaluate
// Writes <folder>/manifest.json; each tensor as raw little-endian float32 / int64.
#include <aigc/aigc.hpp>
#include <aigc/data/idx_writer.hpp>
#include <aigc/export/onnx.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace aigc;

namespace {

template <class V>
void write_raw(const std::string& path, const V* data, std::size_t n) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n * sizeof(V)));
  if (!out) throw FileError(path + ": cannot write");
}

// Median milliseconds of `reps` calls of f, after one warm-up call.
template <class F>
double median_ms(int reps, F f) {
  f();
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// Runs a few training-mode batches through g so that its BatchNorm layers hold real running
// statistics, then puts it in eval mode.
void settle_batchnorm(Module<float>& g, Index latent, const std::vector<int>* labels, Rng& rng) {
  g.set_training(true);
  for (int i = 0; i < 4; ++i) {
    Tensor<float> z(16, latent);
    rng.fill_normal(z);
    if (labels) {
      for (Conditioning<float>* c : detail::all_conditioning_layers(g)) c->set_labels(*labels);
    }
    g.forward(z);
  }
  g.set_training(false);
}

// Writes the model's inputs and aigc's outputs for each batch size; one manifest entry.
std::string reference(const std::string& dir, const std::string& name,
                      GenerativeModel<float>& model, const std::vector<Index>& batches,
                      std::uint64_t seed) {
  const GenerativeModelInfo& info = model.info();
  export_onnx(dir + "/" + name + ".onnx", model);
  std::string entry = "{\"name\": \"" + name + "\", \"onnx\": \"" + name +
                      ".onnx\", \"latent\": " + std::to_string(info.latent) +
                      ", \"classes\": " + std::to_string(info.num_classes) +
                      ", \"image_shape\": [" + std::to_string(info.image_shape[0]) + ", " +
                      std::to_string(info.image_shape[1]) + ", " +
                      std::to_string(info.image_shape[2]) + "], \"batches\": [";
  Rng rng(seed);
  for (std::size_t b = 0; b < batches.size(); ++b) {
    const Index n = batches[b];
    Tensor<float> z(n, info.latent);
    rng.fill_normal(z);
    std::vector<int> labels;
    std::vector<std::int64_t> labels64;
    for (Index i = 0; i < n && model.conditional(); ++i) {
      labels.push_back(static_cast<int>(i % info.num_classes));
      labels64.push_back(labels.back());
    }
    const std::vector<int>* l = model.conditional() ? &labels : nullptr;
    const Tensor<float> out = model.generate(z, l);
    const double ms = median_ms(n >= 1000 ? 1 : 9, [&] { model.generate(z, l); });
    const std::string tag = name + "-" + std::to_string(n);
    write_raw(dir + "/" + tag + "-z.f32", z.data(), static_cast<std::size_t>(z.size()));
    if (l) {
      write_raw(dir + "/" + tag + "-label.i64", labels64.data(), labels64.size());
      write_idx_labels(dir + "/" + tag + "-labels.idx", labels);
      if (info.image_shape[0] == 1) {
        write_idx_images(dir + "/" + tag + "-aigc.idx", out, info.image_shape[1],
                         info.image_shape[2], info.pixel_scale());
      }
    }
    write_raw(dir + "/" + tag + "-aigc.f32", out.data(), static_cast<std::size_t>(out.size()));
    char line[512];
    std::snprintf(line, sizeof line,
                  "%s{\"n\": %ld, \"z\": \"%s-z.f32\", \"label\": %s, \"aigc\": \"%s-aigc.f32\", "
                  "\"aigc_ms\": %.4f}",
                  b ? ", " : "", static_cast<long>(n), tag.c_str(),
                  l ? ("\"" + tag + "-label.i64\"").c_str() : "null", tag.c_str(), ms);
    entry += line;
  }
  std::printf("%s: %s, latent %ld, %d classes -> %s.onnx\n", name.c_str(), info.kind.c_str(),
              static_cast<long>(info.latent), info.num_classes, name.c_str());
  return entry + "]}";
}

// Exports `module` as a model file, loads it back and writes its reference data.
std::string reference_module(const std::string& dir, const std::string& name, Module<float>& m,
                             const GenerativeModelInfo& info) {
  export_model(dir + "/" + name + ".aigc", m, info);
  auto model = GenerativeModel<float>::load(dir + "/" + name + ".aigc");
  return reference(dir, name, model, {1, 64}, 1234);
}

GenerativeModelInfo info_of(const std::string& kind, Index latent, SampleShape shape, int classes) {
  GenerativeModelInfo i;
  i.kind = kind;
  i.latent = latent;
  i.image_shape = std::move(shape);
  i.num_classes = classes;
  i.output = kind == "decoder" ? ModelOutput::logits : ModelOutput::symmetric;
  return i;
}

void write_manifest(const std::string& dir, const std::vector<std::string>& entries) {
  std::string json = "[\n";
  for (std::size_t i = 0; i < entries.size(); ++i) json += (i ? ",\n  " : "  ") + entries[i];
  json += "\n]\n";
  std::ofstream(dir + "/manifest.json") << json;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 5 && args[0] == "--to-idx") {
      std::ifstream in(args[1], std::ios::binary);
      const auto bytes = static_cast<Index>(std::filesystem::file_size(args[1]));
      Index c = 0, h = 0, w = 0;
      if (std::sscanf(args[2].c_str(), "%ld,%ld,%ld", &c, &h, &w) != 3 || c != 1)
        throw ArgumentError("--to-idx: shape '" + args[2] + "' is not 1,H,W");
      Tensor<float> images(bytes / 4 / (h * w), h * w);
      in.read(reinterpret_cast<char*>(images.data()), images.size() * 4);
      write_idx_images(args[4], images, h, w,
                       args[3] == "symmetric" ? PixelScale::symmetric : PixelScale::unit);
      return 0;
    }
    if (args.size() == 5 && args[0] == "--model" && args[2] == "--n") {
      const std::string dir = args[4];
      std::filesystem::create_directories(dir);
      auto model = GenerativeModel<float>::load(args[1]);
      const Index n = std::stol(args[3]);
      write_manifest(dir, {reference(dir, "trained", model, {n}, 99)});
      return 0;
    }
    if (args.size() != 1) {
      std::fprintf(stderr,
                   "usage: onnx_reference <folder> | --model <file.aigc> --n <n> <folder> | "
                   "--to-idx <in.f32> <C,H,W> <symmetric|unit> <out.idx>\n");
      return 2;
    }
    const std::string dir = args[0];
    std::filesystem::create_directories(dir);
    Rng rng(2024);
    std::vector<std::string> entries;
    {
      auto dec = make_vae_decoder<float>(20, 400, 784, rng);
      entries.push_back(reference_module(dir, "vae", *dec, info_of("decoder", 20, {1, 28, 28}, 0)));
    }
    {
      auto g = make_mlp_generator<float>(64, 784, rng);
      entries.push_back(reference_module(dir, "mlp", *g, info_of("generator", 64, {1, 28, 28}, 0)));
    }
    {
      auto g = make_dcgan_generator<float>(100, rng);
      settle_batchnorm(*g, 100, nullptr, rng);
      entries.push_back(
          reference_module(dir, "dcgan28", *g, info_of("generator", 100, {1, 28, 28}, 0)));
    }
    {
      auto g = make_dcgan_generator<float>(100, 3, 64, rng);
      settle_batchnorm(*g, 100, nullptr, rng);
      entries.push_back(
          reference_module(dir, "dcgan64", *g, info_of("generator", 100, {3, 64, 64}, 0)));
    }
    {
      auto g = make_mlp_generator<float>(64, 784, rng, 10);
      entries.push_back(
          reference_module(dir, "cgan", *g, info_of("generator", 64, {1, 28, 28}, 10)));
    }
    {
      auto dec = make_cvae_decoder<float>(20, 400, 784, 10, rng);
      entries.push_back(
          reference_module(dir, "cvae", *dec, info_of("decoder", 20, {1, 28, 28}, 10)));
    }
    write_manifest(dir, entries);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "onnx_reference: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
