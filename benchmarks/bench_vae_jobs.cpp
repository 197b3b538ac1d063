// Where a step of the default VAE (VaeTrainer, batch 128) waits, job by job: every parallel job
// of the step (a GEMM, an elementwise pass, the loader's gather; "parts 1" runs on the calling
// thread alone) with, in microseconds, medians over the timed steps of
//   gap     serial work of the calling thread since the previous job ended,
//   caller  the calling thread's parts (its own, and any no worker claimed),
//   w.lat   from posting the job to a worker starting a part (- when no worker ran one),
//   worker  the worker's parts,
//   wait    the calling thread waiting for the worker after its own parts,
//   total   posting to the last part's end.
// The jobs run in the same order every step, so job i is the same kernel call in every step; a
// job started inside another (gemm_depth_halves' products on one thread) is marked and left out
// of the sums.
// The jobs are recorded through the thread pool's observer hook (aigc::kernels::JobObserver).
// Usage: bench_vae_jobs [steps = 400] [--data DIR]
#include <aigc/aigc.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "vae_step_main.hpp"

namespace {

/// One parallel job's timeline, in nanoseconds of steady_clock.
struct JobRecord {
  std::int64_t posted = 0;        ///< the calling thread offered the job
  std::int64_t caller_done = 0;   ///< the calling thread finished the parts it ran
  std::int64_t done = 0;          ///< every part had finished
  std::int64_t worker_start = 0;  ///< a worker started its first part (0: no worker ran one)
  std::int64_t worker_end = 0;    ///< that worker finished its last part
  int parts = 0;                  ///< parts of the job (1: run on the calling thread alone)
  int depth = 0;                  ///< jobs it runs inside (0: a job of the step itself)
};

std::int64_t profile_clock() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Records the jobs that `thread` posts while `on` is set.
struct JobProfile final : aigc::kernels::JobObserver {
  static constexpr int capacity = 1 << 18;
  std::vector<JobRecord> jobs = std::vector<JobRecord>(capacity);
  std::atomic<int> count{0};
  bool on = false;
  std::thread::id thread;  ///< the thread whose jobs are recorded
  int depth = 0;           ///< jobs of `thread` running now

  void* posted(int parts) override {
    const int i = count.load(std::memory_order_relaxed);
    if (!on || i >= capacity || std::this_thread::get_id() != thread) return nullptr;
    count.store(i + 1, std::memory_order_relaxed);
    JobRecord& r = jobs[static_cast<std::size_t>(i)];
    r = JobRecord{};
    r.parts = parts;
    r.depth = depth++;
    r.posted = profile_clock();
    return &r;
  }
  void caller_done(void* job) override {
    if (job) static_cast<JobRecord*>(job)->caller_done = profile_clock();
  }
  void done(void* job) override {
    if (!job) return;
    static_cast<JobRecord*>(job)->done = profile_clock();
    --depth;
  }
  void worker_part(void* job, bool starting) override {
    if (!job) return;
    auto* r = static_cast<JobRecord*>(job);
    if (starting && r->worker_start == 0) r->worker_start = profile_clock();
    if (!starting) r->worker_end = profile_clock();
  }
};

double median(std::vector<double> v) {
  if (v.empty()) return -1.0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void run(const aigc::Dataset<float>& train, int threads, int steps) {
  using namespace aigc;
  set_num_threads(threads);
  Rng init(0);
  auto enc = make_vae_encoder<float>(784, 400, 20, init);
  auto dec = make_vae_decoder<float>(20, 400, 784, init);
  VaeTrainer<float> trainer(*enc, *dec, {.latent = 20});
  BatchLoader<float> loader(train, {.batch_size = 128, .shuffle = true, .seed = 0});
  Tensor<float> x;
  auto one_step = [&] {
    if (!loader.next(x)) loader.next(x);  // the next epoch
    trainer.step(x);
  };
  for (int s = 0; s < 100; ++s) one_step();  // sizes the buffers, warms the caches
  static JobProfile prof;
  aigc::kernels::job_observer().store(&prof);
  prof.count.store(0);
  prof.thread = std::this_thread::get_id();
  prof.on = true;
  std::vector<int> first(static_cast<std::size_t>(steps) + 1);
  std::vector<std::int64_t> start(static_cast<std::size_t>(steps) + 1);
  for (int s = 0; s <= steps; ++s) {
    first[static_cast<std::size_t>(s)] = prof.count.load();
    start[static_cast<std::size_t>(s)] = profile_clock();
    if (s < steps) one_step();
  }
  prof.on = false;
  aigc::kernels::job_observer().store(nullptr);
  const int per_step = first[1] - first[0];
  for (int s = 0; s < steps; ++s) {
    if (first[static_cast<std::size_t>(s) + 1] - first[static_cast<std::size_t>(s)] != per_step ||
        first[static_cast<std::size_t>(s) + 1] > JobProfile::capacity) {
      std::printf("%d thread(s): the steps ran different jobs (or too many to record)\n", threads);
      return;
    }
  }
  std::vector<double> step_us;
  for (int s = 0; s < steps; ++s) {
    step_us.push_back(1e-3 * static_cast<double>(start[static_cast<std::size_t>(s) + 1] -
                                                 start[static_cast<std::size_t>(s)]));
  }
  std::printf("%d thread(s): median step %.1f us, %d jobs per step\n", threads, median(step_us),
              per_step);
  std::printf("  job parts      gap   caller    w.lat   worker     wait    total\n");
  double gaps = 0.0, waits = 0.0, totals = 0.0;
  for (int j = 0; j < per_step; ++j) {
    const int depth = prof.jobs[static_cast<std::size_t>(first[0] + j)].depth;
    std::vector<double> gap, caller, latency, worker, wait, total;
    for (int s = 0; s < steps; ++s) {
      const JobRecord* step_jobs = prof.jobs.data() + first[static_cast<std::size_t>(s)];
      const JobRecord& r = step_jobs[j];
      if (depth == 0) {  // since the end of the step's previous job (jobs inside it excluded)
        int k = j - 1;
        while (k >= 0 && step_jobs[k].depth > 0) --k;
        const std::int64_t previous_end =
            k < 0 ? start[static_cast<std::size_t>(s)] : step_jobs[k].done;
        gap.push_back(1e-3 * static_cast<double>(r.posted - previous_end));
      }
      caller.push_back(1e-3 * static_cast<double>(r.caller_done - r.posted));
      if (r.worker_start != 0) {
        latency.push_back(1e-3 * static_cast<double>(r.worker_start - r.posted));
        worker.push_back(1e-3 * static_cast<double>(r.worker_end - r.worker_start));
      }
      wait.push_back(1e-3 * static_cast<double>(r.done - r.caller_done));
      total.push_back(1e-3 * static_cast<double>(r.done - r.posted));
    }
    auto cell = [](const std::vector<double>& v) {
      char buf[16];
      if (v.empty()) return std::string("        -");
      std::snprintf(buf, sizeof buf, " %8.1f", median(v));
      return std::string(buf);
    };
    std::printf(
        "  %3d %5d%s%s%s%s%s%s%s\n", j, prof.jobs[static_cast<std::size_t>(first[0] + j)].parts,
        cell(gap).c_str(), cell(caller).c_str(), cell(latency).c_str(), cell(worker).c_str(),
        cell(wait).c_str(), cell(total).c_str(), depth > 0 ? "  (inside the job above)" : "");
    if (depth > 0) continue;
    gaps += median(gap);
    waits += median(wait);
    totals += median(total);
  }
  std::printf("  sums of the medians: gaps %.1f, waits %.1f, totals %.1f us\n\n", gaps, waits,
              totals);
}

}  // namespace

int main(int argc, char** argv) { return vae_step_main(argc, argv, "bench_vae_jobs", 400, run); }
