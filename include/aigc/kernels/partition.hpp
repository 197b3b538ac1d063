/// @file
/// aigc: how the kernels split their work between threads. Work is split by output ranges whose
/// boundaries depend only on the problem, never on timing or on the thread count where the
/// result would change, so results are bitwise the same for any thread count.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "aigc/core/tensor.hpp"
#include "aigc/kernels/thread_pool.hpp"
#include "aigc/kernels/threads.hpp"

namespace aigc::kernels {

/// The threads a kernel called here can split its work over: num_threads(), or 1 inside a part
/// of a job (whose own jobs run their parts one after the other on this thread, so a split
/// would only cost its cuts: the chunked convolutions' products, each on its part's thread).
inline int available_threads() { return ThreadPool::inside_job() ? 1 : num_threads(); }

/// Runs first() and second(), two independent pieces of work, on two threads when there are two
/// (each piece's kernels then run on its thread alone), else first() then second(): the two
/// halves of a fixed split whose result must not depend on the thread count, such as
/// gemm_depth_halves' two products.
template <class F1, class F2>
void parallel_pair(F1&& first, F2&& second) {
  const int parts = std::min(2, num_threads());
  parallel_parts(parts, [&](int p) {
    if (p == 0) first();
    if (p == 1 || parts == 1) second();
  });
}

/// Chunks of [0, units) shared out between `parts` parts so that they balance themselves. Part p
/// owns the p-th share of the chunks (the units a static split would give it) and takes its own
/// chunks from the front; once they are gone, it takes chunks from the back of the other shares.
/// When the cores are equally fast each part runs its own share, as a static split would, so the
/// data a core keeps in its cache from one pass to the next stays there; when one is slower (its
/// data further away, or another tenant on its core), the other runs the tail of its share
/// instead of waiting for it. Measured on the VAE: the worker's half of a pass took up to 1.6x
/// (small layers) and 1.1x (large GEMMs) the calling thread's, and every pass waited for it.
class BalancedChunks {
 public:
  static constexpr int max_parts = 16;  ///< the most parts a pass is split into

  /// `units` units in chunks of whole units, about `per_part` chunks per part (parts <= max_parts).
  BalancedChunks(Index units, int parts, Index per_part) : units_(units), parts_(parts) {
    chunks_ = std::clamp<Index>(per_part * parts, std::min<Index>(parts, units), units);
    for (int p = 0; p < parts; ++p) {
      const std::uint64_t front = static_cast<std::uint64_t>(chunks_ * p / parts);
      const std::uint64_t back = static_cast<std::uint64_t>(chunks_ * (p + 1) / parts);
      shares_[p].range.store(front << 32 | back, std::memory_order_relaxed);
    }
  }

  /// The units [begin, end) of part p's next chunk; false when no chunk is left anywhere.
  bool next(int p, Index& begin, Index& end) {
    for (int i = 0; i < parts_; ++i) {
      std::atomic<std::uint64_t>& share = shares_[(p + i) % parts_].range;
      std::uint64_t r = share.load(std::memory_order_relaxed);
      while ((r >> 32) < (r & 0xFFFFFFFFu)) {
        const std::uint64_t taken = i == 0 ? r + (std::uint64_t{1} << 32) : r - 1;
        if (share.compare_exchange_weak(r, taken, std::memory_order_relaxed)) {
          const Index c = static_cast<Index>(i == 0 ? r >> 32 : (r & 0xFFFFFFFFu) - 1);
          begin = units_ * c / chunks_;
          end = units_ * (c + 1) / chunks_;
          return true;
        }
      }
    }
    return false;
  }

 private:
  struct alignas(64) Share {
    std::atomic<std::uint64_t> range{0};  ///< its next chunk from the front << 32 | its end
  };
  Share shares_[max_parts];
  Index units_, chunks_ = 1;
  int parts_;
};

/// Chunks per part when parts balance themselves (BalancedChunks): enough for one core to take
/// over a quarter of a slower core's share, few enough that claiming them costs nothing measurable.
inline constexpr Index balance_chunks = 4;

/// Calls f(begin, end) over [0, n) split into at most num_threads() contiguous ranges of at
/// least `grain` items each, in parallel. f must only write outputs owned by its range.
template <class F>
void parallel_for(Index n, Index grain, F&& f) {
  if (n <= 0) return;
  const Index max_parts = std::max<Index>(1, n / std::max<Index>(1, grain));
  const int parts = static_cast<int>(std::min<Index>(num_threads(), max_parts));
  parallel_parts(parts, [&](int p) {
    const Index begin = n * p / parts;
    const Index end = n * (p + 1) / parts;
    if (begin < end) f(begin, end);
  });
}

/// Calls f(begin, end) over [0, n) one unit at a time, the units claimed by the threads so that
/// they balance themselves (BalancedChunks: each runs its own share first, then takes units from
/// the back of a slower one's). For passes of independent units whose results do not depend on
/// the thread that runs them: the chunked convolutions' products, whose halves a static split
/// made one core wait for the other whenever another tenant slowed that core down.
template <class F>
void parallel_for_balanced(Index n, F&& f) {
  if (n <= 0) return;
  const int parts =
      static_cast<int>(std::min<Index>({num_threads(), n, Index{BalancedChunks::max_parts}}));
  BalancedChunks units(n, parts, (n + parts - 1) / parts);
  parallel_parts(parts, [&](int p) {
    Index begin = 0, end = 0;
    while (units.next(p, begin, end)) f(begin, end);
  });
}

/// Like parallel_for, with the range boundaries on multiples of `align` (vector widths, tiles):
/// f(begin, end) over [0, n) split into at most num_threads() ranges of at least `grain` items.
template <class F>
void parallel_for_aligned(Index n, Index align, Index grain, F&& f) {
  if (n <= 0) return;
  const Index units = (n + align - 1) / align;
  const Index max_parts = std::max<Index>(1, n / std::max<Index>(1, grain));
  const int parts = static_cast<int>(std::min<Index>({num_threads(), max_parts, units}));
  parallel_parts(parts, [&](int p) {
    const Index begin = std::min(n, units * p / parts * align);
    const Index end = std::min(n, units * (p + 1) / parts * align);
    if (begin < end) f(begin, end);
  });
}

}  // namespace aigc::kernels
