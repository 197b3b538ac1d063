// aigc: the thread partitioning. Work is split by output ranges whose boundaries depend only on
// the problem, never on timing, so results are bitwise the same for any thread count.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdlib>

#include "aigc/core/tensor.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace aigc {

namespace detail {
inline std::atomic<int>& thread_setting() {
  static std::atomic<int> n{0};  // 0: not set, use OpenMP's default (OMP_NUM_THREADS)
  return n;
}
}  // namespace detail

// Number of threads aigc's kernels use. Defaults to OpenMP's (OMP_NUM_THREADS, else all cores).
inline int num_threads() {
  const int n = detail::thread_setting().load(std::memory_order_relaxed);
  if (n > 0) return n;
#ifdef _OPENMP
  return std::max(1, omp_get_max_threads());
#else
  return 1;
#endif
}

// Sets the number of threads aigc's kernels use; n <= 0 restores the default.
inline void set_num_threads(int n) { detail::thread_setting().store(n > 0 ? n : 0); }

namespace detail {

// Calls f(begin, end) over [0, n) split into at most num_threads() contiguous ranges of at
// least `grain` items each, in parallel. f must only write outputs owned by its range.
template <class F>
void parallel_for(Index n, Index grain, F&& f) {
  if (n <= 0) return;
  const Index max_parts = std::max<Index>(1, n / std::max<Index>(1, grain));
  const int parts = static_cast<int>(std::min<Index>(num_threads(), max_parts));
  if (parts <= 1) {
    f(Index{0}, n);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel for num_threads(parts) schedule(static, 1)
  for (int p = 0; p < parts; ++p) {
    const Index begin = n * p / parts;
    const Index end = n * (p + 1) / parts;
    f(begin, end);
  }
#else
  f(Index{0}, n);
#endif
}

}  // namespace detail
}  // namespace aigc
