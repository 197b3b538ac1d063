// aigc: the Fashion-MNIST classifier whose penultimate features define aigc's FID, its weights
// file, and the class accuracy of conditional samples.
//
// Network (input 1x28x28 in [0, 1]; each conv without bias, then BatchNorm2d and ReLU):
//   conv1 1->32 k3 s2 p1 (14x14), conv2 32->64 k3 s2 p1 (7x7),
//   fc1 3136->128 ReLU (the features), Dropout 0.3 (train mode only), fc2 128->10 (the logits).
//   Seed 0 of scripts/train_classifier.sh: 92.04% Fashion-MNIST test accuracy (docs/classifier.md).
//
// Weights file (little-endian; docs/classifier.md):
//   "AIGCFMC1" | u32 version (1) | u32 tensor count |
//   per tensor (the parameters, then the buffers such as BatchNorm's running statistics):
//   u32 name length, name bytes, u32 rows, u32 cols, rows*cols float32 |
//   u32 CRC-32 (zlib's, the IEEE polynomial) of every byte before it.
#pragma once

#include <zlib.h>

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

inline constexpr char weights_magic[8] = {'A', 'I', 'G', 'C', 'F', 'M', 'C', '1'};

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
// format above, through a temporary file renamed into place.
template <class T>
void save_weights(const std::string& path, const std::vector<Param<T>*>& params,
                  const std::vector<Buffer<T>*>& buffers = {}) {
  const auto tensors = detail::weight_tensors(params, buffers);
  std::vector<std::uint8_t> b(detail::weights_magic, detail::weights_magic + 8);
  detail::put_u32(b, 1);
  detail::put_u32(b, static_cast<std::uint32_t>(tensors.size()));
  for (const auto& [name, value] : tensors) {
    detail::put_u32(b, static_cast<std::uint32_t>(name->size()));
    b.insert(b.end(), name->begin(), name->end());
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

// Reads a weights file into `params` and `buffers`, checking the magic, version, CRC, and every
// name and shape.
template <class T>
void load_weights(const std::string& path, const std::vector<Param<T>*>& params,
                  const std::vector<Buffer<T>*>& buffers = {}) {
  const auto tensors = detail::weight_tensors(params, buffers);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(path + ": cannot open the weights file (" + std::strerror(errno) + ")");
  const std::vector<std::uint8_t> b{std::istreambuf_iterator<char>(in),
                                    std::istreambuf_iterator<char>()};
  if (b.size() < 20 || std::memcmp(b.data(), detail::weights_magic, 8) != 0) {
    throw FileError(path + ": not an aigc weights file (magic AIGCFMC1 missing)");
  }
  std::size_t end = b.size() - 4;
  const std::uint32_t stored = detail::get_u32(b, end, path);
  const auto actual =
      static_cast<std::uint32_t>(crc32(0L, b.data(), static_cast<uInt>(b.size() - 4)));
  if (stored != actual) throw FileError(path + ": CRC-32 mismatch, the file is corrupt");
  std::size_t at = 8;
  const std::uint32_t version = detail::get_u32(b, at, path);
  if (version != 1)
    throw FileError(path + ": unsupported weights version " + std::to_string(version));
  const std::uint32_t count = detail::get_u32(b, at, path);
  if (count != tensors.size()) {
    throw FileError(path + ": holds " + std::to_string(count) + " tensors, the model has " +
                    std::to_string(tensors.size()) + " (" + std::to_string(params.size()) +
                    " parameters, " + std::to_string(buffers.size()) + " buffers)");
  }
  const std::size_t limit = b.size() - 4;
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
}

/// The classifier (see the top of this file). Images are rows of 784 values in [0, 1].
template <class T>
class FashionClassifier {
 public:
  static constexpr Index image_size = 28 * 28;  ///< values per input image (28x28)
  static constexpr Index feature_size = 128;    ///< size of the penultimate features
  static constexpr int classes = 10;            ///< number of classes (logits)

  /// A classifier with freshly initialised weights drawn from `seed`.
  explicit FashionClassifier(std::uint64_t seed = 0) {
    Rng rng(seed);
    body_.set_name("classifier");
    const auto conv_bn_relu = [&](int i, Index in, Index out, Index size) {
      const std::string n = std::to_string(i);
      body_.template emplace<Conv2d<T>>("conv" + n, in, out, 3, size, size, rng,
                                        Conv2dOptions{.stride = 2, .padding = 1, .bias = false});
      body_.template emplace<BatchNorm2d<T>>("bn" + n, out);
      body_.template emplace<ReLU<T>>("relu" + n);
    };
    conv_bn_relu(1, 1, 32, 28);
    conv_bn_relu(2, 32, 64, 14);
    body_.template emplace<Dense<T>>("fc1", 64 * 7 * 7, feature_size, rng,
                                     DenseOptions{.activation = Activation::relu});
    body_.template emplace<Dropout<T>>("dropout", 0.3, seed + 1);
    head_ = std::make_unique<Dense<T>>(feature_size, classes, rng);
    head_->set_name("classifier.fc2");
    body_.set_needs_input_grad(false);
  }

  /// Loads a classifier from a weights file (as written by save()).
  static std::unique_ptr<FashionClassifier> load(const std::string& path) {
    auto c = std::make_unique<FashionClassifier>();
    load_weights(path, c->params(), c->buffers());
    return c;
  }
  /// Writes the weights and BatchNorm's running statistics to `path` (see save_weights).
  void save(const std::string& path) { save_weights(path, params(), buffers()); }

  /// All trainable parameters: the body's, then the head's.
  std::vector<Param<T>*> params() {
    std::vector<Param<T>*> p = body_.params();
    for (Param<T>* q : head_->params()) p.push_back(q);
    return p;
  }

  /// The non-trainable state: BatchNorm's running statistics, used in eval mode.
  std::vector<Buffer<T>*> buffers() { return body_.buffers(); }

  /// Training: the logits of a batch (the forward pass caches for backward).
  const Tensor<T>& forward(const Tensor<T>& x) { return head_->forward(body_.forward(x)); }
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
  /// Logits (n x 10) of images, in batches, in eval mode.
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
      throw ShapeError("FashionClassifier::accuracy: " + std::to_string(labels.size()) +
                       " labels for images " + shape_string(images));
    }
    const std::vector<int> p = predict(images);
    std::size_t right = 0;
    for (std::size_t i = 0; i < p.size(); ++i) right += p[i] == labels[i];
    return p.empty() ? 0.0 : static_cast<double>(right) / static_cast<double>(p.size());
  }

 private:
  Tensor<T> run(const Tensor<T>& images, Index batch, bool with_head) {
    check_cols(images, image_size, "FashionClassifier (28x28 images in [0, 1])");
    set_training(false);
    Tensor<T> out(images.rows(), with_head ? classes : feature_size);
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

  Sequential<T> body_;
  std::unique_ptr<Dense<T>> head_;
};

}  // namespace aigc
