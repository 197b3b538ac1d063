/// @file
/// aigc: a layer's configuration (its options, as Keras' get_config) or a model file's metadata:
/// named integers, reals and texts, read back through getters that check type and range.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "aigc/core/error.hpp"

namespace aigc {

/// Largest size (features, channels, height, width, classes) a layer's configuration accepts.
inline constexpr std::int64_t config_max_size = std::int64_t{1} << 24;

/// Largest number of values of one sample (C*H*W) a layer's configuration accepts.
inline constexpr std::int64_t config_max_sample = std::int64_t{1} << 40;

/// One value of a Config: a list of integers, a list of reals, or bytes (a text, or a list of
/// texts each ending in a NUL byte). Whether a list of one is a scalar is up to the reader.
struct ConfigValue {
  /// What the value holds.
  enum class Kind { ints, reals, text };
  Kind kind = Kind::ints;          ///< which member holds the value
  std::vector<std::int64_t> ints;  ///< Kind::ints
  std::vector<double> reals;       ///< Kind::reals
  std::string text;                ///< Kind::text
};

/// Named values in key order. The getters name the key, the value and the accepted range in their
/// errors, prefixed with `where` (e.g. "g.aigc: layer 'generator.conv1' (Conv2d)").
class Config {
 public:
  std::string where;  ///< prefix of error messages: the file and the layer
  /// Largest number of tensor values the configured layer may allocate (a model file sets it to
  /// the values it holds, so that options cannot ask for more memory than the file could fill).
  std::uint64_t max_elements = std::numeric_limits<std::uint64_t>::max();

  /// Sets `key` to one integer.
  void set_int(const std::string& key, std::int64_t v) { set_ints(key, {v}); }
  /// Sets `key` to a list of integers.
  void set_ints(const std::string& key, std::vector<std::int64_t> v) {
    ConfigValue c;
    c.ints = std::move(v);
    values_[checked_key(key)] = std::move(c);
  }
  /// Sets `key` to false (0) or true (1).
  void set_bool(const std::string& key, bool v) { set_int(key, v ? 1 : 0); }
  /// Sets `key` to one real.
  void set_double(const std::string& key, double v) { set_doubles(key, {v}); }
  /// Sets `key` to a list of reals.
  void set_doubles(const std::string& key, std::vector<double> v) {
    ConfigValue c;
    c.kind = ConfigValue::Kind::reals;
    c.reals = std::move(v);
    values_[checked_key(key)] = std::move(c);
  }
  /// Sets `key` to a text (without NUL bytes).
  void set_string(const std::string& key, const std::string& v) {
    if (v.find('\0') != std::string::npos)
      throw ArgumentError(prefix() + "option '" + key + "': a text cannot hold a NUL byte");
    set_raw_text(key, v);
  }
  /// Sets `key` to a list of texts (without NUL bytes), e.g. class names.
  void set_strings(const std::string& key, const std::vector<std::string>& v) {
    std::string joined;
    for (const std::string& s : v) {
      if (s.find('\0') != std::string::npos)
        throw ArgumentError(prefix() + "option '" + key + "': a text cannot hold a NUL byte");
      joined += s;
      joined += '\0';
    }
    set_raw_text(key, joined);
  }
  /// Sets `key` to a value as stored.
  void set(const std::string& key, ConfigValue v) { values_[checked_key(key)] = std::move(v); }

  /// Whether `key` is set.
  bool contains(const std::string& key) const { return values_.count(key) != 0; }
  /// Every value, by key.
  const std::map<std::string, ConfigValue>& values() const { return values_; }
  /// Number of keys.
  std::size_t size() const { return values_.size(); }
  /// Whether no key is set.
  bool empty() const { return values_.empty(); }

  /// The integer `key`, which must lie in [lo, hi].
  std::int64_t get_int(const std::string& key, std::int64_t lo, std::int64_t hi) const {
    const ConfigValue& v = typed(key, ConfigValue::Kind::ints, "an integer");
    if (v.ints.size() != 1) throw count_error(key, v.ints.size(), "one integer");
    if (v.ints[0] < lo || v.ints[0] > hi) throw range_error(key, std::to_string(v.ints[0]), lo, hi);
    return v.ints[0];
  }
  /// The flag `key` (stored as 0 or 1).
  bool get_bool(const std::string& key) const { return get_int(key, 0, 1) != 0; }
  /// The list of integers `key`, each in [lo, hi], at most max_count of them.
  std::vector<std::int64_t> get_ints(const std::string& key, std::int64_t lo, std::int64_t hi,
                                     std::size_t max_count = 64) const {
    const ConfigValue& v = typed(key, ConfigValue::Kind::ints, "integers");
    if (v.ints.size() > max_count)
      throw count_error(key, v.ints.size(), "at most " + std::to_string(max_count) + " integers");
    for (std::int64_t i : v.ints) {
      if (i < lo || i > hi) throw range_error(key, std::to_string(i), lo, hi);
    }
    return v.ints;
  }
  /// The finite real `key`, which must lie in [lo, hi].
  double get_double(const std::string& key, double lo, double hi) const {
    const ConfigValue& v = typed(key, ConfigValue::Kind::reals, "a real");
    if (v.reals.size() != 1) throw count_error(key, v.reals.size(), "one real");
    const double d = v.reals[0];
    if (!std::isfinite(d) || d < lo || d > hi) {
      throw ArgumentError(prefix() + "option '" + key + "' = " + std::to_string(d) +
                          " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) +
                          "]");
    }
    return d;
  }
  /// The text `key`.
  std::string get_string(const std::string& key) const {
    const ConfigValue& v = typed(key, ConfigValue::Kind::text, "a text");
    if (v.text.find('\0') != std::string::npos)
      throw ArgumentError(prefix() + "option '" + key + "' is a list of texts, not one text");
    return v.text;
  }
  /// The list of texts `key`.
  std::vector<std::string> get_strings(const std::string& key) const {
    const ConfigValue& v = typed(key, ConfigValue::Kind::text, "texts");
    if (!v.text.empty() && v.text.back() != '\0')
      throw ArgumentError(prefix() + "option '" + key + "' is one text, not a list of texts");
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i < v.text.size(); ++i) {
      if (v.text[i] == '\0') {
        out.push_back(v.text.substr(start, i - start));
        start = i + 1;
      }
    }
    return out;
  }

  /// Throws unless `elements` tensor values fit in max_elements; `what` says whose they are.
  void check_elements(std::uint64_t elements, const std::string& what) const {
    if (elements > max_elements) {
      throw ArgumentError(prefix() + what + " would hold " + std::to_string(elements) +
                          " values, more than the " + std::to_string(max_elements) +
                          " the file holds");
    }
  }
  /// a * b, or a value above max_elements when the product overflows.
  static std::uint64_t product(std::uint64_t a, std::uint64_t b) {
    if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a)
      return std::numeric_limits<std::uint64_t>::max();
    return a * b;
  }

  /// Throws unless the product of `sizes` (each >= 0), the values of one sample, is at most
  /// config_max_sample; `what` names the sample ("the input image").
  void check_sample(std::initializer_list<std::int64_t> sizes, const std::string& what) const {
    std::uint64_t n = 1;
    for (std::int64_t s : sizes) n = product(n, static_cast<std::uint64_t>(s));
    if (n > static_cast<std::uint64_t>(config_max_sample)) {
      throw ArgumentError(prefix() + what + " would hold " + std::to_string(n) +
                          " values per sample, more than " + std::to_string(config_max_sample));
    }
  }

  /// Throws naming the first key no getter has read: an option this layer does not have.
  void check_all_read() const {
    for (const auto& [key, v] : values_) {
      if (!read_.count(key)) throw ArgumentError(prefix() + "unknown option '" + key + "'");
    }
  }

 private:
  std::string prefix() const { return where.empty() ? "" : where + ": "; }

  const std::string& checked_key(const std::string& key) const {
    if (key.empty() || key.find('/') != std::string::npos || key.find('\0') != std::string::npos)
      throw ArgumentError(prefix() + "option name '" + key + "' must be non-empty, without '/'");
    return key;
  }

  void set_raw_text(const std::string& key, const std::string& text) {
    ConfigValue c;
    c.kind = ConfigValue::Kind::text;
    c.text = text;
    values_[checked_key(key)] = std::move(c);
  }

  const ConfigValue& typed(const std::string& key, ConfigValue::Kind kind, const char* want) const {
    const auto it = values_.find(key);
    if (it == values_.end()) throw ArgumentError(prefix() + "option '" + key + "' is missing");
    read_.insert(key);
    if (it->second.kind != kind)
      throw ArgumentError(prefix() + "option '" + key + "' should hold " + want);
    return it->second;
  }

  ArgumentError count_error(const std::string& key, std::size_t n, const std::string& want) const {
    return ArgumentError(prefix() + "option '" + key + "' holds " + std::to_string(n) +
                         " values, expected " + want);
  }
  ArgumentError range_error(const std::string& key, const std::string& v, std::int64_t lo,
                            std::int64_t hi) const {
    return ArgumentError(prefix() + "option '" + key + "' = " + v + " is out of range [" +
                         std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }

  std::map<std::string, ConfigValue> values_;
  mutable std::set<std::string> read_;
};

}  // namespace aigc
