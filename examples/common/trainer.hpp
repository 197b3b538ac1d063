// What the example trainers share around their call to aigc::fit: the common flags (data, output,
// epochs, batch size, seed, threads, checkpoints, resume, samples file, --verify, image folders,
// augmentation, export), checked with messages that name the flag and quote the value; loading the
// data (an IDX folder, or an image folder read as bytes with a held-out tenth); the samples file
// for examples/evaluate; the exported model; the error report; and, built with aigc::mpi and
// started by mpirun, data-parallel training over the job's processes.
#pragma once

#include <CLI/CLI.hpp>
#include <aigc/aigc.hpp>
#include <aigc/data/idx_writer.hpp>
#ifdef AIGC_WITH_ONNX
#include <aigc/export/onnx.hpp>
#endif
#ifdef AIGC_WITH_MPI
#include <aigc/distributed.hpp>
#endif
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace example {

// The data-parallel run this program is part of: built with aigc::mpi and started by an MPI
// launcher (mpirun -np N), every process trains on its share of each batch; else null.
#ifdef AIGC_WITH_MPI
struct Distributed {
  aigc::MpiSession session;
  aigc::MpiProcessGroup group;
};
inline std::unique_ptr<Distributed>& distributed() {
  static std::unique_ptr<Distributed> d;
  return d;
}
inline aigc::ProcessGroup* process_group() {
  return distributed() ? &distributed()->group : nullptr;
}
#else
inline aigc::ProcessGroup* process_group() { return nullptr; }
#endif

// Whether this process writes the outputs: true but on processes 1, 2, ... of a distributed run.
inline bool primary() { return !process_group() || process_group()->rank() == 0; }

// Makes `trainer` train data parallel over the job's processes when the program runs under
// mpirun (fit then logs, draws and checkpoints on process 0 only).
template <class Trainer>
void distribute(Trainer& trainer) {
  if (aigc::ProcessGroup* group = process_group()) {
    trainer.set_process_group(group);
    if (group->rank() == 0) {
      std::printf("data parallel over %d processes: each batch split between them\n",
                  group->size());
    }
  }
}

// "--flag: 'abc' is not a positive integer" (a non-negative one when zero_ok), checked before
// CLI11 converts the text into the flag's type `Int`.
template <class Int = int>
CLI::Validator integer_check(bool zero_ok) {
  const std::string what = zero_ok ? "a non-negative integer" : "a positive integer";
  return CLI::Validator(
      [zero_ok, what](std::string& s) -> std::string {
        Int v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (ec == std::errc::result_out_of_range) {
          return "'" + s + "' is too large (at most " +
                 std::to_string(std::numeric_limits<Int>::max()) + ")";
        }
        if (ec != std::errc() || end != s.data() + s.size() ||
            v < static_cast<Int>(zero_ok ? 0 : 1))
          return "'" + s + "' is not " + what;
        return {};
      },
      zero_ok ? "INT>=0" : "INT>0");
}

// "--flag: 'nan' is not a positive number" (a non-negative one when zero_ok); finite numbers only.
inline CLI::Validator number_check(bool zero_ok) {
  const std::string what = zero_ok ? "a non-negative number" : "a positive number";
  return CLI::Validator(
      [zero_ok, what](std::string& s) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (s.empty() || *end != '\0' || !std::isfinite(v) || v < 0 || (!zero_ok && v == 0))
          return "'" + s + "' is not " + what;
        return {};
      },
      zero_ok ? "NUMBER>=0" : "NUMBER>0");
}

// An integer flag checked by integer_check (zero allowed when zero_ok).
template <class Int>
CLI::Option* add_count(CLI::App& app, const std::string& flag, Int& value, const std::string& help,
                       bool zero_ok = false) {
  return app.add_option(flag, value, help)->check(integer_check<Int>(zero_ok));
}

// A real flag checked by number_check (zero allowed when zero_ok).
inline CLI::Option* add_number(CLI::App& app, const std::string& flag, double& value,
                               const std::string& help, bool zero_ok = false) {
  return app.add_option(flag, value, help)->check(number_check(zero_ok));
}

// Whether `data` is an image folder: a folder without IDX training images in it.
inline bool is_image_folder(const std::string& data) {
  namespace fs = std::filesystem;
  const fs::path d(data);
  return !fs::exists(d / "train-images-idx3-ubyte.gz") &&
         !fs::exists(d / "train-images-idx3-ubyte") && fs::is_directory(d);
}

// An image folder read as channels x image_size x image_size bytes (decoded on all threads,
// cached in `cache` unless it is empty) and split by split_holdout(holdout, seed), the trainers'
// and the classifier's data; says what it read.
inline aigc::HoldoutSplit read_folder_split(const std::string& data, int channels, long image_size,
                                            std::uint64_t seed, const std::string& cache,
                                            aigc::PixelScale scale = aigc::PixelScale::unit,
                                            double holdout = 0.1) {
  aigc::ImageFolderOptions o;
  o.channels = channels;
  o.image_size = image_size;
  o.scale = scale;
  o.cache_dir = cache;
  aigc::ImageFolderReport report;
  const aigc::ByteDataset all = aigc::read_image_folder(data, o, &report);
  std::printf("%s: %ld images (%d classes) of %dx%ldx%ld in %.2f s%s\n", data.c_str(),
              static_cast<long>(all.size()), all.num_classes, channels, image_size, image_size,
              report.seconds, report.from_cache ? " from the cache" : "");
  return aigc::split_holdout(all, holdout, seed);
}

// The flags every trainer takes, and the FitOptions they fill.
struct TrainerFlags {
  std::string data = aigc::default_fashion_mnist_dir();
  aigc::FitOptions fit;
  long batch = 64, fid_samples = 10000;
  long train_images = 0;    // --train-images: > 0 trains on the first N training images only
  double truncation = 0.0;  // --truncation: > 0 draws the samples file's codes truncated
  std::uint64_t seed = 0;
  int threads = 0;
  std::string verify;
  aigc::StateDict checkpoint;  // the --verify file, read
  long image_size = 64, augment = 0;
  int channels = 3;
  std::string cache, export_path, precision = "fp32";
  std::unique_ptr<aigc::HoldoutSplit> folder;  // an image folder's bytes, once read
  std::vector<std::string> class_names;        // an image folder's classes

  // --precision as the trainers' option.
  aigc::Precision products() const {
    return precision == "bf16" ? aigc::Precision::bf16 : aigc::Precision::fp32;
  }
  // `options` (a VaeOptions or GanOptions) with --precision set.
  template <class Options>
  Options with_precision(Options options) const {
    options.precision = products();
    return options;
  }

  // The flags of example `name` (output folder out/<name>, checkpoints <name>-<step>.aigc),
  // with its default epochs and batch size; `steps` names what the trainer counts.
  TrainerFlags(CLI::App& app, const std::string& name, int epochs, long batch_size,
               const std::string& steps = "steps")
      : batch(batch_size) {
    fit.name = name;
    fit.out = "out/" + name;
    fit.epochs = epochs;
    app.add_option("--precision", precision,
                   "fp32, or bf16: the layers' products on bfloat16 operands with FP32 sums "
                   "(CPUs with AVX-512 BF16; FP32 elsewhere)")
        ->check(CLI::IsMember({"fp32", "bf16"}));
    app.add_option("--data", data,
                   "folder of MNIST-format IDX files (raw or .gz), or of PNG/JPEG images (class "
                   "subfolders: labels; a seeded tenth held out as the test set)");
    add_count(app, "--image-size", image_size,
              "image folders: images resized and centre-cropped "
              "to this size");
    add_count(app, "--channels", channels, "image folders: 1 (grey) or 3 (colour)")
        ->check(CLI::IsMember({1, 3}));
    add_count(app, "--augment", augment,
              "random horizontal flips and shifts by up to N pixels (0: off)", true);
    app.add_option(
        "--cache", cache,
        "image folders: folder of the decoded-images cache (default: <out>/image-cache)");
    app.add_option("--out", fit.out, "output folder");
    add_count(app, "--epochs", fit.epochs, "epochs to train (in all, counting resumed ones)");
    add_count(app, "--batch-size", batch, "mini-batch size");
    add_count(app, "--seed", seed, "random seed", true);
    add_count(app, "--threads", threads, "threads (0: OMP_NUM_THREADS or all cores)", true);
    add_count(app, "--fid-samples", fid_samples, "samples written to samples.idx.gz at the end");
    add_count(app, "--train-images", train_images,
              "train on the first N training images only (a fixed small subset; 0: all)", true);
    add_count(app, "--checkpoint-every", fit.checkpoint_every,
              "write a checkpoint every N " + steps + " (0: at the end of each epoch only)", true);
    app.add_option("--checkpoint-dir", fit.checkpoint_dir,
                   "checkpoint folder (default: <out>/checkpoints)");
    add_count(app, "--keep", fit.keep, "checkpoints kept (0: all)", true);
    app.add_option("--resume", fit.resume,
                   "checkpoint file, or folder whose newest valid checkpoint is resumed");
  }

  // --verify: load a checkpoint into the model, check it, and exit.
  void add_verify(CLI::App& app) {
    app.add_option("--verify", verify,
                   "load a checkpoint into this model (names, shapes, CRC) and exit");
  }

  // --truncation: the samples file's codes truncated to [-T, T] (the truncation trick).
  void add_truncation(CLI::App& app) {
    add_number(app, "--truncation", truncation,
               "samples.idx.gz from codes truncated to [-T, T], each value outside redrawn (0: "
               "off, z ~ N(0, I))",
               true);
  }

  // --export: where the generator or decoder goes (default <out>/<file>).
  void add_export(CLI::App& app, const std::string& file) {
    export_file = file;
    app.add_option("--export", export_path,
                   "model file of the trained " + file.substr(0, file.find('.')) +
                       " for aigc-generate (default: <out>/" + file + ")");
  }

  // A split of --data (none with --verify, which needs no data); sets the thread count first.
  // An image folder is read once (decoded on all threads, cached) and split 90/10, seeded.
  aigc::Dataset<float> load(aigc::Split split, aigc::PixelScale scale = aigc::PixelScale::unit) {
    aigc::set_num_threads(threads);
    if (!verify.empty()) return {};
    if (!image_folder()) {
      std::error_code ec;  // Debian's Fashion-MNIST folder: the exports carry its class names
      if (std::filesystem::equivalent(data, aigc::default_fashion_mnist_dir(), ec))
        class_names = aigc::fashion_mnist_class_names();
      aigc::Dataset<float> d = aigc::load_mnist_format<float>(data, split, scale);
      if (split == aigc::Split::train && train_images > 0 && train_images < d.size()) {
        d.images.conservativeResize(train_images, d.images.cols());
        if (!d.labels.empty()) d.labels.resize(static_cast<std::size_t>(train_images));
      }
      return d;
    }
    if (!folder) {
      folder = std::make_unique<aigc::HoldoutSplit>(
          read_folder_split(data, channels, image_size, seed,
                            cache.empty() ? fit.out + "/image-cache" : cache, scale));
      class_names = folder->train.class_names;
      if (train_images > 0 && train_images < folder->train.size()) {
        std::vector<aigc::Index> first(static_cast<std::size_t>(train_images));
        for (std::size_t i = 0; i < first.size(); ++i) first[i] = static_cast<aigc::Index>(i);
        folder->train = aigc::subset(folder->train, first);
      }
    }
    return aigc::to_dataset<float>(split == aigc::Split::train ? folder->train : folder->test);
  }

  // Whether --data is an image folder (no IDX training images in it).
  bool image_folder() const { return is_image_folder(data); }

  // The training loader over `train` (this flags' split of --data): over the image folder's bytes
  // when it is one, converted batch by batch; shuffled, seeded, augmented as --augment says.
  aigc::BatchLoader<float> make_loader(const aigc::Dataset<float>& train) const {
    if (folder && folder->train.size() == train.size()) {
      return aigc::BatchLoader<float>(folder->train, loader());
    }
    return aigc::BatchLoader<float>(train, loader());
  }

  // Writes the trained generator or decoder to --export, with the sampling metadata, and (built
  // with aigc::onnx) the same model as ONNX beside it: <name>.onnx.
  template <class Export>
  void write_export(Export export_model) const {
    if (!primary()) return;
    const std::string path = export_path.empty() ? fit.out + "/" + export_file : export_path;
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    export_model(path, class_names);
    std::printf("wrote %s (sample it with aigc-generate --model %s)\n", path.c_str(), path.c_str());
#ifdef AIGC_WITH_ONNX
    const std::string onnx = std::filesystem::path(path).replace_extension(".onnx").string();
    auto model = aigc::GenerativeModel<float>::load(path);
    aigc::export_onnx(onnx, model);
    std::printf("wrote %s (ONNX, opset %ld)\n", onnx.c_str(), static_cast<long>(aigc::onnx_opset));
#endif
  }

  // The image size: the data's, or with --verify the columns of the checkpoint's `weight`.
  long features(const aigc::Dataset<float>& train, const std::string& weight) {
    if (verify.empty()) return static_cast<long>(train.features());
    checkpoint = aigc::read_checkpoint(verify);
    return static_cast<long>(checkpoint.at(weight).cols);
  }

  // With --verify: loads the checkpoint into `trainer`, says so and returns true.
  template <class Trainer>
  bool verified(Trainer& trainer) {
    if (verify.empty()) return false;
    trainer.load_state(checkpoint);
    checkpoint.get_int("loader/epoch");
    checkpoint.get_int("loader/batch");
    std::printf("%s: ok, step %lld, %zu entries\n", verify.c_str(),
                static_cast<long long>(trainer.step_count()), checkpoint.size());
    return true;
  }

  // The loader of the training split: shuffled, seeded, augmented as --augment says.
  aigc::LoaderOptions loader() const {
    return {.batch_size = batch,
            .shuffle = true,
            .seed = seed,
            .augment = {.flip = augment > 0, .translate = augment}};
  }

 private:
  std::string export_file;
};

// The epoch's grid as samples_epoch_<epoch>.png and <latest>.png.
inline void epoch_grids(aigc::FitEpoch& e, const aigc::Image& grid,
                        const std::string& latest = "samples") {
  char name[32];
  std::snprintf(name, sizeof name, "samples_epoch_%03d", e.epoch());
  e.image(name, grid);
  e.image(latest, grid);
}

// --fid-samples images for examples/evaluate as samples.idx.gz (n x H x W grey, n x C x H x W
// colour): codes z ~ N(0, I) (truncated to [-T, T] with --truncation T) drawn 1000 at a time from
// seed + 3, given to generate(z, labels) with labels i % classes (written beside as
// samples-labels.idx.gz when classes > 0); then the summary of the run's files.
template <class Generate>
void write_samples(const TrainerFlags& f, const aigc::FitResult& run,
                   const aigc::Dataset<float>& data, long latent, int classes,
                   aigc::PixelScale scale, Generate generate) {
  if (!primary()) return;
  aigc::Rng sampler(f.seed + 3);
  aigc::Tensor<float> z;
  std::vector<int> asked(static_cast<std::size_t>(f.fid_samples)), part;
  // n x C x H x W for colour; written 1000 at a time (10,000 3x64x64 floats would be 0.5 GB)
  aigc::IdxImageWriter out(f.fit.out + "/samples.idx.gz", f.fid_samples, data.channels, data.height,
                           data.width, scale);
  for (long begin = 0; begin < f.fid_samples; begin += 1000) {
    z.resize(std::min(1000L, f.fid_samples - begin), latent);
    if (f.truncation > 0.0)
      aigc::fill_truncated_normal(sampler, z, f.truncation);
    else
      sampler.fill_normal(z);
    part.resize(static_cast<std::size_t>(z.rows()));
    for (std::size_t i = 0; i < part.size(); ++i)
      part[i] = asked[static_cast<std::size_t>(begin) + i] =
          classes > 0 ? static_cast<int>((begin + static_cast<long>(i)) % classes) : 0;
    out.write(generate(z, part));
  }
  out.close();
  if (classes > 0) aigc::write_idx_labels(f.fit.out + "/samples-labels.idx.gz", asked);
  std::printf("wrote %s, samples.idx.gz (%ld samples for examples/evaluate%s)\n",
              run.summary(f.fit.out).c_str(), f.fid_samples,
              classes > 0 ? "; samples-labels.idx.gz: the classes asked for" : "");
}

// --direction FROM,TO (a VAE): the attribute direction mean code(TO) - mean code(FROM) of the train
// images; direction.png walks 8 of FROM's test images along it (0 to 1.75 times it, a row each);
// all of FROM's test images moved by `scale` times it go to direction-images.idx.gz, with the label
// TO in direction-labels.idx.gz, for examples/evaluate to count how many the classifier now calls
// TO.
template <class Vae>
void write_direction(const TrainerFlags& f, Vae& vae, const aigc::Dataset<float>& train,
                     const aigc::Dataset<float>& test, int from, int to, double scale) {
  if (!primary()) return;
  if (train.channels != 1) throw aigc::ArgumentError("--direction: grey IDX data sets only");
  for (int c : {from, to}) {
    if (c < 0 || c >= train.num_classes) {
      throw aigc::ArgumentError("--direction: no class " + std::to_string(c) + " (the data has " +
                                std::to_string(train.num_classes) + " classes)");
    }
  }
  const aigc::Tensor<float> d = aigc::attribute_direction(vae, aigc::images_of_class(train, to),
                                                          aigc::images_of_class(train, from));
  const aigc::Tensor<float> z = vae.encode_mean(aigc::images_of_class(test, from));
  const std::vector<float> steps{0.0f, 0.25f, 0.5f, 0.75f, 1.0f, 1.25f, 1.5f, 1.75f};
  const aigc::Tensor<float> walk =
      vae.decode(aigc::latent_walk<float>(z.topRows(std::min<aigc::Index>(8, z.rows())), d, steps));
  aigc::write_png_grid(f.fit.out + "/direction.png", walk, 1, train.height, train.width, 8);
  const aigc::Tensor<float> moved =
      vae.decode(aigc::latent_walk<float>(z, d, {static_cast<float>(scale)}));
  aigc::write_idx_images(f.fit.out + "/direction-images.idx.gz", moved, train.height, train.width,
                         aigc::PixelScale::unit);
  aigc::write_idx_labels(f.fit.out + "/direction-labels.idx.gz",
                         std::vector<int>(static_cast<std::size_t>(moved.rows()), to));
  std::printf(
      "wrote direction.png and direction-images.idx.gz: %ld test images of class %d moved "
      "by %g x (mean code(%d) - mean code(%d)) (direction-labels.idx.gz: %d)\n",
      static_cast<long>(moved.rows()), from, scale, to, from, to);
}

// Runs the example's body; an exception becomes "<name>: error: <message>" and exit code 1 (under
// mpirun: the end of every process of the job, so that none waits for this one).
template <class Body>
int run(const char* name, Body body) {
  try {
#ifdef AIGC_WITH_MPI
    if (aigc::launched_by_mpi() && !distributed()) distributed() = std::make_unique<Distributed>();
#endif
    body();
#ifdef AIGC_WITH_MPI
    distributed().reset();
#endif
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", name, e.what());
#ifdef AIGC_WITH_MPI
    if (distributed()) aigc::MpiSession::abort(1);
#endif
    return 1;
  }
}

}  // namespace example
