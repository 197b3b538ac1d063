/// @file
/// aigc: model files. A module's architecture (each layer's type and options, in order, with its
/// name) beside its parameters and buffers and key/value metadata, in the checkpoint format
/// (CRC-checked, written atomically); loading builds the module with no code from the program
/// that trained it (docs/model-format.md). Custom layers join through register_layer.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <typeindex>
#include <vector>

#include "aigc/core/config.hpp"
#include "aigc/core/error.hpp"
#include "aigc/core/module.hpp"
#include "aigc/core/state.hpp"
#include "aigc/io/checkpoint.hpp"
#include "aigc/layers/activation.hpp"
#include "aigc/layers/batchnorm.hpp"
#include "aigc/layers/conditioning.hpp"
#include "aigc/layers/conv2d.hpp"
#include "aigc/layers/conv_transpose2d.hpp"
#include "aigc/layers/dense.hpp"
#include "aigc/layers/dropout.hpp"
#include "aigc/layers/module_tree.hpp"
#include "aigc/layers/reshape.hpp"
#include "aigc/layers/sequential.hpp"

namespace aigc {

/// The model format version this code writes and reads (the "model/format" entry).
inline constexpr std::int64_t model_format_version = 1;

/// What a model file holds once loaded: the module, ready to run (eval mode), and the metadata
/// saved with it (latent size, image shape, class names, ...).
template <class T>
struct ModelFile {
  std::unique_ptr<Module<T>> module;  ///< the network, in eval mode
  Config metadata;                    ///< the key/value metadata saved with it
};

/// How one layer type is written to and built from a model file.
template <class T>
struct LayerType {
  std::string name;  ///< the type's name in files, e.g. "Dense"
  /// Builds a layer from its options (the loader then overwrites its tensors with the file's).
  std::function<std::unique_ptr<Module<T>>(const Config&)> make;
  /// Writes a layer's options (the module is of the registered C++ type).
  std::function<void(const Module<T>&, Config&)> write;
};

namespace detail {

template <class T>
T module_scalar(const Module<T>*);

/// The layer types known to load_model and save_model, by name and by C++ type.
template <class T>
class LayerRegistry {
 public:
  static LayerRegistry& instance() {
    static LayerRegistry registry;
    return registry;
  }

  void add(std::type_index type, LayerType<T> t) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (t.name.empty() || !t.make || !t.write)
      throw ArgumentError("register_layer: a layer type needs a name, a factory and a writer");
    const auto named = by_name_.find(t.name);
    if (named != by_name_.end() && named->second.first != type) {
      throw ArgumentError("register_layer: the layer type name '" + t.name +
                          "' is taken by another C++ type");
    }
    const auto typed = names_.find(type);
    if (typed != names_.end() && typed->second != t.name) by_name_.erase(typed->second);
    names_.insert_or_assign(type, t.name);
    const std::string name = t.name;
    by_name_.insert_or_assign(name, std::make_pair(type, std::move(t)));
  }

  const LayerType<T>* by_name(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &it->second.second;
  }

  const LayerType<T>* by_type(std::type_index type) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = names_.find(type);
    return it == names_.end() ? nullptr : &by_name_.at(it->second).second;
  }

  std::string known() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    for (const auto& [name, entry] : by_name_) out += (out.empty() ? "" : ", ") + name;
    return out;
  }

 private:
  LayerRegistry();

  mutable std::mutex mutex_;
  std::map<std::string, std::pair<std::type_index, LayerType<T>>> by_name_;
  std::map<std::type_index, std::string> names_;
};

}  // namespace detail

/// Registers a layer class M (a Module<T>) under `name`: `make` builds one from its options,
/// `write` writes a layer's options. Afterwards save_model writes layers of type M and
/// load_model builds them. Register before saving or loading; a second registration of M
/// replaces the first.
template <class M, class T = decltype(detail::module_scalar(static_cast<M*>(nullptr)))>
void register_layer(const std::string& name, std::function<std::unique_ptr<M>(const Config&)> make,
                    std::function<void(const M&, Config&)> write) {
  LayerType<T> t;
  t.name = name;
  t.make = [make](const Config& c) -> std::unique_ptr<Module<T>> { return make(c); };
  t.write = [write](const Module<T>& m, Config& c) { write(static_cast<const M&>(m), c); };
  detail::LayerRegistry<T>::instance().add(std::type_index(typeid(M)), std::move(t));
}

/// Registers a layer class M that declares its own type: a static `type_name`, a static
/// `from_config(const Config&)` returning std::unique_ptr<M>, and `write_config(Config&) const`
/// (as every layer of the library does).
template <class M>
void register_layer() {
  register_layer<M>(
      M::type_name, [](const Config& c) { return M::from_config(c); },
      [](const M& m, Config& c) { m.write_config(c); });
}

namespace detail {

template <class T>
LayerRegistry<T>::LayerRegistry() {
  auto add_builtin = [this]<class M>(M*) {
    LayerType<T> t;
    t.name = M::type_name;
    t.make = [](const Config& c) -> std::unique_ptr<Module<T>> { return M::from_config(c); };
    t.write = [](const Module<T>& m, Config& c) { static_cast<const M&>(m).write_config(c); };
    const std::string name = t.name;
    names_.insert_or_assign(std::type_index(typeid(M)), name);
    by_name_.insert_or_assign(name, std::make_pair(std::type_index(typeid(M)), std::move(t)));
  };
  add_builtin(static_cast<Sequential<T>*>(nullptr));
  add_builtin(static_cast<Dense<T>*>(nullptr));
  add_builtin(static_cast<Conv2d<T>*>(nullptr));
  add_builtin(static_cast<ConvTranspose2d<T>*>(nullptr));
  add_builtin(static_cast<BatchNorm1d<T>*>(nullptr));
  add_builtin(static_cast<BatchNorm2d<T>*>(nullptr));
  add_builtin(static_cast<ActivationLayer<T>*>(nullptr));
  add_builtin(static_cast<ReLU<T>*>(nullptr));
  add_builtin(static_cast<LeakyReLU<T>*>(nullptr));
  add_builtin(static_cast<Sigmoid<T>*>(nullptr));
  add_builtin(static_cast<Tanh<T>*>(nullptr));
  add_builtin(static_cast<Dropout<T>*>(nullptr));
  add_builtin(static_cast<Reshape<T>*>(nullptr));
  add_builtin(static_cast<Flatten<T>*>(nullptr));
  add_builtin(static_cast<Conditioning<T>*>(nullptr));
}

/// Puts a Config's values under "<prefix><key>": integers as i64, reals as f64, texts as u8.
inline void put_config(StateDict& s, const std::string& prefix, const Config& c) {
  for (const auto& [key, v] : c.values()) {
    switch (v.kind) {
      case ConfigValue::Kind::ints:
        s.put_array(prefix + key, v.ints.data(), 1, v.ints.size());
        break;
      case ConfigValue::Kind::reals:
        s.put_array(prefix + key, v.reals.data(), 1, v.reals.size());
        break;
      case ConfigValue::Kind::text:
        s.put_array(prefix + key, reinterpret_cast<const std::uint8_t*>(v.text.data()), 1,
                    v.text.size());
        break;
    }
  }
}

/// The value of entry e as a Config value (one row of i64, f64 or u8).
inline ConfigValue config_value(const StateEntry& e, const std::string& source) {
  if (e.rows != 1) {
    throw FileError(source + ": corrupt model file: '" + e.name + "' " + e.shape() +
                    " should be one row");
  }
  ConfigValue v;
  switch (e.dtype) {
    case DType::i64:
      v.ints.resize(e.cols);
      if (e.cols) std::memcpy(v.ints.data(), e.bytes.data(), e.bytes.size());
      break;
    case DType::f64:
      v.kind = ConfigValue::Kind::reals;
      v.reals.resize(e.cols);
      if (e.cols) std::memcpy(v.reals.data(), e.bytes.data(), e.bytes.size());
      break;
    case DType::u8:
      v.kind = ConfigValue::Kind::text;
      v.text.assign(e.bytes.begin(), e.bytes.end());
      break;
    default:
      throw FileError(source + ": corrupt model file: '" + e.name + "' holds " +
                      dtype_name(e.dtype) + " values, not i64, f64 or u8");
  }
  return v;
}

/// The text entry `name` (u8).
inline std::string text_entry(const StateDict& s, const std::string& name) {
  const StateEntry& e = s.at(name);
  if (e.dtype != DType::u8 || e.rows != 1) {
    throw FileError(s.source + ": corrupt model file: '" + name + "' " + e.shape() + " of " +
                    dtype_name(e.dtype) + " should be one row of text (u8)");
  }
  return std::string(e.bytes.begin(), e.bytes.end());
}

/// The parameter and buffer entries of s as element type T (f32 and f64 files load as either).
template <class T>
StateDict tensors_as(const StateDict& s) {
  StateDict out;
  out.source = s.source;
  for (const StateEntry& e : s.entries()) {
    const bool tensor = e.name.rfind("param/", 0) == 0 || e.name.rfind("buffer/", 0) == 0;
    if (!tensor) continue;
    if (e.dtype == dtype_of<T>()) {
      out.put(e);
    } else if (e.dtype == DType::f32 || e.dtype == DType::f64) {
      const std::uint64_t n = e.rows * e.cols;
      std::vector<T> values(n);
      for (std::uint64_t i = 0; i < n; ++i) {
        if (e.dtype == DType::f32) {
          float f;
          std::memcpy(&f, e.bytes.data() + 4 * i, 4);
          values[i] = static_cast<T>(f);
        } else {
          double d;
          std::memcpy(&d, e.bytes.data() + 8 * i, 8);
          values[i] = static_cast<T>(d);
        }
      }
      out.put_array(e.name, values.data(), e.rows, e.cols);
    } else {
      throw FileError(s.source + ": corrupt model file: '" + e.name + "' holds " +
                      dtype_name(e.dtype) + " values, not f32 or f64");
    }
  }
  return out;
}

}  // namespace detail

/// The state of a model file for `module`: "model/..." (format, root name, layer count),
/// "layer/<k>/type|name|parent|option/<key>" for each module in depth-first order (a parent
/// before its children), "meta/<key>", "param/<name>" and "buffer/<name>". Refuses a tree with
/// two tensors of one name (check_unique_names) and a layer whose C++ type is not registered.
template <class T>
StateDict model_state(Module<T>& module, const Config& metadata = {}) {
  check_unique_names(module);
  StateDict s;
  s.put_int("model/format", model_format_version);
  const std::string& root_name = module.name();
  s.put_array("model/name", reinterpret_cast<const std::uint8_t*>(root_name.data()), 1,
              root_name.size());
  std::int64_t count = 0;
  const auto& registry = detail::LayerRegistry<T>::instance();
  std::function<void(Module<T>&, std::int64_t, const std::string&)> write_layer =
      [&](Module<T>& m, std::int64_t parent, const std::string& key) {
        const LayerType<T>* type = registry.by_type(std::type_index(typeid(m)));
        if (!type) {
          throw ArgumentError("save_model: layer '" + m.name() + "' is of C++ type " +
                              typeid(m).name() +
                              ", which has no model file type: register it with register_layer");
        }
        const std::int64_t k = count++;
        const std::string at = "layer/" + std::to_string(k) + "/";
        s.put_array(at + "type", reinterpret_cast<const std::uint8_t*>(type->name.data()), 1,
                    type->name.size());
        s.put_array(at + "name", reinterpret_cast<const std::uint8_t*>(key.data()), 1, key.size());
        s.put_int(at + "parent", parent);
        Config options;
        type->write(m, options);
        detail::put_config(s, at + "option/", options);
        if (auto* seq = dynamic_cast<Sequential<T>*>(&m)) {
          for (std::size_t i = 0; i < seq->size(); ++i)
            write_layer((*seq)[i], k, seq->child_key(i));
        }
      };
  write_layer(module, -1, root_name);
  s.put_int("model/layers", count);
  detail::put_config(s, "meta/", metadata);
  save_module_state(s, module);
  return s;
}

/// Builds the module of a model file's state (see model_state), loads its tensors (f32 or f64,
/// converted to T) and puts it in eval mode. Every error is a FileError (or ShapeError for a
/// tensor whose shape differs from what its layer's options give) naming the file and the layer,
/// option or tensor at fault: an unknown layer type, options out of range, a layer under a
/// parent that is not a container, a missing or extra tensor.
template <class T>
ModelFile<T> parse_model(const StateDict& s) {
  const std::string src = s.source.empty() ? "model" : s.source;
  if (!s.contains("model/format")) {
    throw FileError(src +
                    ": not a model file (no 'model/format' entry); a training checkpoint holds "
                    "tensors only: build the module and load them with load_parameters(path, "
                    "module, prefix)");
  }
  const auto corrupt = [&](const std::string& what) {
    return FileError(src + ": corrupt model file: " + what);
  };
  const std::int64_t format = s.get_int("model/format");
  if (format != model_format_version) {
    throw FileError(src + ": model format version " + std::to_string(format) +
                    " is not supported (this build reads version " +
                    std::to_string(model_format_version) + ")");
  }
  const std::int64_t n = s.get_int("model/layers");
  if (n < 1 || static_cast<std::uint64_t>(n) > s.size())
    throw corrupt("'model/layers' = " + std::to_string(n) + " is not a layer count");
  const std::string root_name = detail::text_entry(s, "model/name");

  // The layers' options, and the tensor values the file holds (the budget of every layer).
  std::vector<Config> options(static_cast<std::size_t>(n));
  std::uint64_t values = 0;
  ModelFile<T> out;
  for (const StateEntry& e : s.entries()) {
    const std::string& name = e.name;
    if (name.rfind("param/", 0) == 0 || name.rfind("buffer/", 0) == 0) {
      values += e.rows * e.cols;
    } else if (name.rfind("meta/", 0) == 0) {
      out.metadata.set(name.substr(5), detail::config_value(e, src));
    } else if (name.rfind("layer/", 0) == 0) {
      const std::size_t slash = name.find('/', 6);
      const std::string index = name.substr(6, slash == std::string::npos ? slash : slash - 6);
      const std::string rest = slash == std::string::npos ? "" : name.substr(slash + 1);
      std::int64_t k = -1;
      if (!index.empty() && index.size() <= 9 &&
          index.find_first_not_of("0123456789") == std::string::npos)
        k = std::stoll(index);
      if (k < 0 || k >= n)
        throw corrupt("entry '" + name + "' names no layer of the " + std::to_string(n));
      if (rest.rfind("option/", 0) == 0) {
        options[static_cast<std::size_t>(k)].set(rest.substr(7), detail::config_value(e, src));
      } else if (rest != "type" && rest != "name" && rest != "parent") {
        throw corrupt("unexpected entry '" + name + "'");
      }
    } else if (name != "model/format" && name != "model/layers" && name != "model/name") {
      throw corrupt("unexpected entry '" + name + "'");
    }
  }

  const auto& registry = detail::LayerRegistry<T>::instance();
  std::vector<Sequential<T>*> containers(static_cast<std::size_t>(n), nullptr);
  std::vector<std::string> paths(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < n; ++k) {
    const std::string at = "layer/" + std::to_string(k) + "/";
    const auto uk = static_cast<std::size_t>(k);
    const std::string type_name = detail::text_entry(s, at + "type");
    const std::string key = detail::text_entry(s, at + "name");
    const std::int64_t parent = s.get_int(at + "parent");
    if (k == 0 ? parent != -1 : (parent < 0 || parent >= k)) {
      throw corrupt("layer " + std::to_string(k) + " ('" + key + "') has parent " +
                    std::to_string(parent) + (k == 0 ? ", the first must have -1" : ""));
    }
    if (k > 0 && !containers[static_cast<std::size_t>(parent)]) {
      throw corrupt("layer '" + key + "' is placed inside layer '" +
                    paths[static_cast<std::size_t>(parent)] + "', which is not a container");
    }
    paths[uk] = k == 0 ? root_name
                       : (paths[static_cast<std::size_t>(parent)].empty()
                              ? key
                              : paths[static_cast<std::size_t>(parent)] + "." + key);
    const std::string where = src + ": layer '" + paths[uk] + "' (" + type_name + ")";
    const LayerType<T>* type = registry.by_name(type_name);
    if (!type) {
      throw FileError(src + ": layer '" + paths[uk] + "' has the unknown layer type '" + type_name +
                      "' (known: " + registry.known() +
                      "); a custom layer must be registered with register_layer before loading");
    }
    Config& c = options[uk];
    c.max_elements = values;
    try {
      std::unique_ptr<Module<T>> m = type->make(c);
      c.check_all_read();
      if (auto* seq = dynamic_cast<Sequential<T>*>(m.get())) containers[uk] = seq;
      if (k == 0) {
        out.module = std::move(m);
      } else {
        containers[static_cast<std::size_t>(parent)]->add(key, std::move(m));
      }
    } catch (const FileError&) {
      throw;
    } catch (const Error& e) {
      throw FileError(where + ": " + e.what());
    }
  }
  out.module->set_name(root_name);
  check_unique_names(*out.module);
  load_module_state(detail::tensors_as<T>(s), *out.module);
  out.module->set_training(false);
  return out;
}

/// Writes `module` (architecture, parameters, buffers) and `metadata` as a model file, atomically
/// (a crash leaves the old file or the new one).
template <class T>
void save_model(const std::string& path, Module<T>& module, const Config& metadata = {}) {
  write_checkpoint(path, model_state(module, metadata));
}

/// Reads a model file: the module, ready to run (eval mode), and its metadata.
template <class T>
ModelFile<T> load_model_file(const std::string& path) {
  return parse_model<T>(read_checkpoint(path));
}

/// Reads a model file's module, ready to run (eval mode).
template <class T>
std::unique_ptr<Module<T>> load_model(const std::string& path) {
  return load_model_file<T>(path).module;
}

}  // namespace aigc
