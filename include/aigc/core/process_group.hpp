/// @file
/// aigc: the processes of a data-parallel run as a trainer sees them: its own rank, how many there
/// are, a sum over all of them in a fixed order, and the sum's two halves for a sharded update
/// (each process owning a part of the values). aigc/distributed/ implements it over MPI; nothing
/// here knows a transport.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "aigc/core/buffer.hpp"
#include "aigc/core/error.hpp"
#include "aigc/core/param.hpp"
#include "aigc/core/tensor.hpp"

namespace aigc {

/// The processes that train one model together, each on its own rows of every global batch.
class ProcessGroup {
 public:
  /// A group is destroyed through this interface.
  virtual ~ProcessGroup() = default;

  /// This process's index, in [0, size()).
  virtual int rank() const = 0;
  /// The number of processes.
  virtual int size() const = 0;
  /// Replaces data[0, n) on every process by the sum over the processes of their data[0, n),
  /// added in an order fixed by size() alone: every process gets the same bits, every run too.
  virtual void sum(float* data, std::size_t n) = 0;
  /// The same in double.
  virtual void sum(double* data, std::size_t n) = 0;

  /// The sum of scattered values in one exchange: the concatenation of `pieces`, each value
  /// multiplied by `scale` first, is replaced by its sum over the processes, and `extras` (a few
  /// doubles, not scaled: losses, counts) by theirs. Every process passes pieces of the same sizes.
  /// The bits are those of scaling, packing into one buffer and calling sum() on it and on
  /// `extras`, which is what this default does; a group may save the copies or the second
  /// exchange.
  virtual void sum_pieces(std::span<const std::span<float>> pieces, float scale,
                          std::span<double> extras) {
    packed_sum(pieces, scale, extras, packed_float_);
  }
  /// The same in double.
  virtual void sum_pieces(std::span<const std::span<double>> pieces, double scale,
                          std::span<double> extras) {
    packed_sum(pieces, scale, extras, packed_double_);
  }

  // A sharded update (ZeRO's first stage: each process updates the values it owns, then the
  // processes gather them) in two halves of the sum: sum_owned_pieces forms only this process's
  // own values of the sum, gather_pieces gives every process every owner's values. The defaults
  // make every process own every value: the whole sum, and nothing to gather.

  /// The values [first, second) of a concatenation of n values that this process owns: whose sum
  /// sum_owned_pieces forms here and whose values gather_pieces sends from here.
  virtual std::pair<std::size_t, std::size_t> owned(std::size_t n) const { return {0, n}; }
  /// sum_pieces, except that afterwards only the values owned(n) of the concatenation need hold
  /// the sum (with the same bits as sum_pieces'); the others are left unspecified. `extras` are
  /// summed in full.
  virtual void sum_owned_pieces(std::span<const std::span<float>> pieces, float scale,
                                std::span<double> extras) {
    sum_pieces(pieces, scale, extras);
  }
  /// The same in double.
  virtual void sum_owned_pieces(std::span<const std::span<double>> pieces, double scale,
                                std::span<double> extras) {
    sum_pieces(pieces, scale, extras);
  }
  /// Replaces each value of the concatenation of `pieces` on every process by its owner's (the
  /// process whose owned() holds it): a copy, no arithmetic. Every process passes pieces of the
  /// same sizes.
  virtual void gather_pieces(std::span<const std::span<float>> pieces) { (void)pieces; }
  /// The same in double.
  virtual void gather_pieces(std::span<const std::span<double>> pieces) { (void)pieces; }

 protected:
  /// sum_pieces through one packed buffer and sum().
  template <class T>
  void packed_sum(std::span<const std::span<T>> pieces, T scale, std::span<double> extras,
                  std::vector<T>& packed) {
    const std::size_t n = pack(pieces, scale, packed);
    if (n > 0) sum(packed.data(), n);
    const T* in = packed.data();
    for (const std::span<T>& p : pieces) {
      std::copy(in, in + p.size(), p.data());
      in += p.size();
    }
    if (!extras.empty()) sum(extras.data(), extras.size());
  }

  /// How many values the pieces hold together.
  template <class T>
  static std::size_t total_size(std::span<const std::span<T>> pieces) {
    std::size_t n = 0;
    for (const std::span<T>& p : pieces) n += p.size();
    return n;
  }

  /// The concatenation of `pieces`, each value times `scale`, into `packed`; returns its length.
  template <class T>
  static std::size_t pack(std::span<const std::span<T>> pieces, T scale, std::vector<T>& packed) {
    const std::size_t n = total_size(pieces);
    packed.resize(n);
    T* out = packed.data();
    for (const std::span<T>& p : pieces) out = scaled_copy(p.data(), p.size(), scale, out);
    return n;
  }

  /// Writes scale * from[0, n) to `to` (a plain copy when scale is 1) and returns to + n.
  template <class T>
  static T* scaled_copy(const T* from, std::size_t n, T scale, T* to) {
    if (scale == T(1)) return std::copy(from, from + n, to);
    for (std::size_t i = 0; i < n; ++i) to[i] = from[i] * scale;
    return to + n;
  }

 private:
  std::vector<float> packed_float_;
  std::vector<double> packed_double_;
};

/// The rows [begin, begin + rows) of a global batch that one process trains on.
struct RowShard {
  Index begin = 0;  ///< the first row
  Index rows = 0;   ///< how many rows
};

/// Process `rank` of `size` trains on rows [rows * rank / size, rows * (rank + 1) / size) of a
/// global batch of `rows`; `who` names the caller in the error when a process would get no row.
inline RowShard shard_rows(Index rows, int rank, int size, const char* who) {
  if (rows < size) {
    throw ArgumentError(std::string(who) + ": a global batch of " + std::to_string(rows) +
                        " rows cannot be shared by " + std::to_string(size) +
                        " processes (at least one row each)");
  }
  const Index begin = rows * rank / size, end = rows * (rank + 1) / size;
  return {begin, end - begin};
}

namespace detail {

/// Gives every process of `group` the values of process 0's `buffers` (a sum to which the other
/// processes add zeros, so the bits are process 0's).
template <class T>
void broadcast_buffers(ProcessGroup& group, const std::vector<Buffer<T>*>& buffers,
                       std::vector<std::span<T>>& pieces) {
  pieces.clear();
  for (Buffer<T>* b : buffers) {
    if (group.rank() != 0) b->value.setZero();
    pieces.emplace_back(b->value.data(), static_cast<std::size_t>(b->value.size()));
  }
  if (pieces.empty()) return;
  group.sum_pieces(pieces, T(1), {});
}

}  // namespace detail

}  // namespace aigc
