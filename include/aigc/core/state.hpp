/// @file
/// aigc: a state dictionary, named tensors and counters in order: what a checkpoint holds.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "aigc/core/buffer.hpp"
#include "aigc/core/error.hpp"
#include "aigc/core/module.hpp"
#include "aigc/core/param.hpp"
#include "aigc/core/rng.hpp"
#include "aigc/core/tensor.hpp"

namespace aigc {

/// Element type of a state entry; the values are the checkpoint format's type codes.
enum class DType : std::uint8_t { f32 = 1, f64 = 2, i64 = 3, u64 = 4, u8 = 5 };

/// Bytes per element of type t.
inline std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::f32:
      return 4;
    case DType::f64:
    case DType::i64:
    case DType::u64:
      return 8;
    case DType::u8:
      return 1;
  }
  return 0;
}

/// The name of type t ("f32", "f64", "i64", "u64") for messages.
inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32:
      return "f32";
    case DType::f64:
      return "f64";
    case DType::i64:
      return "i64";
    case DType::u64:
      return "u64";
    case DType::u8:
      return "u8";
  }
  return "?";
}

template <class T>
/// The DType of the C++ type T (float, double, std::int64_t, std::uint64_t, std::uint8_t).
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::f32;
  if constexpr (std::is_same_v<T, double>) return DType::f64;
  if constexpr (std::is_same_v<T, std::int64_t>) return DType::i64;
  if constexpr (std::is_same_v<T, std::uint64_t>) return DType::u64;
  if constexpr (std::is_same_v<T, std::uint8_t>) return DType::u8;
}

/// One named entry: a rows x cols array of one element type, as host-order bytes.
struct StateEntry {
  std::string name;                 ///< the entry's unique name, e.g. "param/encoder.fc1.weight"
  DType dtype = DType::f32;         ///< element type
  std::uint64_t rows = 0;           ///< rows of the array
  std::uint64_t cols = 0;           ///< columns of the array
  std::vector<std::uint8_t> bytes;  ///< rows * cols elements, row-major, host byte order

  /// "[rows x cols]" for messages.
  std::string shape() const {
    return "[" + std::to_string(rows) + " x " + std::to_string(cols) + "]";
  }
};

/// Named entries in insertion order, unique names. `source` (a file name, or "") prefixes the
/// messages of lookups that fail.
class StateDict {
 public:
  std::string source;  ///< where the state came from (a file name, or ""), for messages

  /// Adds or replaces an entry.
  void put(StateEntry e) {
    const auto it = index_.find(e.name);
    if (it != index_.end()) {
      entries_[it->second] = std::move(e);
      return;
    }
    index_.emplace(e.name, entries_.size());
    entries_.push_back(std::move(e));
  }

  template <class T>
  /// Adds or replaces entry `name` with a copy of tensor t.
  void put_tensor(const std::string& name, const Tensor<T>& t) {
    put_array(name, t.data(), static_cast<std::uint64_t>(t.rows()),
              static_cast<std::uint64_t>(t.cols()));
  }
  template <class T>
  /// Adds or replaces entry `name` with rows x cols values copied from data.
  void put_array(const std::string& name, const T* data, std::uint64_t rows, std::uint64_t cols) {
    StateEntry e{name, dtype_of<T>(), rows, cols, {}};
    e.bytes.resize(rows * cols * sizeof(T));
    if (!e.bytes.empty()) std::memcpy(e.bytes.data(), data, e.bytes.size());
    put(std::move(e));
  }
  /// Adds or replaces entry `name` with one signed counter.
  void put_int(const std::string& name, std::int64_t v) { put_array(name, &v, 1, 1); }
  /// Adds or replaces entry `name` with one unsigned value.
  void put_u64(const std::string& name, std::uint64_t v) { put_array(name, &v, 1, 1); }

  /// Whether entry `name` exists.
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  /// The entries, in insertion order.
  const std::vector<StateEntry>& entries() const { return entries_; }
  /// Number of entries.
  std::size_t size() const { return entries_.size(); }

  /// The entry `name`; throws FileError naming it when absent.
  const StateEntry& at(const std::string& name) const {
    const auto it = index_.find(name);
    if (it == index_.end()) throw FileError(where() + "no entry '" + name + "'");
    return entries_[it->second];
  }

  /// Copies entry `name` into t, which must already have the entry's shape (it is the model's
  /// tensor); a mismatch throws ShapeError naming the entry and both shapes.
  template <class T>
  void get_tensor(const std::string& name, Tensor<T>& t) const {
    const StateEntry& e = typed(name, dtype_of<T>());
    if (e.rows != static_cast<std::uint64_t>(t.rows()) ||
        e.cols != static_cast<std::uint64_t>(t.cols())) {
      throw ShapeError(where() + "'" + name + "' has shape " + e.shape() + " but the model's is " +
                       shape_string(t));
    }
    if (!e.bytes.empty()) std::memcpy(t.data(), e.bytes.data(), e.bytes.size());
  }

  /// Copies entry `name`, which must hold exactly n values of type T, into out.
  template <class T>
  void get_array(const std::string& name, T* out, std::uint64_t n) const {
    const StateEntry& e = typed(name, dtype_of<T>());
    if (e.rows * e.cols != n) {
      throw ShapeError(where() + "'" + name + "' holds " + std::to_string(e.rows * e.cols) +
                       " values, expected " + std::to_string(n));
    }
    if (n) std::memcpy(out, e.bytes.data(), n * sizeof(T));
  }
  /// The signed counter stored under `name` by put_int.
  std::int64_t get_int(const std::string& name) const {
    std::int64_t v = 0;
    get_array(name, &v, 1);
    return v;
  }
  /// The unsigned value stored under `name` by put_u64.
  std::uint64_t get_u64(const std::string& name) const {
    std::uint64_t v = 0;
    get_array(name, &v, 1);
    return v;
  }

 private:
  std::string where() const { return source.empty() ? "state: " : source + ": "; }

  const StateEntry& typed(const std::string& name, DType want) const {
    const StateEntry& e = at(name);
    if (e.dtype != want) {
      throw FileError(where() + "'" + name + "' holds " + dtype_name(e.dtype) +
                      " values, expected " + dtype_name(want));
    }
    return e;
  }

  std::vector<StateEntry> entries_;
  std::map<std::string, std::size_t> index_;
};

namespace detail {

/// A module's tensor under its full name, for load_named.
template <class T>
struct NamedTensor {
  const std::string* name;  ///< full name, e.g. "generator.bn1.running_mean"
  Tensor<T>* value;         ///< the module's tensor, already of its shape
};

/// Throws ArgumentError naming the first name that two of `items` share (`kind`: "parameter").
template <class T>
void check_unique(const std::vector<NamedTensor<T>>& items, const char* kind) {
  std::map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto [it, fresh] = seen.emplace(*items[i].name, i);
    if (!fresh) {
      throw ArgumentError(std::string("two of the model's ") + kind + "s (number " +
                          std::to_string(it->second) + " and " + std::to_string(i) +
                          ") are both named '" + *items[i].name +
                          "': give every layer its own name (set_name) and name its tensors after "
                          "it");
    }
  }
}

/// Restores each item from "<entry_prefix><name>"; every item's name starts with `scope`, every
/// item is present with its shape, and every entry under "<entry_prefix><scope>" is claimed.
template <class T>
void load_named(const StateDict& s, const std::vector<NamedTensor<T>>& items,
                const std::string& entry_prefix, const std::string& scope, const char* kind) {
  const std::string src = s.source.empty() ? "state" : s.source;
  check_unique(items, kind);
  std::map<std::string, bool> claimed;
  for (const NamedTensor<T>& item : items) {
    const std::string& name = *item.name;
    if (name.rfind(scope, 0) != 0) {
      throw ArgumentError(src + ": the model's " + kind + " '" + name +
                          "' is outside the prefix '" + scope +
                          "' being loaded (name the module after that prefix with " + "set_name)");
    }
    if (!s.contains(entry_prefix + name)) {
      throw FileError(src + ": the model's " + kind + " '" + name + "' " +
                      shape_string(*item.value) + " is missing");
    }
    s.get_tensor(entry_prefix + name, *item.value);
    claimed[entry_prefix + name] = true;
  }
  const std::string under = entry_prefix + scope;
  for (const StateEntry& e : s.entries()) {
    if (e.name.rfind(under, 0) == 0 && !claimed.count(e.name)) {
      throw FileError(src + ": " + kind + " '" + e.name.substr(entry_prefix.size()) + "' " +
                      e.shape() + " is not a " + kind + " of the model" +
                      (scope.empty() ? std::string() : " (under the prefix '" + scope + "')"));
    }
  }
}

template <class T>
std::vector<NamedTensor<T>> named(const std::vector<Param<T>*>& params) {
  std::vector<NamedTensor<T>> out;
  for (Param<T>* p : params) out.push_back({&p->name, &p->value});
  return out;
}

template <class T>
std::vector<NamedTensor<T>> named(const std::vector<Buffer<T>*>& buffers) {
  std::vector<NamedTensor<T>> out;
  for (Buffer<T>* b : buffers) out.push_back({&b->name, &b->value});
  return out;
}

}  // namespace detail

/// Saves parameter values under "<prefix><name>"; two parameters of one name are refused
/// (ArgumentError naming it), as saving one would lose the other.
template <class T>
void save_params(StateDict& s, const std::vector<Param<T>*>& params,
                 const std::string& prefix = "param/") {
  detail::check_unique(detail::named(params), "parameter");
  for (const Param<T>* p : params) s.put_tensor(prefix + p->name, p->value);
}

/// Restores every parameter from "<prefix><name>", checking its shape; entries under the prefix
/// that no parameter claims are an error too (the checkpoint is of another model), and so are two
/// parameters of one name.
template <class T>
void load_params(const StateDict& s, const std::vector<Param<T>*>& params,
                 const std::string& prefix = "param/") {
  detail::load_named(s, detail::named(params), prefix, "", "parameter");
}

/// Saves non-trainable buffers (BatchNorm's running statistics) under "<prefix><name>"; two
/// buffers of one name are refused.
template <class T>
void save_buffers(StateDict& s, const std::vector<Buffer<T>*>& buffers,
                  const std::string& prefix = "buffer/") {
  detail::check_unique(detail::named(buffers), "buffer");
  for (const Buffer<T>* b : buffers) s.put_tensor(prefix + b->name, b->value);
}

/// Restores every buffer from "<prefix><name>", checking names and shapes as load_params does.
template <class T>
void load_buffers(const StateDict& s, const std::vector<Buffer<T>*>& buffers,
                  const std::string& prefix = "buffer/") {
  detail::load_named(s, detail::named(buffers), prefix, "", "buffer");
}

/// Saves a module's parameters ("param/<name>") and buffers ("buffer/<name>").
template <class T>
void save_module_state(StateDict& s, Module<T>& module) {
  save_params(s, module.params());
  save_buffers(s, module.buffers());
}

/// Restores a module's parameters and buffers (BatchNorm's running statistics): each one must be
/// present with its shape, or the FileError names the first one missing. With a `prefix` (e.g.
/// "generator."), only the entries whose names start with it are the module's (the rest of the
/// file, e.g. the discriminator of a GAN checkpoint, is left alone), and every one of those must
/// be claimed; the module's own names are full names, so they start with the prefix too.
template <class T>
void load_module_state(const StateDict& s, Module<T>& module, const std::string& prefix = "") {
  detail::load_named(s, detail::named(module.params()), "param/", prefix, "parameter");
  detail::load_named(s, detail::named(module.buffers()), "buffer/", prefix, "buffer");
}

/// Saves an Rng's state under "<name>" (6 u64: the 4 state words, has_spare, the spare's bits).
inline void save_rng(StateDict& s, const std::string& name, const Rng& rng) {
  const Rng::Snapshot snap = rng.snapshot();
  std::uint64_t v[6] = {
      snap.state[0], snap.state[1], snap.state[2], snap.state[3], snap.has_spare ? 1u : 0u, 0};
  std::memcpy(&v[5], &snap.spare, sizeof(double));
  s.put_array(name, v, 1, 6);
}

/// Restores an Rng's full state saved by save_rng under `name`.
inline void load_rng(const StateDict& s, const std::string& name, Rng& rng) {
  std::uint64_t v[6];
  s.get_array(name, v, 6);
  Rng::Snapshot snap{{v[0], v[1], v[2], v[3]}, v[4] != 0, 0.0};
  std::memcpy(&snap.spare, &v[5], sizeof(double));
  rng.restore(snap);
}

/// Saves the modules' own generators (Dropout's masks) under "<prefix><name>".
inline void save_rngs(StateDict& s, const std::vector<NamedRng>& rngs,
                      const std::string& prefix = "module_rng/") {
  for (const NamedRng& r : rngs) save_rng(s, prefix + r.name, *r.rng);
}

/// Restores every module generator from "<prefix><name>"; one missing, or an entry under the
/// prefix that no module claims, is an error naming it (the checkpoint is of another model).
inline void load_rngs(const StateDict& s, const std::vector<NamedRng>& rngs,
                      const std::string& prefix = "module_rng/") {
  const std::string src = s.source.empty() ? "state" : s.source;
  std::map<std::string, bool> claimed;
  for (const NamedRng& r : rngs) {
    if (!s.contains(prefix + r.name))
      throw FileError(src + ": the model's random generator '" + r.name + "' is missing");
    load_rng(s, prefix + r.name, *r.rng);
    claimed[prefix + r.name] = true;
  }
  for (const StateEntry& e : s.entries()) {
    if (e.name.rfind(prefix, 0) == 0 && !claimed.count(e.name)) {
      throw FileError(src + ": random generator '" + e.name.substr(prefix.size()) +
                      "' is not one of the model's");
    }
  }
}

}  // namespace aigc
