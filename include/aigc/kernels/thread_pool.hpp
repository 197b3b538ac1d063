/// @file
/// aigc: the thread pool under every parallel kernel, and the hook that observes its jobs.
///
/// The parts of a job run on a small pool of worker threads of aigc's own (the calling thread
/// runs part 0). Starting a job and waiting for it costs about a microsecond, against several for
/// an OpenMP parallel region; a training step of the VAE starts some 30 of them. Which thread runs
/// a part never changes its result, so the calling thread, once done with part 0, runs any part no
/// worker has claimed yet: on a busy machine, where a worker may wait milliseconds for a core, a
/// job then costs what one thread would.
///
/// Waiting (a worker for the next job, the caller for a worker's part) spins for a few
/// microseconds, then yields the core for a while, then sleeps on a futex: on a quiet machine the
/// next job arrives while the thread still spins or yields (a yield returns at once when no other
/// thread wants the core), on an oversubscribed one the core goes to whoever needs it.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "aigc/kernels/scratch.hpp"

namespace aigc::kernels {

/// Observes the pool's jobs: benchmarks/bench_vae_jobs records a training step job by job with
/// it. Unset (the default), the pool calls nothing.
struct JobObserver {
  virtual ~JobObserver() = default;
  /// A job of `parts` parts is posted by the calling thread; returns a token for the calls below.
  virtual void* posted(int parts) = 0;
  /// The calling thread finished the parts it ran.
  virtual void caller_done(void* job) = 0;
  /// Every part of the job finished.
  virtual void done(void* job) = 0;
  /// A worker starts (starting = true) or finishes a part.
  virtual void worker_part(void* job, bool starting) = 0;
};

/// The observer the pool reports to (null: none).
inline std::atomic<JobObserver*>& job_observer() {
  static std::atomic<JobObserver*> observer{nullptr};
  return observer;
}

/// A spin-wait loop's pause: x86's PAUSE instruction (nothing elsewhere).
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/// Waits until ready() holds: spins for `spin`, yields the core until `yield`, then sleeps in
/// sleep() (which must return when the awaited value changes) and checks again.
template <class Ready, class Sleep>
void wait_until(Ready&& ready, Sleep&& sleep, std::chrono::microseconds spin,
                std::chrono::microseconds yield) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 1; !ready(); ++i) {
    if ((i & 63) != 0) {
      cpu_relax();
      continue;
    }
    const auto waited = std::chrono::steady_clock::now() - start;
    if (waited < spin) continue;
    if (waited < yield) {
      std::this_thread::yield();
    } else {
      sleep();
    }
  }
}

/// The worker threads. run() offers one job's parts 1 .. parts - 1 to the workers, runs part 0
/// itself, then runs the parts no worker has claimed; one job at a time: a second caller, or a
/// job started from inside a job, runs its parts one after the other on its own thread.
class ThreadPool {
 public:
  /// The process's pool, started on first use.
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
    run(
        parts, [](void* context, int p) { (*static_cast<F*>(context))(p); }, &f);
  }

  /// Runs call(context, p) for p in [0, parts); the one body behind every kind of job.
  void run(int parts, void (*call)(void*, int), void* context) {
    // in_job() first: a job started inside a job may come from the thread that holds mutex_, and
    // try_lock by the owner of a std::mutex is undefined.
    std::unique_lock<std::mutex> lock(mutex_, std::defer_lock);
    if (in_job() || !lock.try_lock()) {
      for (int p = 0; p < parts; ++p) call(context, p);
      return;
    }
    if (static_cast<int>(threads_.size()) < parts - 1) {
      while (static_cast<int>(threads_.size()) < parts - 1) {
        const int index = static_cast<int>(threads_.size()) + 1;
        threads_.emplace_back([this, index] { work(index); });
      }
      // Each new worker has set up its thread-local state (whose destructor registration
      // allocates) before this job starts: a busy machine may otherwise start a worker only
      // steps later, and that step would allocate.
      const int n = static_cast<int>(threads_.size());
      for (int s = started_.load(std::memory_order_acquire); s < n;
           s = started_.load(std::memory_order_acquire)) {
        started_.wait(s, std::memory_order_acquire);
      }
    }
    while (static_cast<int>(part_scratch_.size()) < parts) {
      part_scratch_.push_back(std::make_unique<ScratchSet>());
    }
    observer_ = job_observer().load(std::memory_order_acquire);
    token_ = observer_ ? observer_->posted(parts) : nullptr;
    call_ = call;
    context_ = context;
    remaining_.store(parts - 1, std::memory_order_relaxed);
    const std::uint64_t job = ((generation_.load(std::memory_order_relaxed) >> 16) + 1) << 16;
    claim_.store(job | 1, std::memory_order_relaxed);  // part 0 is this thread's
    generation_.store(job | static_cast<std::uint64_t>(parts), std::memory_order_release);
    generation_.notify_all();
    in_job() = true;
    ScratchSet* const own = current_scratch();
    current_scratch() = part_scratch_[0].get();
    call(context, 0);
    run_unclaimed_parts(job, parts, false);
    if (observer_) observer_->caller_done(token_);
    current_scratch() = own;
    in_job() = false;
    // Only parts a worker is running are left.
    wait_until([&] { return remaining_.load(std::memory_order_acquire) <= 0; },
               [&] {
                 const int left = remaining_.load(std::memory_order_acquire);
                 if (left > 0) remaining_.wait(left, std::memory_order_acquire);
               },
               caller_spin, caller_yield);
    if (observer_) observer_->done(token_);
  }

  /// Whether the calling thread is running a part of a job: a job it starts then runs its parts
  /// one after the other on this thread.
  static bool inside_job() { return in_job(); }

 private:
  static constexpr std::chrono::microseconds worker_spin{20}, worker_yield{200};
  static constexpr std::chrono::microseconds caller_spin{20}, caller_yield{100};

  ThreadPool() = default;

  static bool& in_job() {
    thread_local bool flag = false;
    return flag;
  }

  void work(int index) {
    in_job() = true;
    current_scratch();  // its thread-local set registers its destructor now, not at a first claim
    started_.fetch_add(1, std::memory_order_release);
    started_.notify_all();
    std::uint64_t seen = 0;
    for (;;) {
      std::uint64_t g = 0;
      wait_until(
          [&] {
            g = generation_.load(std::memory_order_acquire);
            return g != seen;
          },
          [&] { generation_.wait(seen, std::memory_order_acquire); }, worker_spin, worker_yield);
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
        if (worker && observer_) observer_->worker_part(token_, true);
        call_(context_, p);
        if (worker && observer_) observer_->worker_part(token_, false);
        if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) remaining_.notify_one();
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
  std::atomic<int> started_{0};          ///< workers that have set up their thread-local state
  std::atomic<bool> stop_{false};
  void (*call_)(void*, int) = nullptr;
  void* context_ = nullptr;
  JobObserver* observer_ = nullptr;  ///< the job's observer (job_observer() when it was posted)
  void* token_ = nullptr;            ///< the observer's token for the job
};

/// Calls f(p) for p in [0, parts), one part per thread, in parallel.
template <class F>
void parallel_parts(int parts, F&& f) {
  if (parts <= 1) {
    JobObserver* const observer = job_observer().load(std::memory_order_acquire);
    void* const token = observer ? observer->posted(parts) : nullptr;
    if (parts == 1) f(0);
    if (observer) {
      observer->caller_done(token);
      observer->done(token);
    }
    return;
  }
  ThreadPool::instance().run(parts, f);
}

}  // namespace aigc::kernels
