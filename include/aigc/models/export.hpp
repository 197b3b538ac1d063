/// @file
/// aigc: exported generative models. A GAN's generator or a VAE's decoder written as a model file
/// with what a sampling program needs (latent size, image shape, output range, classes), and read
/// back to draw images exactly as the trainer draws them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "aigc/core/config.hpp"
#include "aigc/core/module.hpp"
#include "aigc/data/dataset.hpp"
#include "aigc/io/model_file.hpp"
#include "aigc/kernels/elementwise.hpp"
#include "aigc/layers/conditioning.hpp"
#include "aigc/layers/module_tree.hpp"

namespace aigc {

/// What a generative model's output holds.
enum class ModelOutput {
  symmetric,  ///< images in [-1, 1] (a tanh generator)
  unit,       ///< images in [0, 1]
  logits      ///< logits of images in [0, 1]: the sampler applies the sigmoid (a VAE decoder)
};

/// The metadata of an exported generator or decoder (docs/model-format.md).
struct GenerativeModelInfo {
  std::string kind = "generator";               ///< "generator" (GAN) or "decoder" (VAE)
  Index latent = 0;                             ///< size of z
  SampleShape image_shape;                      ///< {C, H, W} of an output sample
  ModelOutput output = ModelOutput::symmetric;  ///< the range of the module's output
  int num_classes = 0;                          ///< 0: unconditional; else the labels it takes
  std::vector<std::string> class_names;         ///< one per class, or none

  /// The pixel range of the images generate() returns.
  PixelScale pixel_scale() const {
    return output == ModelOutput::symmetric ? PixelScale::symmetric : PixelScale::unit;
  }

  /// The metadata entries.
  Config to_config() const {
    Config c;
    c.set_string("kind", kind);
    c.set_int("latent", latent);
    c.set_ints("image_shape", std::vector<std::int64_t>(image_shape.begin(), image_shape.end()));
    c.set_string("output", output == ModelOutput::symmetric ? "symmetric"
                           : output == ModelOutput::unit    ? "unit"
                                                            : "logits");
    c.set_int("num_classes", num_classes);
    if (!class_names.empty()) c.set_strings("class_names", class_names);
    return c;
  }

  /// The info of a model file's metadata; `where` (the file) prefixes the errors.
  static GenerativeModelInfo from_config(const Config& metadata, const std::string& where) {
    const Config& c = metadata;
    GenerativeModelInfo i;
    try {
      i.kind = c.get_string("kind");
      if (i.kind != "generator" && i.kind != "decoder")
        throw ArgumentError("'kind' = '" + i.kind + "' is neither 'generator' nor 'decoder'");
      i.latent = c.get_int("latent", 1, config_max_size);
      const std::vector<std::int64_t> shape = c.get_ints("image_shape", 1, config_max_size, 3);
      if (shape.size() != 3) throw ArgumentError("'image_shape' should be C, H, W");
      i.image_shape.assign(shape.begin(), shape.end());
      const std::string output = c.get_string("output");
      if (output == "symmetric") {
        i.output = ModelOutput::symmetric;
      } else if (output == "unit") {
        i.output = ModelOutput::unit;
      } else if (output == "logits") {
        i.output = ModelOutput::logits;
      } else {
        throw ArgumentError("'output' = '" + output + "' is not symmetric, unit or logits");
      }
      i.num_classes = static_cast<int>(c.get_int("num_classes", 0, 4096));
      if (c.contains("class_names")) i.class_names = c.get_strings("class_names");
    } catch (const FileError&) {
      throw;
    } catch (const Error& e) {
      throw FileError(where + ": not an exported generator or decoder: metadata " + e.what());
    }
    if (!i.class_names.empty() && static_cast<int>(i.class_names.size()) != i.num_classes) {
      throw FileError(where + ": " + std::to_string(i.class_names.size()) + " class names for " +
                      std::to_string(i.num_classes) + " classes");
    }
    return i;
  }
};

namespace detail {

/// Every Conditioning layer of a module tree, in order.
template <class T>
std::vector<Conditioning<T>*> all_conditioning_layers(Module<T>& m) {
  std::vector<Conditioning<T>*> out;
  for_each_module<T>(m, [&](Module<T>& x) {
    if (auto* c = dynamic_cast<Conditioning<T>*>(&x)) out.push_back(c);
  });
  return out;
}

/// Checks info against the module (its conditioning layers' classes, its output size) and fills
/// num_classes from the layers when it is 0.
template <class T>
GenerativeModelInfo checked_info(Module<T>& m, GenerativeModelInfo info, const std::string& path) {
  const std::string where = path + ": exporting '" + m.name() + "'";
  if (info.latent <= 0) throw ArgumentError(where + ": the latent size must be positive");
  if (info.image_shape.size() != 3 || sample_size(info.image_shape) <= 0)
    throw ArgumentError(where + ": the image shape must be {C, H, W}, got " +
                        sample_shape_string(info.image_shape));
  const auto layers = all_conditioning_layers(m);
  for (const Conditioning<T>* c : layers) {
    if (info.num_classes == 0) info.num_classes = c->num_classes();
    if (c->num_classes() != info.num_classes) {
      throw ArgumentError(where + ": conditioning layer '" + c->name() + "' takes " +
                          std::to_string(c->num_classes()) + " classes, not " +
                          std::to_string(info.num_classes));
    }
  }
  if (layers.empty() && info.num_classes != 0) {
    throw ArgumentError(where + ": " + std::to_string(info.num_classes) +
                        " classes given, but the module has no Conditioning layer to take them");
  }
  if (!info.class_names.empty() && static_cast<int>(info.class_names.size()) != info.num_classes) {
    throw ArgumentError(where + ": " + std::to_string(info.class_names.size()) +
                        " class names for " + std::to_string(info.num_classes) + " classes");
  }
  const SampleShape out = m.output_shape();
  if (!out.empty() && sample_size(out) != sample_size(info.image_shape)) {
    throw ArgumentError(where + ": the module outputs " + sample_shape_string(out) +
                        ", not images of " + sample_shape_string(info.image_shape));
  }
  return info;
}

}  // namespace detail

/// Writes a model and its GenerativeModelInfo as a model file (checked first: a conditional
/// module's Conditioning layers give the class count, which must match the names given).
template <class T>
void export_model(const std::string& path, Module<T>& module, const GenerativeModelInfo& info) {
  save_model(path, module, detail::checked_info(module, info, path).to_config());
}

/// Writes a GAN's generator (z -> images in [-1, 1]); for a cGAN, its Conditioning layers carry
/// the class count and `class_names` (optional) name the classes.
template <class T>
void export_generator(const std::string& path, Module<T>& generator, Index latent,
                      SampleShape image_shape, std::vector<std::string> class_names = {},
                      ModelOutput output = ModelOutput::symmetric) {
  GenerativeModelInfo info;
  info.kind = "generator";
  info.latent = latent;
  info.image_shape = std::move(image_shape);
  info.output = output;
  info.class_names = std::move(class_names);
  if (!info.class_names.empty()) info.num_classes = static_cast<int>(info.class_names.size());
  export_model(path, generator, info);
}

/// Writes a VAE's decoder (z -> logits of images in [0, 1]); for a CVAE, its Conditioning layers
/// carry the class count and `class_names` (optional) name the classes.
template <class T>
void export_decoder(const std::string& path, Module<T>& decoder, Index latent,
                    SampleShape image_shape, std::vector<std::string> class_names = {},
                    ModelOutput output = ModelOutput::logits) {
  GenerativeModelInfo info;
  info.kind = "decoder";
  info.latent = latent;
  info.image_shape = std::move(image_shape);
  info.output = output;
  info.class_names = std::move(class_names);
  if (!info.class_names.empty()) info.num_classes = static_cast<int>(info.class_names.size());
  export_model(path, decoder, info);
}

/// An exported generator or decoder, loaded: draws images as its trainer does (GanTrainer::
/// generate, VaeTrainer::decode, CvaeTrainer::decode), bit for bit for the same z and labels.
template <class T>
class GenerativeModel {
 public:
  /// Loads the model file at `path`; refuses a file without the metadata of an export.
  static GenerativeModel load(const std::string& path) {
    ModelFile<T> file = load_model_file<T>(path);
    GenerativeModel g;
    g.info_ = GenerativeModelInfo::from_config(file.metadata, path);
    g.module_ = std::move(file.module);
    g.path_ = path;
    g.conditioning_ = detail::all_conditioning_layers(*g.module_);
    if (g.conditional() && g.conditioning_.empty())
      throw FileError(path + ": the metadata names " + std::to_string(g.info_.num_classes) +
                      " classes but the model has no Conditioning layer");
    return g;
  }

  /// The images of codes z (n x latent) and, for a conditional model, one label per row: values
  /// in [-1, 1] or [0, 1] (info().pixel_scale()), one image per row.
  Tensor<T> generate(const Tensor<T>& z, const std::vector<int>* labels = nullptr) {
    check_cols(z, info_.latent, [&] { return path_ + ": generate (z)"; });
    if (conditional()) {
      if (!labels || static_cast<Index>(labels->size()) != z.rows()) {
        throw ArgumentError(path_ + ": a conditional model needs one label per row, got " +
                            (labels ? std::to_string(labels->size()) : std::string("none")) +
                            " for " + std::to_string(z.rows()));
      }
      for (Conditioning<T>* c : conditioning_) c->set_labels(*labels);
    }
    return run(z);
  }

  /// Images between classes (a conditional model): row i is z's row i with the label code
  /// (1 - t[i]) code(from[i]) + t[i] code(to[i]) in every Conditioning layer
  /// (Conditioning::set_label_mix): at a fixed z, t from 0 to 1 walks from one class to another.
  Tensor<T> generate_between(const Tensor<T>& z, const std::vector<int>& from,
                             const std::vector<int>& to, const std::vector<double>& t) {
    check_cols(z, info_.latent, [&] { return path_ + ": generate_between (z)"; });
    if (!conditional()) {
      throw ArgumentError(path_ + ": generate_between needs a conditional model");
    }
    if (static_cast<Index>(from.size()) != z.rows()) {
      throw ArgumentError(path_ + ": generate_between needs one label per row, got " +
                          std::to_string(from.size()) + " for " + std::to_string(z.rows()));
    }
    for (Conditioning<T>* c : conditioning_) c->set_label_mix(from, to, t);
    return run(z);
  }

  /// The class of `text`: an index in [0, num_classes) or one of the class names.
  int class_index(const std::string& text) const {
    for (std::size_t i = 0; i < info_.class_names.size(); ++i) {
      if (info_.class_names[i] == text) return static_cast<int>(i);
    }
    const bool digits = !text.empty() && text.size() < 6 &&
                        text.find_first_not_of("0123456789") == std::string::npos;
    const int k = digits ? std::stoi(text) : -1;
    if (k < 0 || k >= info_.num_classes) {
      std::string names;
      for (const std::string& n : info_.class_names) names += (names.empty() ? "" : ", ") + n;
      throw ArgumentError(path_ + ": class '" + text + "' is neither an index in [0, " +
                          std::to_string(info_.num_classes) + ")" +
                          (names.empty() ? std::string() : " nor one of " + names));
    }
    return k;
  }

  /// The metadata.
  const GenerativeModelInfo& info() const { return info_; }
  /// Whether the model takes class labels.
  bool conditional() const { return info_.num_classes > 0; }
  /// The network, in eval mode.
  Module<T>& module() { return *module_; }

 private:
  Tensor<T> run(const Tensor<T>& z) {
    Tensor<T> out = module_->forward(z);
    if (info_.output == ModelOutput::logits) {
      kernels::bias_activation_forward<T>(out.data(), nullptr, out.rows(), out.cols(),
                                          Activation::sigmoid, T(0));
    }
    return out;
  }

  GenerativeModelInfo info_;
  std::unique_ptr<Module<T>> module_;
  std::string path_;
  std::vector<Conditioning<T>*> conditioning_;
};

}  // namespace aigc
