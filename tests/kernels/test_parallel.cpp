#include <aigc/kernels/parallel.hpp>
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

using namespace aigc;

TEST_CASE("set_num_threads sets and restores the thread count", "[parallel]") {
  const int def = num_threads();
  CHECK(def >= 1);
  set_num_threads(3);
  CHECK(num_threads() == 3);
  set_num_threads(0);
  CHECK(num_threads() == def);
}

TEST_CASE("parallel_for and parallel_for_aligned cover each index once", "[parallel]") {
  for (int threads : {1, 2, 3, 7}) {
    set_num_threads(threads);
    for (Index n : {Index{1}, Index{7}, Index{64}, Index{1000}, Index{100003}}) {
      for (Index grain : {Index{1}, Index{100}}) {
        std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
        detail::parallel_for(n, grain, [&](Index b, Index e) {
          for (Index i = b; i < e; ++i) hits[static_cast<std::size_t>(i)]++;
        });
        for (auto& h : hits) REQUIRE(h.load() == 1);
        std::vector<std::atomic<int>> hits2(static_cast<std::size_t>(n));
        std::atomic<int> misaligned{0};  // (no Catch2 assertions on the workers)
        detail::parallel_for_aligned(n, 16, grain, [&](Index b, Index e) {
          if (b % 16 != 0) misaligned++;
          for (Index i = b; i < e; ++i) hits2[static_cast<std::size_t>(i)]++;
        });
        CHECK(misaligned.load() == 0);
        for (auto& h : hits2) REQUIRE(h.load() == 1);
      }
    }
  }
  set_num_threads(0);
}

TEST_CASE("parallel parts run on several threads, nested jobs run inline", "[parallel]") {
  set_num_threads(2);
  std::vector<std::thread::id> ids(2);
  std::atomic<int> inner{0};
  detail::parallel_parts(2, [&](int p) {
    ids[static_cast<std::size_t>(p)] = std::this_thread::get_id();
    detail::parallel_parts(2, [&](int) { inner++; });  // nested: runs on this thread
  });
  CHECK(ids[0] == std::this_thread::get_id());
  CHECK(ids[1] != ids[0]);
  CHECK(inner.load() == 4);
  // Jobs posted from two threads at once: one uses the pool, the other runs inline.
  std::atomic<long> total{0};
  auto job = [&] {
    for (int rep = 0; rep < 200; ++rep) {
      detail::parallel_for(1000, 1, [&](Index b, Index e) { total += e - b; });
    }
  };
  std::thread other(job);
  job();
  other.join();
  CHECK(total.load() == 2 * 200 * 1000);
  set_num_threads(0);
}
