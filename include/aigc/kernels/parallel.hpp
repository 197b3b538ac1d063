/// @file
/// aigc: the thread partitioning. Work is split by output ranges whose boundaries depend only on
/// the problem, never on timing, so results are bitwise the same for any thread count.
///
/// The parts run on a small pool of worker threads of aigc's own (the calling thread runs part 0).
/// A worker spins for a fraction of a millisecond waiting for the next job, then sleeps. Starting
/// a job and waiting for it costs about 1 µs on the development machine, against about 3 µs for
/// an OpenMP parallel region; a training step of the VAE starts some 30 of them.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "aigc/core/tensor.hpp"

namespace aigc {

namespace detail {
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
}  // namespace detail

/// Number of threads aigc's kernels use. Defaults to OMP_NUM_THREADS, else all hardware threads.
inline int num_threads() {
  const int n = detail::thread_setting().load(std::memory_order_relaxed);
  return n > 0 ? n : detail::default_num_threads();
}

/// Sets the number of threads aigc's kernels use; n <= 0 restores the default.
inline void set_num_threads(int n) { detail::thread_setting().store(n > 0 ? n : 0); }

namespace detail {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/// The worker threads. run() hands one job (parts 1 .. parts - 1) to the workers and runs part 0
/// itself; one job at a time: a second caller, or a job started from inside a job, runs its
/// parts one after the other on its own thread.
class ThreadPool {
 public:
  static ThreadPool& instance() {
    static ThreadPool pool;
    return pool;
  }

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_.store(true, std::memory_order_relaxed);
      generation_.fetch_add(std::uint64_t{1} << 16, std::memory_order_release);
    }
    generation_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  /// Runs f(p) for p in [0, parts) (parts < 65536); returns when all parts are done.
  template <class F>
  void run(int parts, F& f) {
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock() || in_job()) {
      for (int p = 0; p < parts; ++p) f(p);
      return;
    }
    while (static_cast<int>(threads_.size()) < parts - 1) {
      const int index = static_cast<int>(threads_.size()) + 1;
      threads_.emplace_back([this, index] { work(index); });
    }
    call_ = [](void* ctx, int p) { (*static_cast<F*>(ctx))(p); };
    context_ = &f;
    remaining_.store(parts - 1, std::memory_order_relaxed);
    const std::uint64_t next = ((generation_.load(std::memory_order_relaxed) >> 16) + 1) << 16;
    generation_.store(next | static_cast<std::uint64_t>(parts), std::memory_order_release);
    generation_.notify_all();
    in_job() = true;
    f(0);
    in_job() = false;
    while (remaining_.load(std::memory_order_acquire) > 0) cpu_relax();
  }

 private:
  ThreadPool() = default;

  static bool& in_job() {
    thread_local bool flag = false;
    return flag;
  }

  void work(int index) {
    in_job() = true;
    std::uint64_t seen = 0;
    for (;;) {
      std::uint64_t g = generation_.load(std::memory_order_acquire);
      if (g == seen) {  // spin ~200 µs for the next job, then sleep until one is posted
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; g == seen; ++i) {
          cpu_relax();
          g = generation_.load(std::memory_order_acquire);
          if ((i & 255) == 255 &&
              std::chrono::steady_clock::now() - start > std::chrono::microseconds(200)) {
            generation_.wait(seen, std::memory_order_acquire);
            g = generation_.load(std::memory_order_acquire);
          }
        }
      }
      seen = g;
      if (stop_.load(std::memory_order_relaxed)) return;
      if (index < static_cast<int>(g & 0xFFFF)) {  // a part of this job
        call_(context_, index);
        remaining_.fetch_sub(1, std::memory_order_acq_rel);
      }
    }
  }

  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::atomic<std::uint64_t> generation_{0};  ///< job counter << 16 | number of parts
  std::atomic<int> remaining_{0};
  std::atomic<bool> stop_{false};
  void (*call_)(void*, int) = nullptr;
  void* context_ = nullptr;
};

/// Calls f(p) for p in [0, parts), one part per thread, in parallel.
template <class F>
void parallel_parts(int parts, F&& f) {
  if (parts <= 1) {
    if (parts == 1) f(0);
    return;
  }
  ThreadPool::instance().run(parts, f);
}

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

}  // namespace detail
}  // namespace aigc
