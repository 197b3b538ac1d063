// Scores a set of 28x28 grey images (an IDX file or a folder of PNGs) with aigc's Fashion-MNIST
// classifier: FID against the Fashion-MNIST test and/or training set, the predicted class
// histogram, and the accuracy against given labels (e.g. the classes a conditional model was
// asked for). Images from any framework can be scored the same way.
#include <CLI/CLI.hpp>
#include <aigc/aigc.hpp>
#include <aigc/io/image_folder.hpp>
#include <aigc/models/classifier.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Score images with aigc's Fashion-MNIST classifier: FID, class accuracy"};
  std::string images, labels, reference = "test", csv;
  std::string data = aigc::default_fashion_mnist_dir();
  std::string weights = default_weights();
  long limit = 0;
  int threads = 0;
  app.add_option("images", images, "IDX image file (raw or .gz) or a folder of PNGs")->required();
  app.add_option("--labels", labels, "IDX label file: report the classifier's accuracy on them");
  app.add_option("--reference", reference, "FID against: test, train, both or none")
      ->check(CLI::IsMember({"test", "train", "both", "none"}));
  app.add_option("--data", data, "folder of the Fashion-MNIST IDX files");
  app.add_option("--classifier", weights, "classifier weights file");
  app.add_option("--limit", limit, "score only the first N images (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--csv", csv, "also append the scores as a CSV row to this file");
  app.add_option("--threads", threads, "threads (0: OMP_NUM_THREADS or all cores)")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  try {
    aigc::set_num_threads(threads);
    const bool folder = std::filesystem::is_directory(images);
    aigc::Dataset<float> set =
        folder ? aigc::read_png_folder<float>(images) : aigc::read_idx_images<float>(images);
    if (set.height != 28 || set.width != 28) {
      throw aigc::ArgumentError(images + ": images are " + std::to_string(set.width) + "x" +
                                std::to_string(set.height) + ", the classifier needs 28x28");
    }
    if (limit > 0 && limit < set.size()) set.images.conservativeResize(limit, set.features());
    if (set.size() < 2) throw aigc::ArgumentError(images + ": needs at least 2 images");
    auto net = aigc::FashionClassifier<float>::load(weights);
    std::printf("%s: %ld images (%s), classifier %s\n", images.c_str(),
                static_cast<long>(set.size()), folder ? "PNG folder" : "IDX", weights.c_str());

    const aigc::Tensor<float> features = net->features(set.images);
    const aigc::GaussianStats stats = aigc::gaussian_stats(features);
    double fid_test = NAN, fid_train = NAN, accuracy = NAN;
    for (auto [name, split] :
         {std::pair{"test", aigc::Split::test}, {"train", aigc::Split::train}}) {
      if (reference != name && reference != "both") continue;
      const auto ref = aigc::load_mnist_format<float>(data, split);
      const double fid =
          aigc::frechet_distance(stats, aigc::gaussian_stats(net->features(ref.images)));
      std::printf("FID vs Fashion-MNIST %-5s (%ld images): %.4f\n", name,
                  static_cast<long>(ref.size()), fid);
      (split == aigc::Split::test ? fid_test : fid_train) = fid;
    }
    const std::vector<int> predicted = net->predict(set.images);
    std::vector<long> histogram(10, 0);
    for (int p : predicted) ++histogram[static_cast<std::size_t>(p)];
    std::printf("predicted classes:");
    for (long h : histogram) std::printf(" %.1f%%", 100.0 * h / static_cast<double>(set.size()));
    std::printf("\n");
    if (!labels.empty()) {
      std::vector<int> y = aigc::read_idx_labels(labels, 10);
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
