/// @file
/// aigc: class conditioning: a code of each sample's label (one-hot, or a learned embedding as
/// torch.nn.Embedding) appended to a vector input, or broadcast as constant channels to an image.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "aigc/core/config.hpp"
#include "aigc/core/module.hpp"
#include "aigc/core/rng.hpp"
#include "aigc/kernels/conditioning.hpp"
#include "aigc/layers/sequential.hpp"

namespace aigc {

/// How a label becomes a code.
enum class LabelCode {
  one_hot,   ///< num_classes values, 1 at the label
  embedding  ///< a learned vector of embedding_dim values per class
};

/// Options of a Conditioning layer.
struct ConditioningOptions {
  LabelCode code = LabelCode::one_hot;  ///< one-hot or learned embedding
  Index embedding_dim = 0;              ///< size of the learned code (LabelCode::embedding)
  /// With height or width > 1 the input is an image: rows of channels x height x width, NCHW.
  Index height = 1;
  Index width = 1;  ///< see height
};

/// Labels are given by set_labels() before forward. A vector input [batch x features] becomes
/// [batch x (features + code)]; an image input [batch x C*H*W] becomes [batch x (C + code)*H*W],
/// the code values appended as constant channels after the image's. One-hot codes have
/// num_classes values; an embedding has embedding_dim values, a parameter "weight" of
/// num_classes x embedding_dim initialised from N(0, 1).
template <class T>
class Conditioning : public Module<T> {
 public:
  /// `channels`: the features of a vector input, or the channels of an image input.
  Conditioning(Index channels, int num_classes, Rng& rng, ConditioningOptions options = {})
      : channels_(channels), classes_(num_classes), o_(options) {
    if (channels < 0 || num_classes <= 0 || options.height <= 0 || options.width <= 0) {
      throw ArgumentError(
          "Conditioning: channels must be >= 0 and num_classes, height, width > 0, "
          "got channels=" +
          std::to_string(channels) + " num_classes=" + std::to_string(num_classes) +
          " height=" + std::to_string(options.height) + " width=" + std::to_string(options.width));
    }
    if (options.code == LabelCode::embedding) {
      if (options.embedding_dim <= 0) {
        throw ArgumentError(
            "Conditioning: embedding_dim must be positive for a learned "
            "embedding, got " +
            std::to_string(options.embedding_dim));
      }
      code_ = options.embedding_dim;
      weight_ = Param<T>("weight", num_classes, code_);
      rng.fill_normal(weight_.value);
    } else {
      code_ = num_classes;
      one_hot_ = Tensor<T>::Identity(num_classes, num_classes);
    }
    set_name("");
  }

  /// The layer's type in model files.
  static constexpr const char* type_name = "Conditioning";
  /// Writes the sizes and the code to a model file's configuration.
  void write_config(Config& c) const {
    c.set_int("channels", channels_);
    c.set_int("num_classes", classes_);
    c.set_string("code", o_.code == LabelCode::embedding ? "embedding" : "one_hot");
    c.set_int("embedding_dim", o_.embedding_dim);
    c.set_int("height", o_.height);
    c.set_int("width", o_.width);
  }
  /// The layer of a model file's configuration (its values are overwritten by the file's).
  static std::unique_ptr<Conditioning> from_config(const Config& c) {
    const Index channels = c.get_int("channels", 0, config_max_size);
    const auto classes = static_cast<int>(c.get_int("num_classes", 1, 4096));
    const std::string code = c.get_string("code");
    if (code != "one_hot" && code != "embedding")
      throw ArgumentError("option 'code' = '" + code + "' is neither 'one_hot' nor 'embedding'");
    const ConditioningOptions o{
        .code = code == "embedding" ? LabelCode::embedding : LabelCode::one_hot,
        .embedding_dim = c.get_int("embedding_dim", 0, config_max_size),
        .height = c.get_int("height", 1, config_max_size),
        .width = c.get_int("width", 1, config_max_size)};
    const std::uint64_t table = o.code == LabelCode::embedding
                                    ? Config::product(classes, o.embedding_dim)
                                    : Config::product(classes, classes);
    if (o.code == LabelCode::embedding) c.check_elements(table, "the embedding table");
    c.check_sample({channels + (o.code == LabelCode::embedding ? o.embedding_dim : classes),
                    o.height, o.width},
                   "the output");
    Rng rng(0);
    return std::make_unique<Conditioning>(channels, classes, rng, o);
  }

  /// Checks that a sample of `shape` holds the layer's input features.
  void set_input_shape(const SampleShape& shape) override {
    if (sample_size(shape) != in_features() ||
        (shape.size() == 3 && (shape[1] != o_.height || shape[2] != o_.width))) {
      throw ShapeError("Conditioning '" + this->name() + "': input shape " +
                       sample_shape_string(shape) + " does not hold " + std::to_string(channels_) +
                       " channels of " + std::to_string(o_.height) + " x " +
                       std::to_string(o_.width));
    }
    Module<T>::set_input_shape(shape);
  }
  /// {C + code, H, W} for an image input ({features + code} for a vector).
  SampleShape output_shape() const override {
    const SampleShape& in = this->input_shape();
    if (in.size() == 3 || (in.empty() && pixels() > 1))
      return {channels_ + code_, o_.height, o_.width};
    return {out_features()};
  }

  /// Train or eval mode; the labels of the last forward are kept per mode, like the buffers.
  void set_training(bool on) override {
    if (on != this->training()) {
      used_labels_.swap(other_mode_labels_);
      std::swap(mixed_forward_, other_mode_mixed_forward_);
    }
    Module<T>::set_training(on);
  }

  /// The labels of the next forward's rows, each in [0, num_classes).
  void set_labels(const std::vector<int>& labels) {
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] < 0 || labels[i] >= classes_) {
        throw ArgumentError("Conditioning '" + this->name() + "': label " +
                            std::to_string(labels[i]) + " at index " + std::to_string(i) +
                            " is out of range [0, " + std::to_string(classes_) + ")");
      }
    }
    labels_.assign(labels.begin(), labels.end());
    mix_t_.clear();
  }

  /// Codes between classes for the next forwards (until set_labels): row i's code is
  /// (1 - t[i]) code(from[i]) + t[i] code(to[i]), e.g. a cGAN's image walking from one class to
  /// another at a fixed z. For sampling: a backward after such a forward is refused.
  void set_label_mix(const std::vector<int>& from, const std::vector<int>& to,
                     const std::vector<double>& t) {
    if (from.size() != to.size() || from.size() != t.size()) {
      throw ArgumentError("Conditioning '" + this->name() + "': set_label_mix needs as many " +
                          "'to' labels and weights as 'from' labels, got " +
                          std::to_string(from.size()) + ", " + std::to_string(to.size()) + ", " +
                          std::to_string(t.size()));
    }
    set_labels(to);
    set_labels(from);
    mix_to_.assign(to.begin(), to.end());
    mix_t_.assign(t.begin(), t.end());
  }

  /// Y = [X | code(label)] per row, the code repeated over the H*W pixels of an image.
  const Tensor<T>& forward(const Tensor<T>& x) override {
    check_cols(x, in_features(), [&] { return "Conditioning '" + this->name() + "' forward"; });
    if (static_cast<Index>(labels_.size()) != x.rows()) {
      throw ShapeError("Conditioning '" + this->name() + "': " + std::to_string(labels_.size()) +
                       " labels set for an input of " + std::to_string(x.rows()) + " rows " +
                       shape_string(x));
    }
    y_.resize(x.rows(), out_features());
    mixed_forward_ = !mix_t_.empty();
    if (mixed_forward_) {  // row i's own code, in mixed_ (rows x code), picked by label i
      const Tensor<T>& tab = table();
      mixed_.resize(x.rows(), code_);
      used_labels_.resize(labels_.size());
      for (std::size_t i = 0; i < labels_.size(); ++i) {
        const auto r = static_cast<Index>(i);
        const T t = static_cast<T>(mix_t_[i]);
        mixed_.row(r) = (T(1) - t) * tab.row(labels_[i]) + t * tab.row(mix_to_[i]);
        used_labels_[i] = static_cast<int>(i);
      }
      kernels::concat_label_codes(x.data(), x.rows(), x.cols(), mixed_.data(), code_,
                                  used_labels_.data(), pixels(), y_.data());
      return y_;
    }
    used_labels_.assign(labels_.begin(), labels_.end());
    kernels::concat_label_codes(x.data(), x.rows(), x.cols(), table().data(), code_,
                                used_labels_.data(), pixels(), y_.data());
    return y_;
  }

  /// dX = dY[:, :C*H*W]; dweight[label] += dY's code columns summed over the pixels.
  const Tensor<T>& backward(const Tensor<T>& dy) override {
    if (dy.rows() != y_.rows() || dy.cols() != y_.cols()) {
      throw ShapeError("Conditioning '" + this->name() + "' backward (dY vs Y): shapes differ, " +
                       shape_string(dy) + " vs " + shape_string(y_));
    }
    if (mixed_forward_) {
      throw ArgumentError("Conditioning '" + this->name() +
                          "' backward: the last forward mixed two labels' codes "
                          "(set_label_mix, for sampling); set_labels and run forward again");
    }
    const bool embedding = o_.code == LabelCode::embedding && this->needs_param_grads();
    const bool input = this->needs_input_grad();
    if (input) dx_.resize(dy.rows(), in_features());
    kernels::concat_label_codes_backward(
        dy.data(), dy.rows(), in_features(), code_, used_labels_.data(), pixels(),
        input ? dx_.data() : nullptr, embedding ? weight_.grad.data() : nullptr);
    if (!input) {
      no_dx_.resize(0, in_features());  // separate, so that dx_ keeps its buffer
      return no_dx_;
    }
    return dx_;
  }

  std::vector<Param<T>*> params() override {
    if (o_.code == LabelCode::embedding) return {&weight_};
    return {};
  }

  void set_name(const std::string& name) override {
    Module<T>::set_name(name);
    weight_.name = this->child_name("weight");
  }

  /// Values of an input row.
  Index in_features() const { return channels_ * pixels(); }
  /// Values of an output row: the input's and the code's.
  Index out_features() const { return (channels_ + code_) * pixels(); }
  /// Values of the code per position.
  Index code_size() const { return code_; }
  /// Number of classes.
  int num_classes() const { return classes_; }
  /// Features of a vector input, or channels of an image input.
  Index channels() const { return channels_; }
  /// The options given at construction.
  const ConditioningOptions& options() const { return o_; }
  /// The labels set for the next forward.
  const std::vector<int>& labels() const { return labels_; }
  /// The embedding table, num_classes x embedding_dim (empty for one-hot codes).
  Param<T>& weight() { return weight_; }

 private:
  Index pixels() const { return o_.height * o_.width; }
  const Tensor<T>& table() const {
    return o_.code == LabelCode::embedding ? weight_.value : one_hot_;
  }

  Index channels_;
  int classes_;
  ConditioningOptions o_;
  Index code_ = 0;
  Param<T> weight_;
  std::vector<Tensor<T>*> work_buffers() override { return {&y_, &dx_}; }
  Tensor<T> one_hot_, y_, dx_, no_dx_, mixed_;
  std::vector<int> labels_, used_labels_, other_mode_labels_, mix_to_;
  std::vector<double> mix_t_;
  bool mixed_forward_ = false, other_mode_mixed_forward_ = false;
};

/// The Conditioning layer at `index` of a network (the builders put it first), or ArgumentError.
template <class T>
Conditioning<T>& conditioning_layer(Sequential<T>& net, std::size_t index = 0) {
  auto* c = index < net.size() ? dynamic_cast<Conditioning<T>*>(&net[index]) : nullptr;
  if (!c) {
    throw ArgumentError("network '" + net.name() + "': layer " + std::to_string(index) +
                        " is not a Conditioning layer");
  }
  return *c;
}

/// Every Conditioning layer of a network, in order (a builder may condition several layers).
template <class T>
std::vector<Conditioning<T>*> conditioning_layers(Sequential<T>& net) {
  std::vector<Conditioning<T>*> out;
  for (std::size_t i = 0; i < net.size(); ++i) {
    if (auto* c = dynamic_cast<Conditioning<T>*>(&net[i])) out.push_back(c);
  }
  return out;
}

}  // namespace aigc
