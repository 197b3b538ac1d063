// Draws samples from an exported generator or decoder (a model file written by export_generator /
// export_decoder, e.g. the example trainers' generator.aigc / decoder.aigc) with no code from the
// program that trained it: a PNG grid, a folder of PNGs or an IDX file. z ~ N(0, I) from --seed
// (optionally truncated), or slerp paths between random codes; for a conditional model the class
// by index or name, or walks from one class to another (--class-walk). The same z and model give
// the same bytes as the trainer's own grid. With --export-onnx it writes the model as an ONNX file
// instead (built with aigc::onnx).
#include <CLI/CLI.hpp>
#include <aigc/aigc.hpp>
#ifdef AIGC_WITH_ONNX
#include <aigc/export/onnx.hpp>
#endif
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace {

// n x latent codes ~ N(0, I) from rng; with bound > 0, each value beyond +-bound is drawn again.
aigc::Tensor<float> draw_codes(aigc::Index n, aigc::Index latent, aigc::Rng& rng, double bound) {
  aigc::Tensor<float> z(n, latent);
  rng.fill_normal(z);
  if (bound > 0) {
    for (aigc::Index i = 0; i < z.size(); ++i) {
      while (std::abs(z.data()[i]) > bound) z.data()[i] = static_cast<float>(rng.normal());
    }
  }
  return z;
}

// "grid" for a .png file, "idx" for .idx / .idx.gz / -ubyte(.gz), else "folder".
std::string format_of(const std::string& out) {
  auto ends = [&](const std::string& tail) {
    return out.size() >= tail.size() &&
           out.compare(out.size() - tail.size(), tail.size(), tail) == 0;
  };
  if (ends(".png")) return "grid";
  if (ends(".idx") || ends(".idx.gz") || ends("-ubyte") || ends("-ubyte.gz")) return "idx";
  return "folder";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Draw samples from an exported aigc generator or decoder (a model file)"};
  std::string model, out = "samples.png", format = "auto", klass, walk, onnx;
  long n = 64, columns = 0, interpolate = 0;
  std::uint64_t seed = 0;
  double truncation = 0.0;
  int threads = 0;
  app.add_option("--model", model, "model file (export_generator / export_decoder)")->required();
  app.add_option(
      "--out", out,
      "output: a .png grid, a folder of PNGs, or an IDX file (n x C x H x W for colour)");
  app.add_option("--format", format, "grid, folder or idx (auto: from --out's name)")
      ->check(CLI::IsMember({"auto", "grid", "folder", "idx"}));
  app.add_option("--n", n, "number of samples (with --interpolate: number of paths)")
      ->check(CLI::Range(1L, 100000L));
  app.add_option("--seed", seed, "seed of the codes z");
  app.add_option("--class", klass,
                 "class of a conditional model: index or name (default: "
                 "classes in order, one grid row each)");
  auto* walk_option = app.add_option(
      "--class-walk", walk,
      "FROM,TO (indices or names): each row keeps one z and walks the class code from FROM to TO "
      "in --interpolate steps (default 8)");
  app.get_option("--class")->excludes(walk_option);
  app.add_option("--truncation", truncation, "draw again every value of z beyond +-this (0: off)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--interpolate", interpolate,
                 "slerp between two random codes in this many steps "
                 "(one grid row per path)")
      ->check(CLI::Range(2L, 1000L));
  app.add_option("--columns", columns, "grid columns (0: 8, or the interpolation steps)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--threads", threads, "threads (0: OMP_NUM_THREADS or all cores)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--export-onnx", onnx,
                 "write the model as this ONNX file (inputs z, label; output image) and exit");
  CLI11_PARSE(app, argc, argv);

  try {
    aigc::set_num_threads(threads);
    auto g = aigc::GenerativeModel<float>::load(model);
    if (!onnx.empty()) {
#ifdef AIGC_WITH_ONNX
      aigc::export_onnx(onnx, g);
      std::printf("%s -> %s (ONNX, opset %ld)\n", model.c_str(), onnx.c_str(),
                  static_cast<long>(aigc::onnx_opset));
      return 0;
#else
      throw aigc::ArgumentError("--export-onnx " + onnx +
                                ": this build has no ONNX export (build aigc with libonnx-dev)");
#endif
    }
    const aigc::GenerativeModelInfo& info = g.info();
    const aigc::Index C = info.image_shape[0], H = info.image_shape[1], W = info.image_shape[2];
    if (!klass.empty() && !g.conditional()) {
      throw aigc::ArgumentError("--class '" + klass + "': " + model +
                                " is not a conditional model");
    }

    aigc::Rng rng(seed);
    aigc::Tensor<float> z;
    std::vector<int> from, to;  // --class-walk: each row's two classes and its step t
    std::vector<double> t;
    if (!walk.empty()) {  // n rows of `steps` images: a fixed z, the code from one class to another
      const std::size_t comma = walk.find(',');
      if (!g.conditional() || comma == std::string::npos) {
        throw aigc::ArgumentError("--class-walk '" + walk + "': " +
                                  (g.conditional() ? "give two classes, FROM,TO"
                                                   : model + " is not a conditional model"));
      }
      const int a = g.class_index(walk.substr(0, comma)), b = g.class_index(walk.substr(comma + 1));
      const long steps = interpolate > 0 ? interpolate : 8;
      const aigc::Tensor<float> codes = draw_codes(n, info.latent, rng, truncation);
      z.resize(n * steps, info.latent);
      from.assign(static_cast<std::size_t>(z.rows()), a);
      to.assign(from.size(), b);
      t.resize(from.size());
      for (long r = 0; r < n; ++r) {
        for (long s = 0; s < steps; ++s) {
          z.row(r * steps + s) = codes.row(r);
          t[static_cast<std::size_t>(r * steps + s)] = static_cast<double>(s) / (steps - 1);
        }
      }
      interpolate = steps;
    } else if (interpolate > 0) {
      const aigc::Tensor<float> first = draw_codes(n, info.latent, rng, truncation);
      const aigc::Tensor<float> last = draw_codes(n, info.latent, rng, truncation);
      z = aigc::interpolate_rows(first, last, interpolate, aigc::Interpolation::spherical);
    } else {
      z = draw_codes(n, info.latent, rng, truncation);
    }
    std::vector<int> labels;
    if (g.conditional() && walk.empty()) {
      labels.resize(static_cast<std::size_t>(z.rows()));
      const int fixed = klass.empty() ? -1 : g.class_index(klass);
      for (std::size_t i = 0; i < labels.size(); ++i) {  // as the trainers' grids: row i of n
        labels[i] = fixed >= 0 ? fixed
                               : static_cast<int>(static_cast<long>(i) * info.num_classes /
                                                  static_cast<long>(labels.size()));
      }
    }
    // The images of rows [begin, begin + rows) of z. The model runs on at most `chunk` codes at a
    // time, so that its layers' buffers stay the size of a batch however many samples are asked
    // for; each code's image does not depend on the others in the pass (eval mode).
    const aigc::Index chunk = 256;
    auto images_of = [&](aigc::Index begin, aigc::Index rows) {
      const aigc::Tensor<float> zs = z.middleRows(begin, rows);
      const auto slice = [&](const auto& v) {
        return std::vector(v.begin() + begin, v.begin() + begin + rows);
      };
      if (!walk.empty()) return g.generate_between(zs, slice(from), slice(to), slice(t));
      if (!g.conditional()) return g.generate(zs, nullptr);
      const std::vector<int> part = slice(labels);
      return g.generate(zs, &part);
    };
    const aigc::PixelScale scale = info.pixel_scale();

    const std::string kind = format == "auto" ? format_of(out) : format;
    if (kind == "grid") {
      aigc::Tensor<float> images(z.rows(), C * H * W);
      for (aigc::Index b = 0; b < z.rows(); b += chunk)
        images.middleRows(b, std::min(chunk, z.rows() - b)) =
            images_of(b, std::min(chunk, z.rows() - b));
      const aigc::Index cols = columns > 0 ? columns : (interpolate > 0 ? interpolate : 8);
      aigc::write_png_grid(out, images, C, H, W, cols, scale);
    } else if (kind == "idx") {  // n x H x W grey, n x C x H x W colour
      aigc::IdxImageWriter idx(out, z.rows(), C, H, W, scale);
      for (aigc::Index b = 0; b < z.rows(); b += chunk)
        idx.write(images_of(b, std::min(chunk, z.rows() - b)));
      idx.close();
    } else {
      std::error_code ec;
      std::filesystem::create_directories(out, ec);
      if (ec || !std::filesystem::is_directory(out))
        throw aigc::FileError(out + ": cannot create the output folder");
      for (aigc::Index b = 0; b < z.rows(); b += chunk) {
        const aigc::Tensor<float> images = images_of(b, std::min(chunk, z.rows() - b));
        for (aigc::Index i = 0; i < images.rows(); ++i) {
          char name[32];
          std::snprintf(name, sizeof name, "%06ld.png", static_cast<long>(b + i));
          aigc::write_png(
              (std::filesystem::path(out) / name).string(),
              aigc::make_grid(aigc::Tensor<float>(images.row(i)), C, H, W, 1, scale, 0));
        }
      }
    }
    std::printf(
        "%s: %ld samples of %ldx%ldx%ld (%s, latent %ld%s) -> %s (%s)\n", model.c_str(),
        static_cast<long>(z.rows()), static_cast<long>(C), static_cast<long>(H),
        static_cast<long>(W), info.kind.c_str(), static_cast<long>(info.latent),
        g.conditional() ? (", " + std::to_string(info.num_classes) + " classes").c_str() : "",
        out.c_str(), kind.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "generate: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
