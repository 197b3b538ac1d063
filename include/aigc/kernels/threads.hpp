/// @file
/// aigc: how many threads the kernels use (set_num_threads, num_threads).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>

namespace aigc {

namespace kernels::detail {
inline std::atomic<int>& thread_setting() {
  static std::atomic<int> n{0};  // 0: not set, use the default
  return n;
}

/// OMP_NUM_THREADS if set to a positive number, else the number of hardware threads.
inline int default_num_threads() {
  static const int n = [] {
    if (const char* env = std::getenv("OMP_NUM_THREADS")) {
      const int v = std::atoi(env);  // "4" or the first entry of a list such as "4,2"
      if (v > 0) return v;
    }
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }();
  return n;
}
}  // namespace kernels::detail

/// Number of threads aigc's kernels use. Defaults to OMP_NUM_THREADS, else all hardware threads.
inline int num_threads() {
  const int n = kernels::detail::thread_setting().load(std::memory_order_relaxed);
  return n > 0 ? n : kernels::detail::default_num_threads();
}

/// Sets the number of threads aigc's kernels use; n <= 0 restores the default.
inline void set_num_threads(int n) { kernels::detail::thread_setting().store(n > 0 ? n : 0); }

}  // namespace aigc
