/// @file
/// aigc: the thread partitioning. Work is split by output ranges whose boundaries depend only on
/// the problem, never on timing, so results are bitwise the same for any thread count.
///
/// The parts run on a small pool of worker threads of aigc's own (the calling thread runs part 0).
/// A worker spins for a fraction of a millisecond waiting for the next job, then sleeps. Starting
/// a job and waiting for it costs about 1 µs on the development machine, against about 3 µs for
/// an OpenMP parallel region; a training step of the VAE starts some 30 of them.
///
/// Which thread runs a part never changes its result, so the calling thread, once done with part
/// 0, runs any part no worker has claimed yet. On a busy machine, where a worker may wait
/// milliseconds for a core, a job then costs what one thread would, instead of the caller
/// spinning until the worker is scheduled.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
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

/// One parallel job's timeline, in nanoseconds of steady_clock (benchmarks/bench_vae_jobs).
struct JobRecord {
  std::int64_t posted = 0;        ///< the calling thread offered the job
  std::int64_t caller_done = 0;   ///< the calling thread finished the parts it ran
  std::int64_t done = 0;          ///< every part had finished
  std::int64_t worker_start = 0;  ///< a worker started its first part (0: no worker ran one)
  std::int64_t worker_end = 0;    ///< that worker finished its last part
  int parts = 0;                  ///< parts of the job (1: run on the calling thread alone)
  int depth = 0;                  ///< jobs it runs inside (0: a job of the step itself)
};

#ifdef AIGC_JOB_PROFILE
/// With AIGC_JOB_PROFILE defined, the jobs that `thread` starts are recorded while `on` is set:
/// where a multi-threaded training step waits, part by part. Without it (the default), the hooks
/// below are empty functions.
struct JobProfile {
  static constexpr int capacity = 1 << 18;
  JobRecord jobs[capacity];
  std::atomic<int> count{0};
  bool on = false;
  std::thread::id thread;  ///< the thread whose jobs are recorded
  int depth = 0;           ///< jobs of `thread` running now
};
inline JobProfile& job_profile() {
  static JobProfile profile;
  return profile;
}
inline std::int64_t profile_clock() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
inline JobRecord* begin_job_record(int parts) {
  JobProfile& prof = job_profile();
  const int i = prof.count.load(std::memory_order_relaxed);
  if (!prof.on || i >= JobProfile::capacity || std::this_thread::get_id() != prof.thread) {
    return nullptr;
  }
  prof.count.store(i + 1, std::memory_order_relaxed);
  JobRecord& r = prof.jobs[i];
  r = JobRecord{};
  r.parts = parts;
  r.depth = prof.depth++;
  r.posted = profile_clock();
  return &r;
}
inline void record_caller_done(JobRecord* r) {
  if (r) r->caller_done = profile_clock();
}
inline void record_done(JobRecord* r) {
  if (!r) return;
  r->done = profile_clock();
  --job_profile().depth;
}
inline void record_worker_part(JobRecord* r, bool starting) {
  if (!r) return;
  if (starting && r->worker_start == 0) r->worker_start = profile_clock();
  if (!starting) r->worker_end = profile_clock();
}
#else
inline JobRecord* begin_job_record(int) { return nullptr; }
inline void record_caller_done(JobRecord*) {}
inline void record_done(JobRecord*) {}
inline void record_worker_part(JobRecord*, bool) {}
#endif

/// A growable, 64-byte aligned scratch buffer (the GEMM's packed panels, im2col's padded plane).
/// Grows, never shrinks, so that steady-state calls do not allocate.
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { release(); }

  template <class T>
  T* get(std::size_t count) {
    const std::size_t bytes = count * sizeof(T);
    if (bytes > bytes_) {
      release();
      data_ = ::operator new(bytes, std::align_val_t(64));
      bytes_ = bytes;
    }
    return static_cast<T*>(data_);
  }

 private:
  void release() {
    if (data_) ::operator delete(data_, std::align_val_t(64));
    data_ = nullptr;
    bytes_ = 0;
  }
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

/// The scratch buffers a kernel's part may use (slots 0 .. 3).
struct ScratchSet {
  AlignedBuffer slots[4];
};

/// The scratch set of the work running on this thread: while the thread runs part p of a pooled
/// job, part p's own set (the same whichever thread runs the part, so that which thread runs
/// which part never decides whether a step allocates); otherwise the thread's own set.
inline ScratchSet*& current_scratch() {
  thread_local ScratchSet own;
  thread_local ScratchSet* current = &own;
  return current;
}

/// Slot `slot` of the current scratch set (see current_scratch).
inline AlignedBuffer& scratch(int slot) { return current_scratch()->slots[slot]; }

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/// The worker threads. run() offers one job's parts 1 .. parts - 1 to the workers, runs part 0
/// itself, then runs the parts no worker has claimed; one job at a time: a second caller, or a
/// job started from inside a job, runs its parts one after the other on its own thread.
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
    // in_job() first: a job started inside a job may come from the thread that holds mutex_, and
    // try_lock by the owner of a std::mutex is undefined.
    std::unique_lock<std::mutex> lock(mutex_, std::defer_lock);
    if (in_job() || !lock.try_lock()) {
      for (int p = 0; p < parts; ++p) f(p);
      return;
    }
    while (static_cast<int>(threads_.size()) < parts - 1) {
      const int index = static_cast<int>(threads_.size()) + 1;
      threads_.emplace_back([this, index] { work(index); });
    }
    while (static_cast<int>(part_scratch_.size()) < parts) {
      part_scratch_.push_back(std::make_unique<ScratchSet>());
    }
    record_ = begin_job_record(parts);
    call_ = [](void* ctx, int p) { (*static_cast<F*>(ctx))(p); };
    context_ = &f;
    remaining_.store(parts - 1, std::memory_order_relaxed);
    const std::uint64_t job = ((generation_.load(std::memory_order_relaxed) >> 16) + 1) << 16;
    claim_.store(job | 1, std::memory_order_relaxed);  // part 0 is this thread's
    generation_.store(job | static_cast<std::uint64_t>(parts), std::memory_order_release);
    generation_.notify_all();
    in_job() = true;
    ScratchSet* const own = current_scratch();
    current_scratch() = part_scratch_[0].get();
    f(0);
    run_unclaimed_parts(job, parts, false);
    record_caller_done(record_);
    current_scratch() = own;
    in_job() = false;
    // Only parts a worker is running are left: spin briefly, then give the core away in case
    // that worker shares it with this thread.
    for (int i = 0; remaining_.load(std::memory_order_acquire) > 0; ++i) {
      if (i < 4096) {
        cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
    record_done(record_);
  }

 private:
  ThreadPool() = default;

  static bool& in_job() {
    thread_local bool flag = false;
    return flag;
  }

  void work(int index) {
    in_job() = true;
    current_scratch();  // its thread-local set registers its destructor now, not at a first claim
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
      const int parts = static_cast<int>(g & 0xFFFF);
      if (index < parts)
        run_unclaimed_parts(g & ~std::uint64_t{0xFFFF}, parts, true);  // one of its workers
    }
  }

  /// Claims and runs parts of job `job` (its generation without the part count) until none is
  /// left unclaimed. A claim names the job, so a worker that wakes late never takes a part of
  /// the next job, whose function it has not synchronised with; a part it does claim keeps its
  /// job running (and call_, context_ unchanged) until the part is done.
  void run_unclaimed_parts(std::uint64_t job, int parts, bool worker) {
    std::uint64_t c = claim_.load(std::memory_order_acquire);
    while ((c & ~std::uint64_t{0xFFFF}) == job && static_cast<int>(c & 0xFFFF) < parts) {
      if (claim_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel)) {
        const int p = static_cast<int>(c & 0xFFFF);
        current_scratch() = part_scratch_[static_cast<std::size_t>(p)].get();
        if (worker) record_worker_part(record_, true);
        call_(context_, p);
        if (worker) record_worker_part(record_, false);
        remaining_.fetch_sub(1, std::memory_order_acq_rel);
        c = claim_.load(std::memory_order_acquire);
      }
    }
  }

  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::vector<std::unique_ptr<ScratchSet>> part_scratch_;  ///< one set per part index
  std::atomic<std::uint64_t> generation_{0};               ///< job counter << 16 | number of parts
  std::atomic<std::uint64_t> claim_{0};  ///< job << 16 | its next part nobody has claimed
  std::atomic<int> remaining_{0};        ///< parts 1 .. parts - 1 of the job not finished yet
  std::atomic<bool> stop_{false};
  void (*call_)(void*, int) = nullptr;
  void* context_ = nullptr;
  JobRecord* record_ = nullptr;  ///< the job's record (AIGC_JOB_PROFILE), else null
};

/// Calls f(p) for p in [0, parts), one part per thread, in parallel.
template <class F>
void parallel_parts(int parts, F&& f) {
  if (parts <= 1) {
    JobRecord* const record = begin_job_record(parts);
    if (parts == 1) f(0);
    record_caller_done(record);
    record_done(record);
    return;
  }
  ThreadPool::instance().run(parts, f);
}

/// Runs first() and second(), two independent pieces of work, on two threads when there are two
/// (each piece's kernels then run on its thread alone), else first() then second(): the two
/// halves of a fixed split whose result must not depend on the thread count, such as
/// gemm_depth_halves' two products or the reparameterisation's two halves of eps.
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
  static constexpr int max_parts = 16;

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
