// The machine under the other benchmarks: how fast its cores exchange a cache line and how
// streaming bandwidth scales from one thread to two, for a working set the size of a training
// step's (a few MB) and one far beyond the caches. Thread scaling of a training step depends on
// both, and on a shared VM they change between runs: benchmarks/run.sh prints this first.
// Usage: bench_machine   (Linux: threads pinned to CPUs 0 and 1)
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

bool pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Nanoseconds for one round trip of a cache line between CPU 0 and CPU 1 (each side waits for
// the other's store before storing).
double round_trip_ns(int trips) {
  alignas(64) static std::atomic<int> flag{0};
  flag.store(0);
  std::thread other([&] {
    pin(1);
    for (int i = 0; i < trips; ++i) {
      while (flag.load(std::memory_order_acquire) != 2 * i + 1) {
      }
      flag.store(2 * i + 2, std::memory_order_release);
    }
  });
  pin(0);
  const auto t0 = Clock::now();
  for (int i = 0; i < trips; ++i) {
    flag.store(2 * i + 1, std::memory_order_release);
    while (flag.load(std::memory_order_acquire) != 2 * i + 2) {
    }
  }
  const double ns = seconds_since(t0) / trips * 1e9;
  other.join();
  return ns;
}

// GB/s of a[i] = b[i] + s * c[i] over arrays of `bytes` each, split over `threads` pinned
// threads (each always the same half), after one untimed pass.
double triad_gbs(std::size_t bytes, int threads, int reps) {
  const std::size_t n = bytes / sizeof(float);
  std::vector<float> a(n, 1.0f), b(n, 2.0f), c(n, 3.0f);
  auto part = [&](int p, int passes) {
    pin(p);
    const std::size_t lo = n * static_cast<std::size_t>(p) / static_cast<std::size_t>(threads);
    const std::size_t hi = n * static_cast<std::size_t>(p + 1) / static_cast<std::size_t>(threads);
    for (int r = 0; r < passes; ++r) {
      for (std::size_t i = lo; i < hi; ++i) a[i] = b[i] + 0.5f * c[i];
    }
  };
  auto run = [&](int passes) {
    std::vector<std::thread> others;
    for (int p = 1; p < threads; ++p) others.emplace_back(part, p, passes);
    part(0, passes);
    for (std::thread& t : others) t.join();
  };
  run(1);
  const auto t0 = Clock::now();
  run(reps);
  return 3.0 * static_cast<double>(bytes) * reps / seconds_since(t0) / 1e9;
}

}  // namespace

int main() {
  if (std::thread::hardware_concurrency() < 2) {
    std::printf("machine: 1 CPU, nothing to compare\n");
    return 0;
  }
  std::printf("machine: cache-line round trip CPU 0 <-> CPU 1: %.0f ns\n", round_trip_ns(200000));
  for (std::size_t mb : {4, 64}) {
    const int reps = mb == 4 ? 200 : 10;
    const double one = triad_gbs(mb << 20, 1, reps), two = triad_gbs(mb << 20, 2, reps);
    std::printf(
        "machine: triad, 3 arrays of %2zu MB: 1 thread %.1f GB/s, 2 threads %.1f GB/s (%.2fx)\n",
        mb, one, two, two / one);
  }
  return 0;
}
