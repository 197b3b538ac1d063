// Trains the classifier whose features define aigc's FID, on Fashion-MNIST (IDX files) or on an
// image folder (class subfolders: labels; a seeded tenth held out as the test set), and writes its
// weights with the data set and image shape it was trained on.
#include <CLI/CLI.hpp>
#include <aigc/aigc.hpp>
#include <aigc/models/classifier.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "../common/trainer.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "Train the FID classifier (stride-2 convs + 2 dense) on Fashion-MNIST or an image folder; "
      "writes its weights"};
  std::string data = aigc::default_fashion_mnist_dir();
  std::string weights = "data/classifier-fmnist.bin";
  std::string log = "out/classifier/metrics.csv";
  int epochs = 12;
  long batch = 128;
  double lr = 1e-3;
  std::uint64_t seed = 0;
  int threads = 0;
  bool flips = true;
  long image_size = 64;
  int channels = 3;
  std::string cache;
  app.add_option("--data", data,
                 "folder of MNIST-format IDX files (raw or .gz), or of PNG/JPEG images (class "
                 "subfolders: labels; a tenth held out by --seed as the test set)");
  app.add_option("--image-size", image_size,
                 "image folders: images resized and centre-cropped to this size")
      ->check(CLI::Range(1, 4096));
  app.add_option("--channels", channels, "image folders: 1 (grey) or 3 (colour)")
      ->check(CLI::IsMember({1, 3}));
  app.add_option("--cache", cache,
                 "image folders: folder of the decoded-images cache (default: none)");
  app.add_option("--weights", weights, "weights file to write");
  app.add_option("--log", log, "CSV log of the epochs");
  app.add_option("--epochs", epochs, "epochs to train")->check(CLI::PositiveNumber);
  app.add_option("--batch-size", batch, "mini-batch size")->check(CLI::PositiveNumber);
  app.add_option("--lr", lr, "Adam learning rate at epoch 1, cosine-decayed to lr/100 at the last")
      ->check(CLI::PositiveNumber);
  app.add_flag("--flips,!--no-flips", flips, "flip half of the training images left-right");
  app.add_option("--seed", seed, "random seed");
  app.add_option("--threads", threads, "threads (0: OMP_NUM_THREADS or all cores)")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  try {
    aigc::set_num_threads(threads);
    aigc::Dataset<float> train, test;
    aigc::ClassifierData shape;  // IDX files: the Fashion-MNIST classifier's 10 classes
    if (example::is_image_folder(data)) {
      const aigc::HoldoutSplit split =
          example::read_folder_split(data, channels, image_size, seed, cache);
      train = aigc::to_dataset<float>(split.train);
      test = aigc::to_dataset<float>(split.test);
      shape.classes = split.train.num_classes;
      shape.data_set = std::filesystem::absolute(data).lexically_normal().string();
      shape.split_seed = seed;
      shape.holdout = 0.1;
      shape.class_names = split.train.class_names;
    } else {
      train = aigc::load_mnist_format<float>(data, aigc::Split::train);
      test = aigc::load_mnist_format<float>(data, aigc::Split::test);
    }
    shape.channels = static_cast<int>(train.channels);
    shape.height = train.height;
    shape.width = train.width;
    if (test.height != train.height || test.width != train.width ||
        test.channels != train.channels) {
      throw aigc::ArgumentError(data + ": the test images are " + std::to_string(test.channels) +
                                "x" + std::to_string(test.height) + "x" +
                                std::to_string(test.width) + ", the training images " +
                                shape.shape());
    }
    for (const std::string& file : {weights, log}) {
      const auto dir = std::filesystem::path(file).parent_path();
      if (!dir.empty()) std::filesystem::create_directories(dir);
    }
    aigc::ImageClassifier<float> net(seed, shape);
    aigc::Adam<float> adam(net.params(), {.lr = lr});
    aigc::BatchLoader<float> loader(train, {.batch_size = batch, .shuffle = true, .seed = seed});
    aigc::CsvLog csv(log, {"epoch", "train_loss", "train_accuracy", "test_accuracy", "seconds"});
    std::printf(
        "aigc FID classifier: %ld train / %ld test images of %s, %d classes, %d thread(s)\n",
        static_cast<long>(train.size()), static_cast<long>(test.size()), shape.shape().c_str(),
        shape.classes, aigc::num_threads());
    aigc::Tensor<float> x, dlogits;
    std::vector<int> y;
    aigc::Rng flipper(seed + 2);
    double test_acc = 0;
    for (int epoch = 1; epoch <= epochs; ++epoch) {
      const double t = epochs > 1 ? static_cast<double>(epoch - 1) / (epochs - 1) : 0.0;
      adam.set_lr(lr * (0.01 + 0.99 * 0.5 * (1.0 + std::cos(3.141592653589793 * t))));
      aigc::Progress progress("epoch " + std::to_string(epoch), loader.batches_per_epoch());
      double loss_sum = 0;
      long right = 0, seen = 0;
      while (loader.next(x, &y)) {
        for (aigc::Index i = 0; flips && i < x.rows(); ++i) {
          if (flipper.uniform() < 0.5) continue;
          for (int c = 0; c < shape.channels; ++c) {  // each channel's rows reversed
            Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> image(
                x.row(i).data() + c * shape.height * shape.width, shape.height, shape.width);
            image = image.rowwise().reverse().eval();
          }
        }
        net.set_training(true);
        adam.zero_grad();
        const aigc::Tensor<float>& z = net.forward(x);
        for (aigc::Index i = 0; i < z.rows(); ++i) {
          aigc::Index k;
          z.row(i).maxCoeff(&k);
          right += k == y[static_cast<std::size_t>(i)];
        }
        const double loss = aigc::cross_entropy(z, y, aigc::Reduction::mean, &dlogits);
        net.backward(dlogits);
        adam.step();
        loss_sum += loss * static_cast<double>(x.rows());
        seen += x.rows();
        progress.update(x.rows(), {{"loss", loss}});
      }
      progress.finish();
      test_acc = net.accuracy(test.images, test.labels);
      const double train_acc = static_cast<double>(right) / static_cast<double>(seen);
      std::printf(
          "epoch %2d  lr %.2e  train loss %.4f  train accuracy %.4f  test accuracy %.4f  (%.1f "
          "s)\n",
          epoch, adam.options().lr, loss_sum / seen, train_acc, test_acc, progress.seconds());
      std::fflush(stdout);
      csv.row({double(epoch), loss_sum / seen, train_acc, test_acc, progress.seconds()});
      net.save(weights);  // after every epoch, so an interrupted run leaves its last epoch
    }
    std::printf("test accuracy %.4f; wrote %s and %s\n", test_acc, weights.c_str(), log.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_classifier: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
