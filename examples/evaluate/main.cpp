// Scores a set of images (an IDX file, n x H x W grey or n x C x H x W, or a folder of grey or
// colour PNGs) with an aigc classifier: by default the Fashion-MNIST one (28x28 grey), or one
// trained on an image folder by train_classifier (its weights file records the folder, the image
// shape and the split). FID against the classifier's data set (the test and/or training split),
// the predicted class histogram, and the accuracy against given labels (e.g. the classes a
// conditional model was asked for). Images from any framework can be scored the same way.
#include <CLI/CLI.hpp>
#include <aigc/aigc.hpp>
#include <aigc/io/image_folder.hpp>
#include <aigc/models/classifier.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "../common/trainer.hpp"

#ifndef AIGC_CLASSIFIER_WEIGHTS
#define AIGC_CLASSIFIER_WEIGHTS "data/classifier-fmnist.bin"
#endif
#ifndef AIGC_INSTALLED_CLASSIFIER_WEIGHTS
#define AIGC_INSTALLED_CLASSIFIER_WEIGHTS "../share/aigc/classifier-fmnist.bin"
#endif

namespace {

// The weights installed beside this program (<prefix>/bin/../share/aigc), else the source tree's.
std::string default_weights() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path installed = exe.parent_path() / AIGC_INSTALLED_CLASSIFIER_WEIGHTS;
    if (std::filesystem::is_regular_file(installed, ec)) return installed.lexically_normal();
  }
  return AIGC_CLASSIFIER_WEIGHTS;
}

// Whether every pixel of a set of RGB images has R = G = B (grey images saved as RGB PNGs).
bool grey_in_rgb(const aigc::Dataset<float>& set) {
  const aigc::Index plane = set.height * set.width;
  const auto& x = set.images;
  return (x.middleCols(0, plane).array() == x.middleCols(plane, plane).array()).all() &&
         (x.middleCols(0, plane).array() == x.middleCols(2 * plane, plane).array()).all();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Score images with an aigc classifier (default: Fashion-MNIST's): FID, class accuracy"};
  std::string images, labels, reference = "test", csv;
  std::string data = aigc::default_fashion_mnist_dir();
  std::string weights = default_weights();
  long limit = 0;
  int threads = 0;
  std::string cache;
  app.add_option("images", images,
                 "IDX image file (raw or .gz; n x H x W or n x C x H x W) or a folder of PNGs")
      ->required();
  app.add_option("--labels", labels, "IDX label file: report the classifier's accuracy on them");
  app.add_option("--reference", reference, "FID against: test, train, both or none")
      ->check(CLI::IsMember({"test", "train", "both", "none"}));
  CLI::Option* data_flag = app.add_option(
      "--data", data,
      "folder of the Fashion-MNIST IDX files; for a classifier trained on an image folder, that "
      "folder (default: the one its weights file records)");
  app.add_option("--cache", cache,
                 "image folders: folder of the decoded-images cache (default: none)");
  app.add_option("--classifier", weights, "classifier weights file");
  app.add_option("--limit", limit, "score only the first N images (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--csv", csv, "also append the scores as a CSV row to this file");
  app.add_option("--threads", threads, "threads (0: OMP_NUM_THREADS or all cores)")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  try {
    aigc::set_num_threads(threads);
    const aigc::ClassifierData trained = aigc::read_classifier_data(weights);
    const bool folder = std::filesystem::is_directory(images);
    aigc::Dataset<float> set = folder
                                   ? aigc::read_png_folder<float>(images, aigc::PixelScale::unit, 0)
                                   : aigc::read_idx_images<float>(images);
    if (set.channels == 3 && trained.channels == 1 && grey_in_rgb(set)) {
      set = aigc::read_png_folder<float>(images);  // RGB files of grey images (R = G = B)
    }
    aigc::ClassifierData got;  // the shape of the images to score
    got.channels = static_cast<int>(set.channels);
    got.height = set.height;
    got.width = set.width;
    if (got.shape() != trained.shape()) {
      throw aigc::ArgumentError(
          images + ": images are " + got.shape() + " (channels x height x width), the classifier " +
          weights + " takes " + trained.shape() + " (trained on " +
          (trained.data_set.empty() ? std::string("IDX files") : trained.data_set) + ")");
    }
    if (limit > 0 && limit < set.size()) set.images.conservativeResize(limit, set.features());
    if (set.size() < 2) throw aigc::ArgumentError(images + ": needs at least 2 images");
    auto net = aigc::ImageClassifier<float>::load(weights);
    std::printf("%s: %ld images of %s (%s), classifier %s\n", images.c_str(),
                static_cast<long>(set.size()), got.shape().c_str(), folder ? "PNG folder" : "IDX",
                weights.c_str());

    const aigc::Tensor<float> features = net->features(set.images);
    const aigc::GaussianStats stats = aigc::gaussian_stats(features);
    double fid_test = NAN, fid_train = NAN, accuracy = NAN;
    std::unique_ptr<aigc::HoldoutSplit> reference_folder;  // an image-folder classifier's data
    std::string reference_name = "Fashion-MNIST";
    if (!trained.data_set.empty() && reference != "none") {
      const std::string dir = data_flag->count() > 0 ? data : trained.data_set;
      reference_folder = std::make_unique<aigc::HoldoutSplit>(example::read_folder_split(
          dir, trained.channels, static_cast<long>(trained.height), trained.split_seed, cache,
          aigc::PixelScale::unit, trained.holdout));
      if (reference_folder->train.class_names != trained.class_names) {
        throw aigc::ArgumentError(dir + ": its " +
                                  std::to_string(reference_folder->train.class_names.size()) +
                                  " classes are not the " + std::to_string(trained.classes) +
                                  " the classifier " + weights + " was trained on");
      }
      reference_name = dir;
    }
    std::vector<aigc::GaussianStats> references;
    for (auto [name, split] :
         {std::pair{"test", aigc::Split::test}, {"train", aigc::Split::train}}) {
      if (reference != name && reference != "both") continue;
      const auto ref = reference_folder ? aigc::to_dataset<float>(split == aigc::Split::test
                                                                      ? reference_folder->test
                                                                      : reference_folder->train)
                                        : aigc::load_mnist_format<float>(data, split);
      references.push_back(aigc::gaussian_stats(net->features(ref.images)));
      const double fid = aigc::frechet_distance(stats, references.back());
      std::printf("FID vs %s %-5s (%ld images): %.4f\n", reference_name.c_str(), name,
                  static_cast<long>(ref.size()), fid);
      (split == aigc::Split::test ? fid_test : fid_train) = fid;
    }
    if (reference_folder && references.size() == 2) {  // what real images score: the floor
      std::printf("FID of %s test vs train (the floor): %.4f\n", reference_name.c_str(),
                  aigc::frechet_distance(references[0], references[1]));
    }
    const std::vector<int> predicted = net->predict(set.images);
    std::vector<long> histogram(static_cast<std::size_t>(net->classes()), 0);
    for (int p : predicted) ++histogram[static_cast<std::size_t>(p)];
    std::printf("predicted classes:");
    for (long h : histogram) std::printf(" %.1f%%", 100.0 * h / static_cast<double>(set.size()));
    std::printf("\n");
    if (!labels.empty()) {
      std::vector<int> y = aigc::read_idx_labels(labels, net->classes());
      if (static_cast<aigc::Index>(y.size()) < set.size()) {
        throw aigc::FileError(labels + ": holds " + std::to_string(y.size()) + " labels for " +
                              std::to_string(set.size()) + " images");
      }
      y.resize(static_cast<std::size_t>(set.size()));
      accuracy = net->accuracy(set.images, y);
      std::printf("classifier accuracy on the given labels: %.4f\n", accuracy);
    }
    if (!csv.empty()) {
      const bool fresh = !std::filesystem::exists(csv);
      std::FILE* f = std::fopen(csv.c_str(), "a");
      if (!f)
        throw aigc::FileError(csv + ": cannot open for appending (" + std::strerror(errno) + ")");
      bool ok = !fresh || std::fprintf(f, "images,count,fid_test,fid_train,accuracy\n") > 0;
      ok = ok && std::fprintf(f, "%s,%ld,%.6f,%.6f,%.6f\n", images.c_str(),
                              static_cast<long>(set.size()), fid_test, fid_train, accuracy) > 0;
      ok = ok && std::fflush(f) == 0;
      const int e = errno;
      if (std::fclose(f) != 0 || !ok)
        throw aigc::FileError(csv + ": cannot write the scores (" + std::strerror(ok ? errno : e) +
                              ")");
      std::printf("appended the scores to %s\n", csv.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "evaluate: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
