/// @file
/// aigc: seeded random numbers, bitwise reproducible on every platform (xoshiro256**).
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>

#include "aigc/core/tensor.hpp"

namespace aigc {

/// A seeded xoshiro256** generator: the same seed gives the same numbers on every platform.
class Rng {
 public:
  /// The generator's 256-bit state.
  using State = std::array<std::uint64_t, 4>;

  /// A generator seeded with `seed` (through splitmix64).
  explicit Rng(std::uint64_t seed = 0) { reseed(seed); }

  /// Restarts the generator from `seed`.
  void reseed(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (auto& s : state_) s = splitmix64(x);
  }

  /// Uniform 64-bit integer.
  std::uint64_t next_u64() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  /// Uniform integer in [0, n), without modulo bias.
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t r;
    do r = next_u64();
    while (r >= limit);
    return r % n;
  }

  /// Standard normal (Box-Muller; both values of a pair used in turn).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1;
    do u1 = uniform();
    while (u1 <= 0.0);
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double a = 2.0 * std::numbers::pi * u2;
    spare_ = r * std::sin(a);
    has_spare_ = true;
    return r * std::cos(a);
  }

  /// Fills t with independent draws from U(lo, hi).
  template <class T>
  void fill_uniform(Tensor<T>& t, double lo, double hi) {
    T* p = t.data();
    for (Index i = 0; i < t.size(); ++i) p[i] = static_cast<T>(uniform(lo, hi));
  }

  /// Fills t with independent draws from N(mean, stddev^2).
  template <class T>
  void fill_normal(Tensor<T>& t, double mean = 0.0, double stddev = 1.0) {
    fill_normal(t.data(), t.size(), mean, stddev);
  }

  /// Fills p[0, n) with independent draws from N(mean, stddev^2).
  template <class T>
  void fill_normal(T* p, Index n, double mean = 0.0, double stddev = 1.0) {
    for (Index i = 0; i < n; ++i) p[i] = static_cast<T>(mean + stddev * normal());
  }

  /// The whole state, for checkpoints.
  struct Snapshot {
    State state;     ///< the xoshiro256** state
    bool has_spare;  ///< whether a second Box-Muller value is pending
    double spare;    ///< the pending value
  };
  /// The generator's whole state.
  Snapshot snapshot() const { return {state_, has_spare_, spare_}; }
  /// Continues from a state taken by snapshot().
  void restore(const Snapshot& s) {
    state_ = s.state;
    has_spare_ = s.has_spare;
    spare_ = s.spare;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  State state_{};
  bool has_spare_ = false;
  double spare_ = 0.0;
};

/// A random generator a module draws from while training (Dropout's masks), with the module's
/// path, so that checkpoints save and restore it.
struct NamedRng {
  std::string name;  ///< e.g. "encoder.drop1.rng"
  Rng* rng;          ///< the module's generator
};

}  // namespace aigc
