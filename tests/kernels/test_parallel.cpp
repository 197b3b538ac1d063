#include <aigc/kernels/partition.hpp>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
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
        kernels::parallel_for(n, grain, [&](Index b, Index e) {
          for (Index i = b; i < e; ++i) hits[static_cast<std::size_t>(i)]++;
        });
        for (auto& h : hits) REQUIRE(h.load() == 1);
        std::vector<std::atomic<int>> hits2(static_cast<std::size_t>(n));
        std::atomic<int> misaligned{0};  // (no Catch2 assertions on the workers)
        kernels::parallel_for_aligned(n, 16, grain, [&](Index b, Index e) {
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

TEST_CASE("parallel_for_balanced covers each index once, one index per call", "[parallel]") {
  for (int threads : {1, 2, 3, 7}) {
    set_num_threads(threads);
    for (Index n : {Index{1}, Index{2}, Index{7}, Index{64}, Index{1000}}) {
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
      std::atomic<int> wide{0};  // (no Catch2 assertions on the workers)
      kernels::parallel_for_balanced(n, [&](Index b, Index e) {
        if (e != b + 1) wide++;
        for (Index i = b; i < e; ++i) hits[static_cast<std::size_t>(i)]++;
      });
      CHECK(wide.load() == 0);
      for (auto& h : hits) REQUIRE(h.load() == 1);
    }
  }
  set_num_threads(0);
}

TEST_CASE("parallel parts run on several threads, nested jobs run inline", "[parallel]") {
  set_num_threads(2);
  // Part 0 runs on the calling thread; part 1 on a worker unless the caller, done with part 0,
  // finds it unclaimed (a worker not scheduled yet). Part 0 sleeps, so a worker gets to run.
  bool on_worker = false;
  std::atomic<int> inner{0};
  int jobs = 0;
  for (; jobs < 20 && !on_worker; ++jobs) {
    std::vector<std::thread::id> ids(2);
    kernels::parallel_parts(2, [&](int p) {
      ids[static_cast<std::size_t>(p)] = std::this_thread::get_id();
      kernels::parallel_parts(2, [&](int) { inner++; });  // nested: runs on this thread
      if (p == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    });
    CHECK(ids[0] == std::this_thread::get_id());
    on_worker = ids[1] != ids[0];
  }
  CHECK(on_worker);
  CHECK(inner.load() == 4 * jobs);
  // Jobs posted from two threads at once: one uses the pool, the other runs inline.
  std::atomic<long> total{0};
  auto job = [&] {
    for (int rep = 0; rep < 200; ++rep) {
      kernels::parallel_for(1000, 1, [&](Index b, Index e) { total += e - b; });
    }
  };
  std::thread other(job);
  job();
  other.join();
  CHECK(total.load() == 2 * 200 * 1000);
  set_num_threads(0);
}

TEST_CASE("each part of many short jobs in a row runs exactly once", "[parallel]") {
  // Workers wake late and the caller runs the parts they have not claimed: no part may run twice
  // or be lost, and a late worker must not run a part of the next job.
  for (int threads : {2, 3}) {
    set_num_threads(threads);
    bool exact = true;
    for (int job = 0; job < 20000 && exact; ++job) {
      std::vector<std::atomic<int>> counts(static_cast<std::size_t>(threads));
      kernels::parallel_parts(threads, [&](int p) { counts[static_cast<std::size_t>(p)]++; });
      for (auto& c : counts) exact = exact && c.load() == 1;
    }
    CHECK(exact);
  }
  set_num_threads(0);
}

TEST_CASE("parallel_pair runs each of its two pieces once, side by side on two threads",
          "[parallel]") {
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    int first = 0, second = 0;
    std::vector<int> order;
    kernels::parallel_pair([&] { ++first; }, [&] { ++second; });
    CHECK(first == 1);
    CHECK(second == 1);
    if (threads == 1) {  // one thread: first, then second, on the calling thread
      kernels::parallel_pair([&] { order.push_back(1); }, [&] { order.push_back(2); });
      CHECK(order == std::vector<int>{1, 2});
    }
  }
  // Two threads: the second piece runs on a worker unless the caller finds it unclaimed after
  // the first (the first sleeps so that a worker gets to it).
  set_num_threads(2);
  bool apart = false;
  for (int job = 0; job < 20 && !apart; ++job) {
    std::thread::id a, b;
    kernels::parallel_pair(
        [&] {
          a = std::this_thread::get_id();
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        },
        [&] { b = std::this_thread::get_id(); });
    apart = a != b;
  }
  CHECK(apart);
  set_num_threads(0);
}

TEST_CASE("BalancedChunks hands out each unit once: own share from the front, then others' backs",
          "[parallel]") {
  for (Index units : {Index{1}, Index{2}, Index{5}, Index{49}, Index{1000}}) {
    for (int parts : {1, 2, 3, kernels::BalancedChunks::max_parts}) {
      INFO(units << " units, " << parts << " parts");
      // Share q holds the units a static split gives part q: [units q / parts, units (q+1) /
      // parts).
      auto share_of = [&](Index unit) {
        int q = 0;
        while (units * (q + 1) / parts <= unit) ++q;
        return q;
      };
      // Only part 0 claims (the others are slow): it takes its own share in ascending order,
      // then share 1 from its back (descending), then share 2, and so on: every unit once.
      kernels::BalancedChunks chunks(units, parts, 4);
      std::vector<int> hits(static_cast<std::size_t>(units));
      int share = 0;
      Index expect_begin = 0, prev_begin = units;
      bool in_order = true;
      Index b = 0, e = 0;
      while (chunks.next(0, b, e)) {
        REQUIRE(b < e);
        REQUIRE(e <= units);
        for (Index i = b; i < e; ++i) hits[static_cast<std::size_t>(i)]++;
        const int q = share_of(b);
        in_order = in_order && share_of(e - 1) == q && q >= share;
        if (q == 0) {
          in_order = in_order && b == expect_begin;
          expect_begin = e;
        } else {
          if (q != share) prev_begin = units * (q + 1) / parts;  // a new share: from its end
          in_order = in_order && e == prev_begin;
          prev_begin = b;
        }
        share = q;
      }
      for (int h : hits) REQUIRE(h == 1);
      CHECK(in_order);
    }
  }
  // All parts claiming at once, on the pool's threads: each unit exactly once.
  for (int threads : {2, 3}) {
    set_num_threads(threads);
    for (int rep = 0; rep < 200; ++rep) {
      const Index units = 97;
      kernels::BalancedChunks chunks(units, threads, 4);
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(units));
      kernels::parallel_parts(threads, [&](int p) {
        Index b = 0, e = 0;
        while (chunks.next(p, b, e)) {
          for (Index i = b; i < e; ++i) hits[static_cast<std::size_t>(i)]++;
        }
      });
      bool once = true;
      for (auto& h : hits) once = once && h.load() == 1;
      REQUIRE(once);
    }
  }
  set_num_threads(0);
}
