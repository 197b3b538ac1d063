// aigc: the classifier whose penultimate features define aigc's FID, its weights file, and the
// class accuracy of conditional samples. Trained on Fashion-MNIST (the shipped weights) or on any
// labelled image folder, at the folder's channels and image size.
//
// Network (input C x H x W in [0, 1]; each conv without bias, then BatchNorm2d and ReLU):
//   stride-2 convs k3 p1 while the larger side exceeds 8, the i-th with 32 * 2^(i-1) channels
//   (1x28x28: conv1 1->32 (14x14), conv2 32->64 (7x7); 3x64x64: three convs to 128 x 8 x 8),
//   fc1 ->128 ReLU (the features), Dropout 0.3 (train mode only), fc2 128->classes (the logits).
//   Seed 0 of scripts/train_classifier.sh: 92.04% Fashion-MNIST test accuracy (docs/classifier.md).
//
// Weights file (little-endian; docs/classifier.md):
//   "AIGCFMC1" | u32 version (1 or 2) |
//   version 2 only, what the classifier was trained on (ClassifierData): u32 channels, u32 height,
//   u32 width, u32 classes, string data set, u64 split seed, f64 held-out fraction, u32 class-name
//   count, the class names (a string: u32 length, UTF-8 bytes) |
//   u32 tensor count |
//   per tensor (the parameters, then the buffers such as BatchNorm's running statistics):
//   u32 name length, name bytes, u32 rows, u32 cols, rows*cols float32 |
//   u32 CRC-32 (zlib's, the IEEE polynomial) of every byte before it.
//   A version-1 file is the Fashion-MNIST classifier: 1x28x28, 10 classes, IDX data.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "aigc/core/buffer.hpp"
#include "aigc/core/error.hpp"
#include "aigc/core/rng.hpp"
#include "aigc/layers/activation.hpp"
#include "aigc/layers/batchnorm.hpp"
#include "aigc/layers/conv2d.hpp"
#include "aigc/layers/dense.hpp"
#include "aigc/layers/dropout.hpp"
#include "aigc/layers/sequential.hpp"

namespace aigc {

/// What a classifier was trained on, recorded in its weights file (version 2): the shape of its
/// input images, its classes, and the data set with the options that make its held-out split.
/// The defaults are the Fashion-MNIST classifier of a version-1 file.
struct ClassifierData {
  int channels = 1;                      ///< channels of an input image (1 grey, 3 RGB)
  Index height = 28;                     ///< rows of pixels of an input image
  Index width = 28;                      ///< columns of pixels of an input image
  int classes = 10;                      ///< number of classes (logits)
  std::string data_set;                  ///< the image folder trained on ("": IDX files)
  std::uint64_t split_seed = 0;          ///< seed of the folder's held-out split
  double holdout = 0.1;                  ///< fraction of each class held out as the test set
  std::vector<std::string> class_names;  ///< the folder's classes (its subfolders), in label order

  /// "CxHxW", e.g. "3x64x64".
  std::string shape() const {
    return std::to_string(channels) + "x" + std::to_string(height) + "x" + std::to_string(width);
  }
  /// Values per input image: channels * height * width.
  Index features() const { return channels * height * width; }
  /// Whether this is what a version-1 file holds (written as version 1, byte for byte as before).
  bool version_one() const {
    return channels == 1 && height == 28 && width == 28 && classes == 10 && data_set.empty() &&
           class_names.empty();
  }
};

namespace detail {

inline void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

inline std::uint32_t get_u32(const std::vector<std::uint8_t>& in, std::size_t& at,
                             const std::string& path) {
  if (at + 4 > in.size())
    throw FileError(path + ": truncated (at byte " + std::to_string(at) + ")");
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | in[at + static_cast<std::size_t>(i)];
  at += 4;
  return v;
}

inline void put_string(std::vector<std::uint8_t>& out, const std::string& s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

inline std::string get_string(const std::vector<std::uint8_t>& in, std::size_t& at,
                              std::size_t limit, const std::string& path) {
  const std::uint32_t len = get_u32(in, at, path);
  if (at + len > limit) throw FileError(path + ": truncated inside a string");
  std::string s(in.begin() + static_cast<std::ptrdiff_t>(at),
                in.begin() + static_cast<std::ptrdiff_t>(at + len));
  at += len;
  return s;
}

inline void put_classifier_data(std::vector<std::uint8_t>& b, const ClassifierData& d) {
  for (Index v : {Index{d.channels}, d.height, d.width, Index{d.classes}})
    put_u32(b, static_cast<std::uint32_t>(v));
  put_string(b, d.data_set);
  put_u32(b, static_cast<std::uint32_t>(d.split_seed));
  put_u32(b, static_cast<std::uint32_t>(d.split_seed >> 32));
  std::uint64_t bits;
  std::memcpy(&bits, &d.holdout, 8);
  put_u32(b, static_cast<std::uint32_t>(bits));
  put_u32(b, static_cast<std::uint32_t>(bits >> 32));
  put_u32(b, static_cast<std::uint32_t>(d.class_names.size()));
  for (const std::string& name : d.class_names) put_string(b, name);
}

inline ClassifierData get_classifier_data(const std::vector<std::uint8_t>& b, std::size_t& at,
                                          std::size_t limit, const std::string& path) {
  ClassifierData d;
  d.channels = static_cast<int>(get_u32(b, at, path));
  d.height = get_u32(b, at, path);
  d.width = get_u32(b, at, path);
  d.classes = static_cast<int>(get_u32(b, at, path));
  if ((d.channels != 1 && d.channels != 3) || d.height < 1 || d.width < 1 || d.height > 4096 ||
      d.width > 4096 || d.classes < 2 || d.classes > 100000) {
    throw FileError(path + ": implausible classifier shape " + d.shape() + " with " +
                    std::to_string(d.classes) + " classes");
  }
  d.data_set = get_string(b, at, limit, path);
  d.split_seed = get_u32(b, at, path);
  d.split_seed |= std::uint64_t{get_u32(b, at, path)} << 32;
  std::uint64_t bits = get_u32(b, at, path);
  bits |= std::uint64_t{get_u32(b, at, path)} << 32;
  std::memcpy(&d.holdout, &bits, 8);
  const std::uint32_t names = get_u32(b, at, path);
  if (names != 0 && names != static_cast<std::uint32_t>(d.classes)) {
    throw FileError(path + ": " + std::to_string(names) + " class names for " +
                    std::to_string(d.classes) + " classes");
  }
  for (std::uint32_t i = 0; i < names; ++i) d.class_names.push_back(get_string(b, at, limit, path));
  return d;
}

inline constexpr char weights_magic[8] = {'A', 'I', 'G', 'C', 'F', 'M', 'C', '1'};

// A weights file read and checked (magic, CRC, version), its ClassifierData read; `at` is the
// offset of the tensor count, `limit` that of the CRC.
struct WeightsFile {
  std::vector<std::uint8_t> bytes;
  ClassifierData data;
  std::size_t at = 0, limit = 0;
};

inline WeightsFile read_weights_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(path + ": cannot open the weights file (" + std::strerror(errno) + ")");
  WeightsFile w;
  w.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  const std::vector<std::uint8_t>& b = w.bytes;
  if (b.size() < 20 || std::memcmp(b.data(), weights_magic, 8) != 0) {
    throw FileError(path + ": not an aigc weights file (magic AIGCFMC1 missing)");
  }
  std::size_t end = b.size() - 4;
  const std::uint32_t stored = get_u32(b, end, path);
  const auto actual =
      static_cast<std::uint32_t>(crc32(0L, b.data(), static_cast<uInt>(b.size() - 4)));
  if (stored != actual) throw FileError(path + ": CRC-32 mismatch, the file is corrupt");
  w.limit = b.size() - 4;
  w.at = 8;
  const std::uint32_t version = get_u32(b, w.at, path);
  if (version != 1 && version != 2)
    throw FileError(path + ": unsupported weights version " + std::to_string(version));
  if (version == 2) w.data = get_classifier_data(b, w.at, w.limit, path);
  return w;
}

/// The tensors of a weights file, in order: (name, values) of the parameters, then the buffers.
template <class T>
std::vector<std::pair<const std::string*, Tensor<T>*>> weight_tensors(
    const std::vector<Param<T>*>& params, const std::vector<Buffer<T>*>& buffers) {
  std::vector<std::pair<const std::string*, Tensor<T>*>> out;
  for (Param<T>* p : params) out.emplace_back(&p->name, &p->value);
  for (Buffer<T>* b : buffers) out.emplace_back(&b->name, &b->value);
  return out;
}

}  // namespace detail

// Writes parameters and buffers (names, shapes, float32 values) to `path` in the weights-file
// format above, through a temporary file renamed into place: version 1 without `data` (or with
// the Fashion-MNIST classifier's), else version 2 recording `data`.
template <class T>
void save_weights(const std::string& path, const std::vector<Param<T>*>& params,
                  const std::vector<Buffer<T>*>& buffers = {},
                  const ClassifierData* data = nullptr) {
  const auto tensors = detail::weight_tensors(params, buffers);
  const bool version_two = data && !data->version_one();
  std::vector<std::uint8_t> b(detail::weights_magic, detail::weights_magic + 8);
  detail::put_u32(b, version_two ? 2 : 1);
  if (version_two) detail::put_classifier_data(b, *data);
  detail::put_u32(b, static_cast<std::uint32_t>(tensors.size()));
  for (const auto& [name, value] : tensors) {
    detail::put_string(b, *name);
    detail::put_u32(b, static_cast<std::uint32_t>(value->rows()));
    detail::put_u32(b, static_cast<std::uint32_t>(value->cols()));
    for (Index i = 0; i < value->size(); ++i) {
      const float f = static_cast<float>(value->data()[i]);
      std::uint32_t bits;
      std::memcpy(&bits, &f, 4);
      detail::put_u32(b, bits);
    }
  }
  detail::put_u32(b, static_cast<std::uint32_t>(crc32(0L, b.data(), static_cast<uInt>(b.size()))));
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!out.flush()) {
      std::remove(tmp.c_str());
      throw FileError(path + ": cannot write the weights file (" + std::strerror(errno) + ")");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw FileError(path + ": cannot rename the written weights into place");
  }
}

/// What a weights file says its classifier was trained on (the defaults for a version-1 file),
/// after checking its magic, version and CRC.
inline ClassifierData read_classifier_data(const std::string& path) {
  return detail::read_weights_file(path).data;
}

// Reads a weights file (version 1 or 2) into `params` and `buffers`, checking the magic, version,
// CRC, and every name and shape; `data`, if given, receives what the file records.
template <class T>
void load_weights(const std::string& path, const std::vector<Param<T>*>& params,
                  const std::vector<Buffer<T>*>& buffers = {}, ClassifierData* data = nullptr) {
  const auto tensors = detail::weight_tensors(params, buffers);
  const detail::WeightsFile w = detail::read_weights_file(path);
  const std::vector<std::uint8_t>& b = w.bytes;
  std::size_t at = w.at;
  const std::size_t limit = w.limit;
  const std::uint32_t count = detail::get_u32(b, at, path);
  if (count != tensors.size()) {
    throw FileError(path + ": holds " + std::to_string(count) + " tensors, the model has " +
                    std::to_string(tensors.size()) + " (" + std::to_string(params.size()) +
                    " parameters, " + std::to_string(buffers.size()) + " buffers)");
  }
  for (const auto& [wanted, value] : tensors) {
    const std::uint32_t len = detail::get_u32(b, at, path);
    if (at + len > limit) throw FileError(path + ": truncated inside a parameter name");
    const std::string name(b.begin() + static_cast<std::ptrdiff_t>(at),
                           b.begin() + static_cast<std::ptrdiff_t>(at + len));
    at += len;
    const std::uint32_t rows = detail::get_u32(b, at, path), cols = detail::get_u32(b, at, path);
    if (name != *wanted || rows != value->rows() || cols != value->cols()) {
      throw FileError(path + ": tensor '" + name + "' [" + std::to_string(rows) + " x " +
                      std::to_string(cols) + "] does not match the model's '" + *wanted + "' " +
                      shape_string(*value));
    }
    if (at + std::size_t{4} * rows * cols > limit) {
      throw FileError(path + ": truncated inside tensor '" + name + "'");
    }
    for (Index i = 0; i < value->size(); ++i) {
      const std::uint32_t bits = detail::get_u32(b, at, path);
      float f;
      std::memcpy(&f, &bits, 4);
      value->data()[i] = static_cast<T>(f);
    }
  }
  if (at != limit)
    throw FileError(path + ": " + std::to_string(limit - at) + " stray bytes at the end");
  if (data) *data = w.data;
}

/// The classifier (see the top of this file). Images are rows of channels * height * width
/// values in [0, 1] (NCHW).
template <class T>
class ImageClassifier {
 public:
  static constexpr Index feature_size = 128;  ///< size of the penultimate features

  /// A classifier of `data`'s shape and classes with freshly initialised weights drawn from
  /// `seed` (the default: the Fashion-MNIST classifier, 1x28x28, 10 classes).
  explicit ImageClassifier(std::uint64_t seed = 0, ClassifierData data = {})
      : data_(std::move(data)) {
    if (data_.channels < 1 || data_.height < 1 || data_.width < 1 || data_.classes < 2) {
      throw ArgumentError("ImageClassifier: needs images of at least 1x1x1 and 2 classes, got " +
                          data_.shape() + " and " + std::to_string(data_.classes) + " classes");
    }
    Rng rng(seed);
    body_.set_name("classifier");
    Index channels = data_.channels, h = data_.height, w = data_.width;
    for (int i = 1; std::max(h, w) > 8; ++i) {
      const Index out = Index{32} << (i - 1);
      const std::string n = std::to_string(i);
      body_.template emplace<Conv2d<T>>("conv" + n, channels, out, 3, h, w, rng,
                                        Conv2dOptions{.stride = 2, .padding = 1, .bias = false});
      body_.template emplace<BatchNorm2d<T>>("bn" + n, out,
                                             BatchNormOptions{.activation = Activation::relu});
      channels = out;
      h = (h + 1) / 2;
      w = (w + 1) / 2;
    }
    body_.template emplace<Dense<T>>("fc1", channels * h * w, feature_size, rng,
                                     DenseOptions{.activation = Activation::relu});
    body_.template emplace<Dropout<T>>("dropout", 0.3, seed + 1);
    head_ = std::make_unique<Dense<T>>(feature_size, data_.classes, rng);
    head_->set_name("classifier.fc2");
    body_.set_needs_input_grad(false);
  }

  /// Loads a classifier from a weights file (as written by save()), of the shape it records.
  static std::unique_ptr<ImageClassifier> load(const std::string& path) {
    auto c = std::make_unique<ImageClassifier>(0, read_classifier_data(path));
    load_weights(path, c->params(), c->buffers());
    return c;
  }
  /// Writes the weights, BatchNorm's running statistics and data() to `path` (see save_weights).
  void save(const std::string& path) { save_weights(path, params(), buffers(), &data_); }

  /// What the classifier takes and was trained on (its input shape, classes, data set).
  const ClassifierData& data() const { return data_; }
  /// Records the data set trained on (its shape and classes must be the classifier's).
  void set_data(ClassifierData data) {
    if (data.shape() != data_.shape() || data.classes != data_.classes) {
      throw ArgumentError("ImageClassifier::set_data: " + data.shape() + " with " +
                          std::to_string(data.classes) + " classes, the classifier is " +
                          data_.shape() + " with " + std::to_string(data_.classes));
    }
    data_ = std::move(data);
  }
  /// Number of classes (logits).
  int classes() const { return data_.classes; }

  /// All trainable parameters: the body's, then the head's.
  std::vector<Param<T>*> params() {
    std::vector<Param<T>*> p = body_.params();
    for (Param<T>* q : head_->params()) p.push_back(q);
    return p;
  }

  /// The non-trainable state: BatchNorm's running statistics, used in eval mode.
  std::vector<Buffer<T>*> buffers() { return body_.buffers(); }

  /// Training: the logits of a batch (the forward pass caches for backward).
  const Tensor<T>& forward(const Tensor<T>& x) {
    check_images(x);
    return head_->forward(body_.forward(x));
  }
  /// Training: the backward pass from the gradient of the logits.
  void backward(const Tensor<T>& dlogits) { body_.backward(head_->backward(dlogits)); }
  /// Switches training mode (as opposed to eval mode) on or off.
  void set_training(bool on) {
    body_.set_training(on);
    head_->set_training(on);
  }

  /// Penultimate features (n x 128) of images, in batches, in eval mode.
  Tensor<T> features(const Tensor<T>& images, Index batch = 500) {
    return run(images, batch, false);
  }
  /// Logits (n x classes) of images, in batches, in eval mode.
  Tensor<T> logits(const Tensor<T>& images, Index batch = 500) { return run(images, batch, true); }

  /// The most likely class of each image.
  std::vector<int> predict(const Tensor<T>& images) {
    const Tensor<T> z = logits(images);
    std::vector<int> out(static_cast<std::size_t>(z.rows()));
    for (Index i = 0; i < z.rows(); ++i) z.row(i).maxCoeff(&out[static_cast<std::size_t>(i)]);
    return out;
  }

  /// The fraction of images whose predicted class is their label (for conditional samples: the
  /// class the generator was asked for).
  double accuracy(const Tensor<T>& images, const std::vector<int>& labels) {
    if (static_cast<Index>(labels.size()) != images.rows()) {
      throw ShapeError("ImageClassifier::accuracy: " + std::to_string(labels.size()) +
                       " labels for images " + shape_string(images));
    }
    const std::vector<int> p = predict(images);
    std::size_t right = 0;
    for (std::size_t i = 0; i < p.size(); ++i) right += p[i] == labels[i];
    return p.empty() ? 0.0 : static_cast<double>(right) / static_cast<double>(p.size());
  }

 private:
  void check_images(const Tensor<T>& images) const {
    if (images.cols() != data_.features()) {
      throw ShapeError("ImageClassifier: images " + shape_string(images) + " are not rows of " +
                       data_.shape() + " = " + std::to_string(data_.features()) +
                       " values, the classifier's input");
    }
  }

  Tensor<T> run(const Tensor<T>& images, Index batch, bool with_head) {
    check_images(images);
    set_training(false);
    Tensor<T> out(images.rows(), with_head ? data_.classes : feature_size);
    Tensor<T> x;
    for (Index begin = 0; begin < images.rows(); begin += batch) {
      const Index rows = std::min(batch, images.rows() - begin);
      x = images.middleRows(begin, rows);
      const Tensor<T>& f = body_.forward(x);
      out.middleRows(begin, rows) = with_head ? head_->forward(f) : f;
    }
    set_training(true);
    return out;
  }

  ClassifierData data_;
  Sequential<T> body_;
  std::unique_ptr<Dense<T>> head_;
};

/// The Fashion-MNIST classifier: an ImageClassifier of the default shape (1x28x28, 10 classes).
template <class T>
using FashionClassifier = ImageClassifier<T>;

}  // namespace aigc
