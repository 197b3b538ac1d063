// Data parallel over MPI, end to end: mpirun starts mpi_worker (tests/distributed/mpi_worker.cpp)
// on 1 or 2 processes and these tests compare the states the processes wrote.
#include <sys/wait.h>

#include <aigc/io/checkpoint.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <tuple>

using namespace aigc;
namespace fs = std::filesystem;

namespace {

fs::path work_dir() {
  const fs::path d = fs::temp_directory_path() / ("aigc-distributed-" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

/// Runs mpi_worker on `processes` processes into a fresh folder `name` (kept when resume) and
/// returns mpirun's exit status; the output goes to <folder>.log. Each mpirun gets a temporary
/// folder of its own (TMPDIR, where Open MPI makes its session directory): two mpiruns started in
/// the same instant (ctest runs two tests at a time) both create /tmp/ompi.<host>.<uid>, and
/// Open MPI 4.1 fails the one whose mkdir finds the other's ("File exists", orte_init failed).
int run(int processes, const std::string& name, const std::string& flags, bool resume = false) {
  const fs::path out = work_dir() / name;
  if (!resume) fs::remove_all(out);
  const fs::path tmp = work_dir() / (name + ".tmp");
  fs::create_directories(tmp);
  const std::string cmd = "TMPDIR=" + tmp.string() + " timeout 120 " + AIGC_MPIEXEC +
                          " --allow-run-as-root --oversubscribe --bind-to none -np " +
                          std::to_string(processes) + " " + AIGC_MPI_WORKER + " --out " +
                          out.string() + " " + flags + (resume ? " --resume" : "") + " > " +
                          out.string() + ".log 2>&1";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string log_of(const std::string& name) {
  std::ifstream in(work_dir() / (name + ".log"));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string final_state(const std::string& name, int rank) {
  return (work_dir() / name / ("final-rank" + std::to_string(rank) + ".aigc")).string();
}

std::vector<std::uint8_t> bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

template <class T>
std::vector<double> values_of(const StateEntry& e) {
  std::vector<T> v(e.bytes.size() / sizeof(T));
  std::memcpy(v.data(), e.bytes.data(), e.bytes.size());
  return {v.begin(), v.end()};
}

/// The largest max|a - b| / max|a| over the parameters (float or double) of two states.
double max_relative_difference(const StateDict& a, const StateDict& b) {
  double worst = 0.0;
  int params = 0;
  for (const StateEntry& e : a.entries()) {
    if (e.name.rfind("param/", 0) != 0) continue;
    const StateEntry& f = b.at(e.name);
    REQUIRE(e.bytes.size() == f.bytes.size());
    REQUIRE(e.dtype == f.dtype);
    const std::vector<double> x =
        e.dtype == DType::f32 ? values_of<float>(e) : values_of<double>(e);
    const std::vector<double> y =
        f.dtype == DType::f32 ? values_of<float>(f) : values_of<double>(f);
    double diff = 0.0, scale = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      diff = std::max(diff, std::abs(x[i] - y[i]));
      scale = std::max(scale, std::abs(x[i]));
    }
    worst = std::max(worst, diff / std::max(scale, 1e-30));
    ++params;
  }
  REQUIRE(params > 0);
  return worst;
}

/// The parameters of process 0 and process 1 of a run are the same bits.
void require_same_parameters_on_both(const std::string& name) {
  const StateDict a = read_checkpoint(final_state(name, 0)),
                  b = read_checkpoint(final_state(name, 1));
  for (const StateEntry& e : a.entries()) {
    if (e.name.rfind("param/", 0) == 0 || e.name.rfind("optim", 0) == 0) {
      INFO(e.name);
      REQUIRE((e.bytes == b.at(e.name).bytes));  // one bool: Catch would print both
    }
  }
}

/// 100 steps (10 epochs of 10 batches of 16) on 1 and on 2 processes agree within 1e-5.
void one_against_two(const std::string& model, const std::string& extra = "") {
  const std::string flags = "--model " + model + " --epochs 10 --batches 10 --batch 16 " + extra;
  const std::string one_name = model + "-1", two_name = model + "-2";
  const int one_status = run(1, one_name, flags);
  {
    INFO(log_of(one_name));
    REQUIRE(one_status == 0);
  }
  const int two_status = run(2, two_name, flags);
  INFO(log_of(two_name));
  REQUIRE(two_status == 0);
  const StateDict one = read_checkpoint(final_state(one_name, 0));
  const StateDict two = read_checkpoint(final_state(two_name, 0));
  const char* steps = model == "vae" || model == "cvae" ? "optim/steps" : "gan/d_step_count";
  REQUIRE(one.at(steps).bytes == two.at(steps).bytes);
  const double d = max_relative_difference(one, two);
  WARN(model << " " << extra << ": 1 vs 2 processes after 100 steps, max relative difference "
             << d);
  CHECK(d > 0.0);  // the sums are added in another order: equal bits would mean one process ran
  CHECK(d <= 1e-5);
  require_same_parameters_on_both(two_name);
}

}  // namespace

TEST_CASE("distributed: the VAE on 2 processes matches 1 process after 100 steps") {
  one_against_two("vae");
  one_against_two("cvae");
}

// A GAN's training amplifies rounding differences: in float, 1 and 2 processes agree to 1e-8 for
// the first 20 steps and drift apart after, as any change of summation order would make them.
// In double the drift stays far below the tolerance, which checks the data-parallel arithmetic.
TEST_CASE("distributed: the DCGAN on 2 processes matches 1 process after 100 steps") {
  one_against_two("dcgan", "--double --sync-bn");
}

TEST_CASE("distributed: the cGAN on 2 processes matches 1 process after 100 steps") {
  one_against_two("cgan", "--double");
}

TEST_CASE("distributed: two 2-process runs are bitwise equal, a killed run resumes bitwise") {
  for (const std::string model : {"vae", "dcgan"}) {
    INFO(model);
    const std::string flags = "--model " + model + " --epochs 6 --batches 10 --batch 16";
    REQUIRE(run(2, model + "-a", flags) == 0);
    REQUIRE(run(2, model + "-b", flags) == 0);
    // Files compared as one bool: Catch would print both files' bytes on a failure.
    REQUIRE((bytes_of(final_state(model + "-a", 0)) == bytes_of(final_state(model + "-b", 0))));

    // Killed after step 35, resumed from the checkpoint of step 30 (the end of epoch 3).
    INFO(log_of(model + "-killed"));
    REQUIRE(run(2, model + "-killed", flags + " --fail-at 35 --fail-how kill") != 0);
    REQUIRE(fs::exists(work_dir() / (model + "-killed") / "checkpoints" /
                       (model + "-000000000030.aigc")));
    REQUIRE_FALSE(fs::exists(work_dir() / (model + "-killed") / "checkpoints" /
                             (model + "-000000000040.aigc")));
    REQUIRE(run(2, model + "-killed", flags, true) == 0);
    REQUIRE(
        (bytes_of(final_state(model + "-a", 0)) == bytes_of(final_state(model + "-killed", 0))));
  }
}

TEST_CASE("distributed: the shared-memory sums give the ring's bits") {
  // On one machine the sums go through a shared window, between machines round the ring: the
  // same chunks added in the same order, so the same bits, for 2 and 3 processes (where the
  // order of three terms matters) and with BatchNorm (whose statistics are broadcast).
  for (const auto& [processes, model] :
       {std::pair{2, "vae"}, std::pair{3, "vae"}, std::pair{2, "dcgan"}}) {
    const std::string flags =
        std::string("--model ") + model + " --epochs 2 --batches 10 --batch 15 --sync-bn";
    const std::string name = model + std::to_string(processes);
    INFO(name);
    REQUIRE(run(processes, name + "-shared", flags) == 0);
    REQUIRE(run(processes, name + "-ring", flags + " --ring") == 0);
    for (int r = 0; r < processes; ++r) {
      REQUIRE(
          (bytes_of(final_state(name + "-shared", r)) == bytes_of(final_state(name + "-ring", r))));
    }
  }
}

TEST_CASE("distributed: the sharded update gives the whole update's bits") {
  // Each process sums and updates only the values it owns, then the processes gather them: the
  // same sums in the same order and the same elementwise Adam, so the same bits as every process
  // updating everything, through shared memory and round the ring, for 2 and 3 processes; the
  // moments, gathered for the checkpoints, too.
  for (const auto& [processes, model, ring] :
       {std::tuple{2, "vae", false}, std::tuple{3, "vae", true}, std::tuple{2, "dcgan", false},
        std::tuple{2, "cgan", true}}) {
    const std::string flags = std::string("--model ") + model +
                              " --epochs 2 --batches 10 --batch 15" + (ring ? " --ring" : "");
    const std::string name = model + std::to_string(processes) + (ring ? "-ring" : "-shared");
    INFO(name);
    REQUIRE(run(processes, name + "-sharded", flags) == 0);
    REQUIRE(run(processes, name + "-whole", flags + " --whole-update") == 0);
    // Compared as one bool: Catch would print both files' bytes on a failure.
    for (int r = 0; r < processes; ++r) {
      INFO("process " << r);
      REQUIRE((bytes_of(final_state(name + "-sharded", r)) ==
               bytes_of(final_state(name + "-whole", r))));
    }
    const std::string ckpt = std::string("checkpoints/") + model + "-000000000010.aigc";
    REQUIRE((bytes_of((work_dir() / (name + "-sharded") / ckpt).string()) ==
             bytes_of((work_dir() / (name + "-whole") / ckpt).string())));
  }
}

TEST_CASE("distributed: a run resumes on another number of processes") {
  // The loader's state is global, so a checkpoint written by 2 processes resumes on 1 and one
  // written by 1 on 2; the result matches an uninterrupted run within the tolerance of a
  // changed order of summation, at the same step.
  const std::string flags = "--model vae --epochs 6 --batches 10 --batch 16";
  REQUIRE(run(1, "straight", flags) == 0);
  const StateDict straight = read_checkpoint(final_state("straight", 0));
  for (const auto& [first, then] : {std::pair{2, 1}, std::pair{1, 2}}) {
    const std::string name = "resume-" + std::to_string(first) + "-" + std::to_string(then);
    INFO(name << "\n" << log_of(name));
    REQUIRE(run(first, name, flags + " --fail-at 35 --fail-how kill") != 0);
    REQUIRE(fs::exists(work_dir() / name / "checkpoints" / "vae-000000000030.aigc"));
    const std::string step10 =
        (work_dir() / name / "checkpoints" / "vae-000000000010.aigc").string();
    const std::vector<std::uint8_t> before = bytes_of(step10);
    REQUIRE(run(then, name, flags, true) == 0);
    // Resumed, not started again: a run from step 0 on the other number of processes would
    // have written another step 10.
    REQUIRE((bytes_of(step10) == before));
    const StateDict resumed = read_checkpoint(final_state(name, 0));
    REQUIRE(resumed.at("optim/steps").bytes == straight.at("optim/steps").bytes);
    const double d = max_relative_difference(straight, resumed);
    WARN(name << ": against 1 process straight through, max relative difference " << d);
    CHECK(d <= 1e-5);
  }
}

TEST_CASE("distributed: a process that dies or throws ends the others within 60 s") {
  for (const std::string how : {"kill", "throw"}) {
    INFO(how);
    const auto t0 = std::chrono::steady_clock::now();
    const int status = run(2, "fail-" + how,
                           "--model dcgan --epochs 10 --batches 10 --batch 16 --fail-at 5 "
                           "--fail-how " +
                               how);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    INFO(log_of("fail-" + how));
    WARN(how << ": mpirun exited with " << status << " after " << seconds << " s");
    CHECK(status != 0);
    CHECK(status != 124);  // not ended by timeout: the survivor stopped by itself
    CHECK(seconds < 60.0);
    CHECK_FALSE(fs::exists(final_state("fail-" + how, 0)));
  }
}
