/// @file
/// aigc: the processes of a data-parallel run as a trainer sees them: its own rank, how many there
/// are, and a sum over all of them in a fixed order. aigc/distributed/ implements it over MPI;
/// nothing here knows a transport.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
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

/// Sums the gradients of `params` over `group`: each process's gradients, times `scale`, are
/// packed into `packed`, summed in the group's fixed order and unpacked.
template <class T>
void sum_gradients(ProcessGroup& group, const std::vector<Param<T>*>& params, T scale,
                   std::vector<T>& packed) {
  std::size_t n = 0;
  for (const Param<T>* p : params) n += static_cast<std::size_t>(p->grad.size());
  packed.resize(n);
  T* out = packed.data();
  for (const Param<T>* p : params) {
    const T* g = p->grad.data();
    const Index k = p->grad.size();
    if (scale == T(1)) {
      std::copy(g, g + k, out);
    } else {
      for (Index i = 0; i < k; ++i) out[i] = g[i] * scale;
    }
    out += k;
  }
  group.sum(packed.data(), n);
  const T* in = packed.data();
  for (Param<T>* p : params) {
    std::copy(in, in + p->grad.size(), p->grad.data());
    in += p->grad.size();
  }
}

/// Gives every process of `group` the values of process 0's `buffers` (a sum to which the other
/// processes add zeros, so the bits are process 0's).
template <class T>
void broadcast_buffers(ProcessGroup& group, const std::vector<Buffer<T>*>& buffers,
                       std::vector<T>& packed) {
  std::size_t n = 0;
  for (const Buffer<T>* b : buffers) n += static_cast<std::size_t>(b->value.size());
  if (n == 0) return;
  packed.assign(n, T(0));
  if (group.rank() == 0) {
    T* out = packed.data();
    for (const Buffer<T>* b : buffers)
      out = std::copy(b->value.data(), b->value.data() + b->value.size(), out);
  }
  group.sum(packed.data(), n);
  const T* in = packed.data();
  for (Buffer<T>* b : buffers) {
    std::copy(in, in + b->value.size(), b->value.data());
    in += b->value.size();
  }
}

}  // namespace detail

}  // namespace aigc
